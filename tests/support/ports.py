"""Free loopback ports, asked of the kernel (never hard-coded: runs share one machine)."""
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
