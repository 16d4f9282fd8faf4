"""`cox trace pod NAME`: one pod's journey through the components, as a timeline
(and `cox trace deployment/NAME`, a rollout's: rollout_trace.py).

Assembled from what the components record, nothing kept for the purpose:
the pod's creation (API server), the Event its controller recorded making it
(replicaset-controller's SuccessfulCreate), its own Events (the scheduler's
Scheduled and the kubelet's Pulling, Pulled, Created, Started, ...), the
moments its conditions turned True and its containers started running (from
its status), the Endpoints that list it, and when each node's proxy had
programmed it as a Service's ready backend (pods/proxyrules: the API server
asks every agent; a node that cannot answer says so in its step). Events and
proxy times are to the microsecond; the API's other times are whole seconds
(shown without milliseconds).
"""
import argparse
import dataclasses
from collections.abc import Sequence

from google.protobuf.message import Message

from controlplane.cli import common, rollout_trace
from controlplane.cli.common import CommandError
from controlplane.cli.printing.table import Table
from controlplane.cli.tracesteps import Step, event_step, ordered, rows, seconds
from controlplane.client import errors

CONDITIONS = ("PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready")


def proxy_steps(rules: Message | None, *, failed: str = "") -> list[Step]:
    """One step per node and Service port the pod's rules were applied for (PodProxyRules); a node that
    has not applied them or could not be asked gets one untimed step. failed: why the whole question
    could not be asked (rules is None then)."""
    if rules is None:
        return [Step(None, False, "kube-proxy", f"rules applied: unknown ({failed})")]
    steps = []
    for node in rules.nodes:
        component = f"kube-proxy ({node.node})"
        if not node.reached:
            steps.append(Step(None, False, component, f"no answer: {node.error}"))
        elif not node.ports:
            steps.append(Step(None, False, component, "rules not applied yet: no Service has this pod ready here"))
        for port in node.ports:
            service = f"{port.namespace}/{port.service}" + (f":{port.number or port.port}"
                                                            if port.number or port.port else "")
            steps.append(Step(port.programmed_at, True, component, f"rules applied: {service} -> this pod"))
    return steps


def _ready_before(steps: list[Step], proxied: list[Step]) -> list[Step]:
    """The Ready condition and the status steps of its second (whole seconds, all of them on the way to
    Ready) placed just before the first rules applied in that second: a pod's rules are applied only once
    it is Ready."""
    first = min((s.at for s in proxied if s.at is not None), default=None)
    ready = next((s.at for s in steps if s.what == "Ready=True"), None)
    if first is None or ready is None or not 0 <= first - ready < 1:
        return steps
    return [dataclasses.replace(s, by=first) if s.late and s.at == ready else s for s in steps]


def timeline(pod: Message, events: list[Message], endpoints: list[Message],
             proxy: Sequence[Step] = ()) -> list[Step]:
    """The pod's steps in time order (those without a time last). proxy: proxy_steps() of the pod."""
    uid, name = pod.metadata.uid, pod.metadata.name
    owners = {ref.uid for ref in pod.metadata.owner_references}
    steps = [Step(seconds(pod.metadata.creation_timestamp), False, "api-server",
                  f"Created: pod {pod.metadata.namespace}/{name} stored")]
    for event in events:
        involved = event.involved_object
        if involved.uid == uid or (involved.uid in owners and event.message.endswith(f" {name}")):
            steps.append(event_step(event))
    for condition in pod.status.conditions:
        if condition.type in CONDITIONS and condition.status == "True":
            steps.append(Step(seconds(condition.last_transition_time), False, "pod status",
                              f"{condition.type}=True", late=True))
    for container in pod.status.container_statuses:
        if container.state.HasField("running"):
            steps.append(Step(seconds(container.state.running.started_at), False, "pod status",
                              f"container {container.name} running", late=True))
    for found in endpoints:
        for subset in found.subsets:
            if any(a.target_ref.uid == uid for a in subset.addresses):
                steps.append(Step(None, False, "endpoints-controller", f"ready address in Endpoints {found.metadata.name}"))
            elif any(a.target_ref.uid == uid for a in subset.not_ready_addresses):
                steps.append(Step(None, False, "endpoints-controller",
                                  f"not-ready address in Endpoints {found.metadata.name}"))
    return ordered(_ready_before(steps, list(proxy)) + list(proxy))


def register(sub) -> None:
    p = sub.add_parser("trace", help="show a pod's journey, or a Deployment's rollout, as a timeline")
    p.add_argument("target", metavar="pod/NAME|deployment/NAME",
                   help="the pod (pod/NAME, or pod NAME) or Deployment (deployment/NAME, deploy/NAME)")
    p.add_argument("name", nargs="?", default="", help=argparse.SUPPRESS)
    common.add_namespace_options(p, all_namespaces=False)
    p.set_defaults(func=run)


KINDS = {"pod": "Pod", "pods": "Pod", "po": "Pod",
         "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment"}


def _target(args) -> tuple[str, str]:
    """(kind, name) from pod/NAME, deployment/NAME or the two words."""
    kind, _, name = args.target.partition("/")
    if not name:
        kind, name = args.target, args.name
    if kind.lower() not in KINDS or not name:
        raise CommandError(f'trace: give pod/NAME or deployment/NAME (only those are traced), not "{args.target}"')
    return KINDS[kind.lower()], name


async def _get(client, kind: str, name: str, namespace: str) -> Message:
    try:
        return await client.resource(kind).get(name, namespace=namespace)
    except errors.NotFound:
        raise CommandError(f'{kind.lower()}s "{name}" not found in namespace "{namespace}"') from None


async def rollout_lines(client, name: str, namespace: str) -> list[str]:
    """The Deployment's rollout trace as printed: its summary, then the table."""
    deployment = await _get(client, "Deployment", name, namespace)
    listed = [(await client.resource(kind).list(namespace=namespace)).items
              for kind in ("ReplicaSet", "Pod", "Event")]
    steps = rollout_trace.timeline(deployment, *listed)
    return [rollout_trace.summary(deployment, steps), *_table(steps)]


def _table(steps: list[Step]) -> list[str]:
    return Table(["TIME", "SINCE", "COMPONENT", "WHAT"]).lines(rows(steps), header=True)


async def run(args) -> int:
    (kind, name), namespace = _target(args), common.namespace(args)
    async with common.connect(args) as client:
        if kind == "Deployment":
            print("\n".join(await rollout_lines(client, name, namespace)))
            return 0
        pod = await _get(client, "Pod", name, namespace)
        events = (await client.resource("Event").list(namespace=namespace)).items
        endpoints = (await client.resource("Endpoints").list(namespace=namespace)).items
        try:
            proxy = proxy_steps(await client.resource("Pod").proxy_rules(name, namespace=namespace))
        except errors.ApiError as e:   # refused (no pods/proxyrules), or an older server: the rest still shows
            proxy = proxy_steps(None, failed=str(e))
    where = f" on node {pod.spec.node_name}" if pod.spec.node_name else " (not scheduled)"
    print(f"pod {namespace}/{name}{where}, phase {pod.status.phase or 'Pending'}")
    for line in _table(timeline(pod, events, endpoints, proxy)):
        print(line)
    return 0
