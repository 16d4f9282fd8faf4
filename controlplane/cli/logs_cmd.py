"""`cox logs POD`: a container's output, relayed from its node's agent by the API server."""
import sys

from controlplane.cli import common


def register(sub) -> None:
    p = sub.add_parser("logs", help="print the logs of a container in a pod")
    p.add_argument("pod", help="pod name (or pod/NAME)")
    p.add_argument("-c", "--container", default="", help="container name (needed when the pod has several)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing as the container writes")
    p.add_argument("--tail", type=int, default=None, metavar="N", help="only the last N lines")
    p.add_argument("-p", "--previous", action="store_true", help="the previous, terminated instance")
    p.add_argument("--timestamps", action="store_true", help="prefix each line with its time")
    p.add_argument("--since", type=int, default=None, metavar="SECONDS", help="only lines newer than this")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(func=run)


def pod_name(word: str) -> str:
    kind, _, name = word.rpartition("/")
    if kind and common.resolve_kind(kind).name != "Pod":
        raise common.CommandError(f"{word}: only pods have logs")
    return name


async def run(args) -> int:
    out = sys.stdout.buffer
    async with common.connect(args) as client:
        async for chunk in client.resource("Pod").logs(
                pod_name(args.pod), namespace=common.namespace(args), container=args.container,
                follow=args.follow, tail_lines=args.tail, previous=args.previous,
                timestamps=args.timestamps, since_seconds=args.since):
            out.write(chunk)
            out.flush()
    return 0
