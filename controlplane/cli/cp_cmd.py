"""`cox cp SRC DST`: copy files into or out of a container, as `kubectl cp` does, through tar in the container.

One side is `[NAMESPACE/]POD:PATH`. Out of a pod: `tar cf - -C DIR NAME` runs
in the container and its archive is unpacked here with the top entry renamed
to DST's name; into a pod: the local file or directory is packed here under
DST's name and `tar xmf - -C DSTDIR` unpacks it in the container. The image
needs a tar (busybox's does). Entries that would land outside DST (absolute
paths, `..`, links) are refused.
"""
import io
import os
import posixpath
import tarfile
from dataclasses import dataclass

import grpc

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.cli import common
from controlplane.cli.common import CommandError
from controlplane.client import errors

CHUNK = 64 * 1024


def register(sub) -> None:
    p = sub.add_parser("cp", help="copy files into or out of a container")
    p.add_argument("source", help="LOCAL_PATH or [NAMESPACE/]POD:PATH")
    p.add_argument("destination", help="LOCAL_PATH or [NAMESPACE/]POD:PATH")
    p.add_argument("-c", "--container", default="", help="container name (needed when the pod has several)")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Remote:
    namespace: str
    pod: str
    path: str


def remote(word: str, default_namespace: str) -> Remote | None:
    """The pod side of a cp argument, or None for a local path."""
    where, sep, path = word.partition(":")
    if not sep or not where or where.startswith((".", "/")) or where.count("/") > 1:
        return None
    namespace, _, pod = where.rpartition("/")
    if not path:
        raise CommandError(f"{word}: a path in the pod is required (POD:PATH)")
    return Remote(namespace or default_namespace, pod, path)


async def run_in(client, target: Remote, container: str, command: list[str], stdin: bytes | None) -> bytes:
    """Run `command` in the container with `stdin`; its stdout, or CommandError with its stderr."""
    call = await client.resource("Pod").exec(target.pod, command, namespace=target.namespace, container=container,
                                             stdin=stdin is not None)
    out, err, code = bytearray(), bytearray(), 0
    try:
        if stdin is not None:
            for at in range(0, len(stdin), CHUNK):
                await call.write(pb.ExecInput(stdin=stdin[at:at + CHUNK]))
            await call.write(pb.ExecInput(stdin_closed=True))
        await call.done_writing()
        async for frame in call:
            out += frame.stdout
            err += frame.stderr
            if frame.HasField("exit_code"):
                code = frame.exit_code
    except grpc.aio.AioRpcError as e:
        raise errors.from_rpc_error(e) from None
    if code:
        raise CommandError(f"{' '.join(command[:2])} in {target.pod} exited {code}: "
                           f"{err.decode(errors='replace').strip()}")
    return bytes(out)


def pack(source: str, name: str) -> bytes:
    """The local file or directory as a tar archive whose top entry is `name`."""
    if not os.path.exists(source):
        raise CommandError(f"{source}: no such file or directory")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(source, arcname=name)
    return buffer.getvalue()


def unpack(data: bytes, destination: str) -> None:
    """Unpack an archive whose top entry is renamed to `destination`'s name, next to it."""
    parent, name = os.path.split(os.path.abspath(destination))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
        if not members:
            raise CommandError("nothing was copied")
        top = members[0].name.split("/")[0]
        for member in members:
            parts = member.name.split("/")
            if member.name.startswith("/") or ".." in parts or member.issym() or member.islnk() or parts[0] != top:
                raise CommandError(f"refusing {member.name!r} from the pod: it would land outside {destination}")
            member.name = "/".join([name, *parts[1:]])
        archive.extractall(parent, members=members)


async def run(args) -> int:
    namespace = common.namespace(args)
    source, destination = remote(args.source, namespace), remote(args.destination, namespace)
    if bool(source) == bool(destination):
        raise CommandError("one of SRC and DST must be a pod path (POD:PATH) and the other a local path")
    async with common.connect(args) as client:
        if source:
            directory, name = posixpath.split(source.path.rstrip("/") or "/")
            data = await run_in(client, source, args.container, ["tar", "cf", "-", "-C", directory or "/", name],
                                None)
            unpack(data, args.destination)
        else:
            directory, name = posixpath.split(destination.path.rstrip("/"))
            await run_in(client, destination, args.container, ["tar", "xmf", "-", "-C", directory or "/"],
                         pack(args.source, name))
    return 0
