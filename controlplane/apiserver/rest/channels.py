"""The channel protocol of pods/exec over WebSocket (v5/v4.channel.k8s.io): pure, no I/O.

Every WebSocket message is binary: one byte naming the stream, then data.
kubectl writes stdin (0) and terminal sizes (4, JSON {"Width", "Height"});
the server writes stdout (1) and stderr (2), and finally a Status on the
error stream (3): Success, or Failure with reason NonZeroExitCode and the
code in details.causes, from which kubectl takes its own exit code. v5
adds a close message (255, then the stream) so kubectl can say stdin ended.
"""
import json

from controlplane.api.v1 import node_agent_pb2 as pb

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
_TRUE = ("1", "true")


class ExecRequestError(ValueError):
    """The query does not describe an exec: a 400 naming the parameter."""


def exec_start(query, *, namespace: str, pod: str) -> pb.ExecStart:
    """The ExecStart for `?command=..&command=..&container=c&stdin=true&tty=true`."""
    command = query.getall("command", [])
    if not command:
        raise ExecRequestError("command: required (one or more command= parameters)")
    return pb.ExecStart(namespace=namespace, pod=pod, container=query.get("container", ""), command=command,
                        stdin=query.get("stdin", "").lower() in _TRUE, tty=query.get("tty", "").lower() in _TRUE)


def attach_start(query, *, namespace: str, pod: str) -> pb.ExecStart:
    """The ExecStart of an attach (`?container=c&stdin=true&tty=true`): no command."""
    return pb.ExecStart(namespace=namespace, pod=pod, container=query.get("container", ""),
                        stdin=query.get("stdin", "").lower() in _TRUE, tty=query.get("tty", "").lower() in _TRUE)


def frame(channel: int, data: bytes) -> bytes:
    return bytes([channel]) + data


def to_input(message: bytes) -> pb.ExecInput | None:
    """The ExecInput a client message stands for; None for what carries nothing to forward."""
    if not message:
        return None
    channel, data = message[0], message[1:]
    if channel == STDIN and data:
        return pb.ExecInput(stdin=data)
    if channel == CLOSE and data[:1] == bytes([STDIN]):
        return pb.ExecInput(stdin_closed=True)
    if channel == RESIZE:
        try:
            size = json.loads(data)
            return pb.ExecInput(resize=pb.TerminalSize(width=int(size.get("Width", 0)),
                                                       height=int(size.get("Height", 0))))
        except (ValueError, TypeError, AttributeError):
            return None
    return None


def outputs(output: pb.ExecOutput) -> list[bytes]:
    """The client messages for one ExecOutput from the agent (the exit code excepted)."""
    found = []
    if output.stdout:
        found.append(frame(STDOUT, output.stdout))
    if output.stderr:
        found.append(frame(STDERR, output.stderr))
    return found


def exit_status(exit_code: int) -> bytes:
    """The error stream's last word: Success, or NonZeroExitCode carrying the code."""
    if exit_code == 0:
        body = {"metadata": {}, "status": "Success"}
    else:
        body = {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                "message": f"command terminated with non-zero exit code: exit status {exit_code}",
                "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]}}
    return frame(ERROR, json.dumps(body).encode())


def failure(status: dict) -> bytes:
    """An error (pod not found, not running, ...) on the error stream."""
    return frame(ERROR, json.dumps(status).encode())
