"""`cox exec POD -- CMD`: run a command in a container, relayed by the API server to its agent.

With -i, this process's stdin is sent to the command; with -t, the terminal
is put in raw mode and its size follows the window. The command's exit code
becomes ours.
"""
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import termios
import tty

import grpc

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.cli import common, pod_target
from controlplane.client import errors


def register(sub) -> None:
    p = sub.add_parser("exec", help="run a command in a container")
    p.add_argument("pod", help="pod name, pod/NAME, or KIND/NAME for one of a workload's pods")
    p.add_argument("command", nargs="+", help="the command, after --")
    p.add_argument("-c", "--container", default="", help="container name (needed when the pod has several)")
    p.add_argument("-i", "--stdin", action="store_true", help="pass stdin to the command")
    p.add_argument("-t", "--tty", action="store_true", help="give the command a terminal")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(func=run)


def _size() -> pb.TerminalSize:
    columns, lines = shutil.get_terminal_size()
    return pb.TerminalSize(width=columns, height=lines)


async def _send_stdin(call) -> None:
    loop = asyncio.get_running_loop()
    read = os.read
    while data := await loop.run_in_executor(None, read, sys.stdin.fileno(), 65536):
        await call.write(pb.ExecInput(stdin=data))
    await call.write(pb.ExecInput(stdin_closed=True))


@contextlib.contextmanager
def _raw_terminal(enabled: bool):
    if not (enabled and sys.stdin.isatty()):
        yield
        return
    saved = termios.tcgetattr(sys.stdin.fileno())
    tty.setraw(sys.stdin.fileno())
    try:
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


async def run(args) -> int:
    namespace = common.namespace(args)
    async with common.connect(args) as client:
        name = await pod_target.pod_name(client, args.pod, namespace, verb="exec into")
        call = await client.resource("Pod").exec(
            name, args.command, namespace=namespace, container=args.container,
            stdin=args.stdin, tty=args.tty)
        loop = asyncio.get_running_loop()
        if args.tty:
            await call.write(pb.ExecInput(resize=_size()))
            loop.add_signal_handler(signal.SIGWINCH, lambda: asyncio.ensure_future(
                call.write(pb.ExecInput(resize=_size()))))
        feeder = asyncio.create_task(_send_stdin(call)) if args.stdin else None
        if feeder is None:
            await call.done_writing()
        exit_code = 0
        try:
            with _raw_terminal(args.tty):
                async for frame in call:
                    for data, stream in ((frame.stdout, sys.stdout.buffer), (frame.stderr, sys.stderr.buffer)):
                        if data:
                            stream.write(data)
                            stream.flush()
                    if frame.HasField("exit_code"):
                        exit_code = frame.exit_code
        except grpc.aio.AioRpcError as e:
            raise errors.from_rpc_error(e) from None
        finally:
            if feeder:
                feeder.cancel()
    return exit_code
