"""`cox logs POD|KIND/NAME|-l SELECTOR`: containers' output, relayed from their nodes' agents by the API server.

A workload (`deploy/web`) stands for one of its pods (cli/pod_target.py);
`-l` prints the logs of every pod it selects, one after the other, or, with
-f, as they come (each line whole), `--prefix` naming the pod and container.
"""
import asyncio
import sys

from controlplane.cli import common, durations, pod_target

SELECTED_TAIL = 10  # kubectl's --tail when -l selects the pods


def register(sub) -> None:
    p = sub.add_parser("logs", help="print the logs of a container in a pod")
    p.add_argument("pod", nargs="?", help="pod name, pod/NAME, or KIND/NAME for one of a workload's pods")
    p.add_argument("-c", "--container", default="", help="container name (needed when the pod has several)")
    p.add_argument("-l", "--selector", default="", help="the logs of every pod this label selector matches")
    p.add_argument("--prefix", action="store_true", help="start each line with [pod/NAME/CONTAINER]")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing as the container writes")
    p.add_argument("--tail", type=int, default=None, metavar="N", help="only the last N lines")
    p.add_argument("-p", "--previous", action="store_true", help="the previous, terminated instance")
    p.add_argument("--timestamps", action="store_true", help="prefix each line with its time")
    p.add_argument("--since", type=durations.whole_seconds, default=None, metavar="DURATION",
                   help="only lines newer than this: 10s, 5m, 1h")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(func=run)


async def run(args) -> int:
    if bool(args.pod) == bool(args.selector):
        raise common.CommandError("name one pod (POD, pod/NAME or KIND/NAME) or select pods with -l")
    namespace = common.namespace(args)
    async with common.connect(args) as client:
        if args.pod:
            name = await pod_target.pod_name(client, args.pod, namespace, verb="get the logs of")
            pods = [await client.resource("Pod").get(name, namespace=namespace)] if args.prefix else []
            await _relay(client, args, namespace, name, label=_label(args, pods[0]) if pods else b"")
            return 0
        pods = await pod_target.pods_selected(client, namespace, args.selector)
        if not pods:
            print(f"No resources found in {namespace} namespace.", file=sys.stderr)
            return 0
        if args.tail is None:
            args.tail = SELECTED_TAIL
        relays = [_relay(client, args, namespace, p.metadata.name, label=_label(args, p) if args.prefix else b"")
                  for p in pods]
        if args.follow:
            await asyncio.gather(*relays)
        else:
            for relay in relays:
                await relay
    return 0


def _label(args, pod) -> bytes:
    container = args.container or (pod.spec.containers[0].name if pod.spec.containers else "")
    return f"[pod/{pod.metadata.name}/{container}] ".encode()


async def _relay(client, args, namespace: str, name: str, *, label: bytes) -> None:
    """One pod's log onto stdout; with a label, line by line so pods' lines never interleave mid-line."""
    out = sys.stdout.buffer
    prefix = bool(label)
    pending = b""
    async for chunk in client.resource("Pod").logs(
            name, namespace=namespace, container=args.container, follow=args.follow, tail_lines=args.tail,
            previous=args.previous, timestamps=args.timestamps, since_seconds=args.since):
        if not prefix:
            out.write(chunk)
        else:
            *lines, pending = (pending + chunk).split(b"\n")
            out.write(b"".join(label + line + b"\n" for line in lines))
        out.flush()
    if pending:
        out.write(label + pending + b"\n")
        out.flush()
