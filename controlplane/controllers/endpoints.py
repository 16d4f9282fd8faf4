"""The Endpoints controller: for each Service with a selector, where its pods are.

An Endpoints object named like the Service lists the selected pods' IPs with
the ports to reach them: a Service port's targetPort is a number, or the name
of a container port, looked up in each pod (so pods may differ). Ready pods
go to `addresses`, the others to `notReadyAddresses` (all to `addresses` if
the Service publishes not-ready addresses); pods sharing the same ports share
a subset. A Service without a selector keeps whatever Endpoints its user writes.
"""
from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.api.v1 import core_pb2, meta_pb2
from controlplane.client import errors
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.ownership import clone


def target_port(service_port: Message, pod: Message) -> int | None:
    """The port on `pod` that `service_port` sends to, or None if the pod has no such named port."""
    target = service_port.target_port
    which = target.WhichOneof("kind")
    if which == "number_value":
        return int(target.number_value)
    if which == "string_value":
        try:
            return int(target.string_value)
        except ValueError:
            pass
        protocol = service_port.protocol or "TCP"
        for container in pod.spec.containers:
            for port in container.ports:
                if port.name == target.string_value and (port.protocol or "TCP") == protocol:
                    return port.container_port
        return None
    return service_port.port


def selects(service: Message, pod: Message) -> bool:
    selector = service.spec.selector
    labels = pod.metadata.labels
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _serves(pod: Message, publish_not_ready: bool) -> bool:
    if not pod.status.pod_ip or pod.status.phase in podutil.FINISHED_PHASES:
        return False
    return publish_not_ready or not podutil.is_deleting(pod)


def subsets(service: Message, pods: list[Message]) -> list[core_pb2.EndpointSubset]:
    """The Endpoints subsets for `service` over the pods it selects."""
    publish = service.spec.publish_not_ready_addresses
    groups: dict[tuple, tuple[list, list]] = {}
    for pod in pods:
        if not _serves(pod, publish):
            continue
        ports = []
        for sp in service.spec.ports:
            number = target_port(sp, pod)
            if number is not None:
                ports.append((sp.name, number, sp.protocol or "TCP", sp.app_protocol))
        if service.spec.ports and not ports:
            continue
        address = core_pb2.EndpointAddress(
            ip=pod.status.pod_ip, node_name=pod.spec.node_name,
            target_ref=meta_pb2.ObjectReference(kind="Pod", namespace=pod.metadata.namespace,
                                                name=pod.metadata.name, uid=pod.metadata.uid))
        if pod.spec.hostname and pod.spec.subdomain == service.metadata.name:
            address.hostname = pod.spec.hostname
        ready, not_ready = groups.setdefault(tuple(sorted(ports)), ([], []))
        (ready if publish or podutil.is_ready(pod) else not_ready).append(address)
    result = []
    for ports, (ready, not_ready) in sorted(groups.items()):
        subset = core_pb2.EndpointSubset()
        subset.addresses.extend(sorted(ready, key=lambda a: (a.ip, a.target_ref.name)))
        subset.not_ready_addresses.extend(sorted(not_ready, key=lambda a: (a.ip, a.target_ref.name)))
        for name, number, protocol, app_protocol in ports:
            subset.ports.add(name=name, port=number, protocol=protocol, app_protocol=app_protocol)
        result.append(subset)
    return result


class EndpointsController(Controller):
    name = "endpoints"
    workers = 5
    min_sync_interval = 0.05

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.services = ctx.informers.informer("Service")
        self.services.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.pods = ctx.informers.informer("Pod")
        self.pods.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.endpoints = ctx.informers.informer("Endpoints")
        self.api = ctx.client.resource("Endpoints")
        self.follow(self.services)
        self.endpoints.add_handler(on_delete=self.enqueue)
        self.pods.add_handler(on_add=self._pod_changed, on_delete=self._pod_changed,
                              on_update=self._pod_updated)

    def _pod_changed(self, pod: Message) -> None:
        for service in self.services.by_index(podutil.BY_NAMESPACE, pod.metadata.namespace):
            if selects(service, pod):
                self.enqueue(service)

    def _pod_updated(self, old: Message, new: Message) -> None:
        for service in self.services.by_index(podutil.BY_NAMESPACE, new.metadata.namespace):
            if selects(service, new) or selects(service, old):
                self.enqueue(service)

    async def sync(self, key) -> None:
        namespace, name = key
        service = self.services.get(name, namespace)
        current = self.endpoints.get(name, namespace)
        if service is None:
            if current is not None:
                try:
                    await self.api.delete(name, namespace=namespace, uid=current.metadata.uid)
                except errors.NotFound:
                    pass
            return
        if not service.spec.selector or service.spec.type == "ExternalName":  # an alias has no endpoints
            return
        pods = [p for p in self.pods.by_index(podutil.BY_NAMESPACE, namespace) if selects(service, p)]
        wanted = subsets(service, pods)
        if current is None:
            endpoints = KINDS["Endpoints"].new(metadata={"name": name, "namespace": namespace,
                                                         "labels": dict(service.metadata.labels)},
                                               subsets=wanted)
            await self.api.create(endpoints)
            return
        if list(current.subsets) == wanted and dict(current.metadata.labels) == dict(service.metadata.labels):
            return
        endpoints = clone(current)
        del endpoints.subsets[:]
        endpoints.subsets.extend(wanted)
        endpoints.metadata.labels.clear()
        endpoints.metadata.labels.update(service.metadata.labels)
        await self.api.update(endpoints)

