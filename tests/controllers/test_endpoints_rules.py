"""Endpoints computed from a Service and pods, without a server."""
from google.protobuf import struct_pb2

from controlplane.api import defaults
from controlplane.api.kinds import KINDS
from controlplane.controllers import endpoints
from tests.controllers.builders import pod


def service(*ports, publish=False):
    svc = KINDS["Service"].new(metadata={"name": "web", "namespace": "default"},
                               spec={"selector": {"app": "web"}, "publish_not_ready_addresses": publish})
    for name, port, target in ports:
        sp = svc.spec.ports.add(name=name, port=port)
        if target is not None:
            sp.target_port.CopyFrom(struct_pb2.Value(string_value=target) if isinstance(target, str)
                                    else struct_pb2.Value(number_value=target))
    defaults.apply_defaults(svc)
    return svc


def flat(subsets):
    return [([a.ip for a in s.addresses], [a.ip for a in s.not_ready_addresses],
             [(p.name, p.port, p.protocol) for p in s.ports]) for s in subsets]


def test_named_target_ports_resolve_per_pod_and_group_into_subsets():
    svc = service(("http", 80, "web"))
    pods = [pod("a", ip="10.0.0.2", ports=[("web", 8080)]), pod("b", ip="10.0.0.1", ports=[("web", 8080)]),
            pod("c", ip="10.0.0.3", ports=[("web", 9090)]), pod("none", ip="10.0.0.4")]
    assert flat(endpoints.subsets(svc, pods)) == [
        (["10.0.0.1", "10.0.0.2"], [], [("http", 8080, "TCP")]),
        (["10.0.0.3"], [], [("http", 9090, "TCP")])]


def test_unready_pods_are_listed_apart_unless_the_service_publishes_them():
    pods = [pod("ok", ip="10.0.0.1"), pod("slow", ip="10.0.0.2", ready=False)]
    assert flat(endpoints.subsets(service(("p", 80, 8080)), pods)) == [
        (["10.0.0.1"], ["10.0.0.2"], [("p", 8080, "TCP")])]
    assert flat(endpoints.subsets(service(("p", 80, 8080), publish=True), pods)) == [
        (["10.0.0.1", "10.0.0.2"], [], [("p", 8080, "TCP")])]


def test_pods_without_an_ip_finished_or_terminating_are_left_out():
    pods = [pod("noip"), pod("done", ip="10.0.0.1", phase="Succeeded"), pod("bye", ip="10.0.0.2", deleting=True),
            pod("ok", ip="10.0.0.3")]
    subsets = endpoints.subsets(service(("p", 80, None)), pods)
    assert flat(subsets) == [(["10.0.0.3"], [], [("p", 80, "TCP")])]
    address = subsets[0].addresses[0]
    assert (address.node_name, address.target_ref.kind, address.target_ref.name) == ("n1", "Pod", "ok")


def test_selection_needs_every_selector_label():
    svc = service(("p", 80, 80))
    assert endpoints.selects(svc, pod("x", labels={"app": "web", "more": "yes"}))
    assert not endpoints.selects(svc, pod("y", labels={"app": "db"}))
    svc.spec.selector.clear()
    assert not endpoints.selects(svc, pod("z"))
