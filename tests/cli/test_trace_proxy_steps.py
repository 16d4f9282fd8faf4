"""`cox trace pod/NAME`'s proxy steps (cli/trace_cmd.py) from a PodProxyRules answer built in memory: one step
per node and Service port at its precise time, after the pod's Ready; a node that could not be asked, or the
question refused, is a step that says so."""
from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.cli import trace_cmd
from controlplane.cli.tracesteps import rows
from tests.support.objects import pod as new_pod

NOW = 1_700_000_000


def ready_pod():
    pod = new_pod("web-1")
    pod.metadata.uid, pod.metadata.creation_timestamp.seconds = "p-uid", NOW
    for kind in ("ContainersReady", "Ready"):
        condition = pod.status.conditions.add(type=kind, status="True")
        condition.last_transition_time.seconds = NOW + 2
    return pod


def answer(**nodes) -> pb.PodProxyRules:
    rules = pb.PodProxyRules(namespace="default", name="web-1", uid="p-uid")
    for name, found in sorted(nodes.items()):
        if isinstance(found, str):
            rules.nodes.add(node=name, error=found)
        else:
            rules.nodes.add(node=name, reached=True, ports=[
                pb.ProgrammedPort(namespace="default", service="web", port="http", number=80, programmed_at=at)
                for at in found])
    return rules


def test_each_node_applying_the_rules_is_a_step_after_ready_in_time_order():
    proxy = trace_cmd.proxy_steps(answer(node1=[NOW + 2.75], node2=[NOW + 2.5], node3=[], node4="refused"))
    printed = rows(trace_cmd.timeline(ready_pod(), [], [], proxy))
    assert [r[2:] for r in printed] == [
        ["api-server", "Created: pod default/web-1 stored"],
        ["pod status", "ContainersReady=True"],
        ["pod status", "Ready=True"],                      # its second's status, before the rules of that second
        ["kube-proxy (node2)", "rules applied: default/web:80 -> this pod"],
        ["kube-proxy (node1)", "rules applied: default/web:80 -> this pod"],
        ["kube-proxy (node3)", "rules not applied yet: no Service has this pod ready here"],
        ["kube-proxy (node4)", "no answer: refused"],
    ]
    assert [r[:2] for r in printed[3:5]] == [["22:13:22.500", "+2.500s"], ["22:13:22.750", "+2.750s"]]


def test_ready_keeps_its_place_when_the_rules_come_in_a_later_second():
    proxy = trace_cmd.proxy_steps(answer(node1=[NOW + 3.25]))
    printed = rows(trace_cmd.timeline(ready_pod(), [], [], proxy))
    assert [r[3] for r in printed][-2:] == ["Ready=True", "rules applied: default/web:80 -> this pod"]


def test_a_refused_question_is_one_step_and_the_rest_of_the_trace_stays():
    proxy = trace_cmd.proxy_steps(None, failed="pods/proxyrules is forbidden")
    printed = rows(trace_cmd.timeline(ready_pod(), [], [], proxy))
    assert printed[-1] == ["-", "-", "kube-proxy", "rules applied: unknown (pods/proxyrules is forbidden)"]
    assert len(printed) == 4
