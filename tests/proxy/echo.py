"""A tiny TCP/UDP echo of a backend's name, and clients for it; run inside test namespaces.

  echo.py serve NAME PORT          answer every TCP connection and UDP datagram on PORT with NAME,
                                   and TCP connections on PORT+1 with "NAME CLIENT-ADDRESS"
  echo.py get HOST PORT COUNT      COUNT TCP connections; print one JSON list of answers/errors
  echo.py udp HOST PORT COUNT      COUNT datagrams from one socket; print the JSON list
  echo.py udpstream HOST PORT      a datagram every 50 ms from one socket; print each answer as a line
  echo.py time HOST PORT COUNT     COUNT TCP connections (connect, answer, close); print seconds of each
"""
import json
import socket
import sys
import threading
import time


def serve(name: str, port: int) -> None:
    reply = name.encode()

    def udp():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", port))
        while True:
            _, peer = sock.recvfrom(100)
            sock.sendto(reply, peer)

    def who_asked():
        server = socket.create_server(("0.0.0.0", port + 1), backlog=128, reuse_port=True)
        while True:
            conn, (peer, _) = server.accept()
            with conn:
                conn.sendall(f"{name} {peer}".encode())

    threading.Thread(target=udp, daemon=True).start()
    threading.Thread(target=who_asked, daemon=True).start()
    server = socket.create_server(("0.0.0.0", port), backlog=128, reuse_port=True)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            conn.sendall(reply)


def get(host: str, port: int, count: int) -> list:
    answers = []
    for _ in range(count):
        started = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=2) as conn:
                answers.append(conn.recv(100).decode())
        except OSError as e:
            answers.append({"error": type(e).__name__, "seconds": round(time.monotonic() - started, 3)})
    return answers


def time_connections(host: str, port: int, count: int) -> list:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.recv(100)
        times.append(time.perf_counter() - started)
    return times


def udp(host: str, port: int, count: int) -> list:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    sock.connect((host, port))  # connected: an ICMP error comes back as ConnectionRefusedError
    answers = []
    for _ in range(count):
        try:
            sock.send(b"?")
            answers.append(sock.recv(100).decode())
        except OSError as e:
            answers.append({"error": type(e).__name__})
    return answers


def udpstream(host: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.05)
    sock.connect((host, port))
    while True:
        try:
            sock.send(b"?")
            print(sock.recv(100).decode(), flush=True)
            time.sleep(0.05)
        except OSError as e:
            print(type(e).__name__, flush=True)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "serve":
        serve(args[0], int(args[1]))
    elif command == "udpstream":
        udpstream(args[0], int(args[1]))
    else:
        print(json.dumps({"get": get, "udp": udp, "time": time_connections}[command](args[0], int(args[1]), int(args[2]))))
