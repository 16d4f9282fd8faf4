"""`cox top nodes` and `cox top pods [-A] [--containers]`: CPU and memory in use, as kubectl top prints them.

Figures come from the NodeMetrics and PodMetrics each node's agent reports
(agent/kubelet/usagereporter.py); a node's percentages are of its
allocatable CPU and memory. CPU is shown in millicores, memory in Mi.
"""
import math

from controlplane.api import quantity
from controlplane.cli import common
from controlplane.cli.common import CommandError
from controlplane.cli.printing.table import Table

SORT_KEYS = ("cpu", "memory")


def register(sub) -> None:
    p = sub.add_parser("top", help="show the CPU and memory nodes and pods use")
    kinds = p.add_subparsers(dest="what", metavar="nodes|pods", required=True)
    nodes = kinds.add_parser("nodes", aliases=["node", "no"], help="the nodes' usage")
    nodes.add_argument("name", nargs="?", default="", help="one node")
    pods = kinds.add_parser("pods", aliases=["pod", "po"], help="the pods' usage")
    pods.add_argument("name", nargs="?", default="", help="one pod")
    common.add_namespace_options(pods)
    pods.add_argument("--containers", action="store_true", help="one line per container")
    pods.add_argument("-l", "--selector", default="", help="only pods with these labels (app=web,tier!=db)")
    for parser in (nodes, pods):
        parser.add_argument("--sort-by", choices=SORT_KEYS, default=None, help="largest first by cpu or memory")
        parser.add_argument("--no-headers", action="store_true", help="print no header line")
        parser.set_defaults(func=run_nodes if parser is nodes else run_pods)


def millicores(text: str) -> int:
    return math.ceil(quantity.parse(text) * 1000) if text else 0


def mebibytes(text: str) -> int:
    return int(quantity.parse(text) // (1024 * 1024)) if text else 0


def _percent(used: int, of: int) -> str:
    return f"{used * 100 // of}%" if of else "<unknown>"


def node_rows(nodes, metrics) -> list[tuple[list[str], tuple[int, int]]]:
    """(cells, (millicores, Mi)) per node, in name order; a node without metrics yet shows <unknown>."""
    by_name = {m.metadata.name: m for m in metrics}
    rows = []
    for node in sorted(nodes, key=lambda n: n.metadata.name):
        found = by_name.get(node.metadata.name)
        if found is None:
            rows.append(([node.metadata.name] + ["<unknown>"] * 4, (-1, -1)))
            continue
        cpu, memory = millicores(found.usage.get("cpu", "")), mebibytes(found.usage.get("memory", ""))
        allocatable = node.status.allocatable
        rows.append(([node.metadata.name, f"{cpu}m", _percent(cpu, millicores(allocatable.get("cpu", ""))),
                      f"{memory}Mi", _percent(memory, mebibytes(allocatable.get("memory", "")))], (cpu, memory)))
    return rows


def pod_rows(metrics, *, all_namespaces: bool, containers: bool) -> list[tuple[list[str], tuple[int, int]]]:
    rows = []
    for pod in sorted(metrics, key=lambda m: (m.metadata.namespace, m.metadata.name)):
        prefix = [pod.metadata.namespace] if all_namespaces else []
        measured = [(c.name, millicores(c.usage.get("cpu", "")), mebibytes(c.usage.get("memory", "")))
                    for c in pod.containers]
        if containers:
            rows += [(prefix + [pod.metadata.name, name, f"{cpu}m", f"{memory}Mi"], (cpu, memory))
                     for name, cpu, memory in measured]
        else:
            cpu, memory = sum(m[1] for m in measured), sum(m[2] for m in measured)
            rows.append((prefix + [pod.metadata.name, f"{cpu}m", f"{memory}Mi"], (cpu, memory)))
    return rows


def _print(header: list[str], rows, args) -> None:
    if args.sort_by:
        rows = sorted(rows, key=lambda row: row[1][SORT_KEYS.index(args.sort_by)], reverse=True)
    for line in Table(header).lines([cells for cells, _ in rows], header=not args.no_headers):
        print(line)


async def run_nodes(args) -> int:
    async with common.connect(args) as client:
        nodes = (await client.resource("Node").list()).items
        metrics = (await client.resource("NodeMetrics").list()).items
    if args.name:
        nodes = [n for n in nodes if n.metadata.name == args.name]
        if not nodes:
            raise CommandError(f'nodes "{args.name}" not found')
    if not metrics:
        raise CommandError("metrics not available yet")
    _print(["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], node_rows(nodes, metrics), args)
    return 0


async def run_pods(args) -> int:
    namespace = common.namespace(args)
    async with common.connect(args) as client:
        metrics = (await client.resource("PodMetrics").list(namespace=namespace)).items
        if args.selector:
            pods = (await client.resource("Pod").list(namespace=namespace, label_selector=args.selector)).items
            wanted = {(p.metadata.namespace, p.metadata.name) for p in pods}
            metrics = [m for m in metrics if (m.metadata.namespace, m.metadata.name) in wanted]
    if args.name:
        metrics = [m for m in metrics if m.metadata.name == args.name]
        if not metrics:
            raise CommandError(f'podmetrics "{args.name}" not found (no usage reported for that pod yet)')
    if not metrics:
        raise CommandError(f'no usage reported yet for pods in {"any namespace" if not namespace else namespace}')
    header = (["NAMESPACE"] if not namespace else []) + (["POD", "NAME"] if args.containers else ["NAME"])
    _print(header + ["CPU(cores)", "MEMORY(bytes)"],
           pod_rows(metrics, all_namespaces=not namespace, containers=args.containers), args)
    return 0
