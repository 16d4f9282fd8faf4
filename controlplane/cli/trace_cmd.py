"""`cox trace pod NAME`: one pod's journey through the components, as a timeline.

Assembled from what the components record, nothing kept for the purpose:
the pod's creation (API server), the Event its controller recorded making it
(replicaset-controller's SuccessfulCreate), its own Events (the scheduler's
Scheduled and the kubelet's Pulling, Pulled, Created, Started, ...), the
moments its conditions turned True and its containers started running (from
its status), and the Endpoints that list it. Events carry eventTime to the
microsecond; the API's other times are whole seconds (shown without
milliseconds).
"""
import argparse
import dataclasses
import datetime

from google.protobuf.message import Message

from controlplane.cli import common
from controlplane.cli.common import CommandError
from controlplane.cli.printing.table import Table
from controlplane.client import errors

CONDITIONS = ("PodScheduled", "Initialized", "ContainersReady", "Ready")


@dataclasses.dataclass(frozen=True)
class Step:
    at: float | None       # seconds since the epoch; None: no time recorded
    precise: bool          # to the microsecond (an Event's eventTime), else whole seconds
    component: str
    what: str
    late: bool = False     # a whole-second time of something that ends a step (a condition, a start):
                           # placed at the end of its second, after that second's precise events


def _seconds(stamp) -> float | None:
    return stamp.seconds + stamp.nanos / 1e9 if stamp.seconds else None


def _event_step(event: Message) -> Step:
    precise = bool(event.event_time.seconds)
    at = _seconds(event.event_time) if precise else _seconds(event.first_timestamp)
    source = event.source.component or event.reporting_component or "?"
    where = f" ({event.source.host})" if event.source.host and source == "kubelet" else ""
    count = f" (x{event.count})" if event.count > 1 else ""
    return Step(at, precise, source + where, f"{event.reason}: {event.message}{count}")


def timeline(pod: Message, events: list[Message], endpoints: list[Message]) -> list[Step]:
    """The pod's steps in time order (those without a time last)."""
    uid, name = pod.metadata.uid, pod.metadata.name
    owners = {ref.uid for ref in pod.metadata.owner_references}
    steps = [Step(_seconds(pod.metadata.creation_timestamp), False, "api-server",
                  f"Created: pod {pod.metadata.namespace}/{name} stored")]
    for event in events:
        involved = event.involved_object
        if involved.uid == uid or (involved.uid in owners and event.message.endswith(f" {name}")):
            steps.append(_event_step(event))
    for condition in pod.status.conditions:
        if condition.type in CONDITIONS and condition.status == "True":
            steps.append(Step(_seconds(condition.last_transition_time), False, "pod status",
                              f"{condition.type}=True", late=True))
    for container in pod.status.container_statuses:
        if container.state.HasField("running"):
            steps.append(Step(_seconds(container.state.running.started_at), False, "pod status",
                              f"container {container.name} running", late=True))
    for found in endpoints:
        for subset in found.subsets:
            if any(a.target_ref.uid == uid for a in subset.addresses):
                steps.append(Step(None, False, "endpoints-controller", f"ready address in Endpoints {found.metadata.name}"))
            elif any(a.target_ref.uid == uid for a in subset.not_ready_addresses):
                steps.append(Step(None, False, "endpoints-controller",
                                  f"not-ready address in Endpoints {found.metadata.name}"))
    return sorted(steps, key=lambda s: (s.at is None, (s.at or 0.0) + (0.999 if s.late else 0.0)))


def rows(steps: list[Step]) -> list[list[str]]:
    start = next((s.at for s in steps if s.at is not None), 0.0)
    out = []
    for step in steps:
        if step.at is None:
            out.append(["-", "-", step.component, step.what])
            continue
        moment = datetime.datetime.fromtimestamp(step.at, datetime.timezone.utc)
        clock = moment.strftime("%H:%M:%S.%f")[:-3] if step.precise else moment.strftime("%H:%M:%S")
        since = f"+{step.at - start:.3f}s" if step.precise else f"+{step.at - start:.0f}s"
        out.append([clock, since, step.component, step.what])
    return out


def register(sub) -> None:
    p = sub.add_parser("trace", help="show a pod's journey through the components as a timeline")
    p.add_argument("target", metavar="pod/NAME", help="the pod (pod/NAME, or pod NAME)")
    p.add_argument("name", nargs="?", default="", help=argparse.SUPPRESS)
    common.add_namespace_options(p, all_namespaces=False)
    p.set_defaults(func=run)


def _pod_name(args) -> str:
    kind, _, name = args.target.partition("/")
    if not name:
        kind, name = args.target, args.name
    if kind not in ("pod", "pods", "po") or not name:
        raise CommandError(f'trace: give pod/NAME (only pods are traced), not "{args.target}"')
    return name


async def run(args) -> int:
    name, namespace = _pod_name(args), common.namespace(args)
    async with common.connect(args) as client:
        try:
            pod = await client.resource("Pod").get(name, namespace=namespace)
        except errors.NotFound:
            raise CommandError(f'pods "{name}" not found in namespace "{namespace}"') from None
        events = (await client.resource("Event").list(namespace=namespace)).items
        endpoints = (await client.resource("Endpoints").list(namespace=namespace)).items
    where = f" on node {pod.spec.node_name}" if pod.spec.node_name else " (not scheduled)"
    print(f"pod {namespace}/{name}{where}, phase {pod.status.phase or 'Pending'}")
    for line in Table(["TIME", "SINCE", "COMPONENT", "WHAT"]).lines(rows(timeline(pod, events, endpoints)),
                                                                      header=True):
        print(line)
    return 0
