"""The dashboard's pod trace from JSON alone (dashboard/trace.trace_json, pure): the pods/proxyrules answer
the REST façade serves becomes cox trace's kube-proxy steps, in time order after Ready."""
from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.apiserver.rest import proxyrules
from controlplane.dashboard.trace import trace_json

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-1", "namespace": "default", "uid": "p-uid",
                    "creationTimestamp": "2026-12-05T14:00:00Z"},
       "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "busybox"}]},
       "status": {"phase": "Running", "conditions": [
           {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-05T14:00:03Z"}]}}


def test_each_nodes_programmed_port_is_a_step_and_an_unreachable_node_says_why():
    rules = pb.PodProxyRules(namespace="default", name="web-1", uid="p-uid")
    rules.nodes.add(node="node1", reached=True).ports.add(
        namespace="default", service="web", port="http", number=80, programmed_at=1796479203.250125)
    rules.nodes.add(node="node2", error="UNAVAILABLE: agent at 198.18.0.2:10250 unreachable")
    trace = trace_json(POD, [], [], proxyrules.to_json(rules))
    whats = [(s["time"], s["component"], s["what"]) for s in trace["steps"]]
    ready = whats.index(("14:00:03", "pod status", "Ready=True"))
    assert whats[ready + 1] == ("14:00:03.250", "kube-proxy (node1)", "rules applied: default/web:80 -> this pod")
    assert whats[-1] == ("-", "kube-proxy (node2)", "no answer: UNAVAILABLE: agent at 198.18.0.2:10250 unreachable")


def test_a_malformed_answer_is_one_step_saying_so():
    trace = trace_json(POD, [], [], {"kind": "PodProxyRules", "nodes": [
        {"node": "node1", "reached": True, "ports": [{"service": "web", "programmedAt": "soon"}]}]})
    assert trace["steps"][-1]["what"] == 'rules applied: unknown (nodes[0].ports[0].programmedAt: "soon" is not ' \
                                         'an RFC 3339 time)'
    trace = trace_json(POD, [], [], {"kind": "PodProxyRules", "nodes": ["node1"]})
    assert trace["steps"][-1]["what"] == "rules applied: unknown (nodes[0]: must be an object)"
