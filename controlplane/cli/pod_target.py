"""The pod a command acts on when the user names something else: `logs deploy/web`, `exec job/x`.

As kubectl does, a workload (deployment, replicaset, daemonset, job, or any
kind with a label selector), or a service by its selector, stands for one of
its pods: the one most worth reading — on a node, running, ready, then the
newest. `-l` selects every pod it matches.
"""
import sys

from controlplane.api import selectors
from controlplane.cli import common
from controlplane.cli.common import CommandError
from controlplane.client import Client, errors


def _selector_text(obj) -> str:
    """The label selector of a workload (spec.selector) or a service (its selector map)."""
    selector = getattr(getattr(obj, "spec", None), "selector", None)
    if selector is None:
        raise CommandError(f"cannot pick a pod for a {obj.kind}: it has no pod selector")
    if hasattr(selector, "match_labels"):
        text = str(selectors.from_label_selector(selector))
    else:
        text = ",".join(f"{k}={selector[k]}" for k in sorted(selector))
    if not text:
        raise CommandError(f'{obj.kind.lower()} "{obj.metadata.name}" selects no pods')
    return text


def _rank(pod) -> tuple:
    ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
    phase = {"Running": 0, "Pending": 2}.get(pod.status.phase, 1)
    created = pod.metadata.creation_timestamp
    return (not pod.spec.node_name, phase, not ready, -created.seconds, -created.nanos)


def best(pods: list) -> object:
    return min(pods, key=_rank)


async def pods_selected(client: Client, namespace: str, selector: str) -> list:
    """Every pod `selector` matches, by name."""
    listed = await client.resource("Pod").list(namespace=namespace, label_selector=selector)
    return sorted(listed.items, key=lambda p: p.metadata.name)


async def pod_name(client: Client, word: str, namespace: str, *, verb: str) -> str:
    """The name of the pod `word` (NAME, pod/NAME or KIND/NAME) stands for; CommandError if none."""
    kind_word, _, name = word.rpartition("/")
    if not kind_word:
        return name
    kind = common.resolve_kind(kind_word)
    if kind.name == "Pod":
        return name
    try:
        owner = await client.resource(kind).get(name, namespace=namespace)
    except errors.NotFound:
        raise CommandError(f'{kind.plural} "{name}" not found') from None
    pods = await pods_selected(client, namespace, _selector_text(owner))
    if not pods:
        raise CommandError(f"cannot {verb} {word}: it has no pods")
    chosen = best(pods)
    if len(pods) > 1:
        print(f"Found {len(pods)} pods, using pod/{chosen.metadata.name}", file=sys.stderr)
    return chosen.metadata.name
