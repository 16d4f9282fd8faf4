"""The event recorder writes Events and folds repeats into a count."""
from controlplane.client.events import EventRecorder
from tests.support.objects import pod


async def test_repeats_fold_into_count_and_differences_do_not(client):
    target = await client.resource("Pod").create(pod("web"))
    recorder = EventRecorder(client, component="kubelet", host="node1")
    for _ in range(3):
        recorder.event(target, "Warning", "BackOff", "Back-off restarting failed container")
    recorder.event(target, "Normal", "Pulled", "Container image already present")
    await recorder.flush()
    events = (await client.resource("Event").list(
        namespace="default", field_selector=f"involvedObject.name=web,involvedObject.uid={target.metadata.uid}")).items
    by_reason = {e.reason: e for e in events}
    assert set(by_reason) == {"BackOff", "Pulled"}
    assert by_reason["BackOff"].count == 3 and by_reason["Pulled"].count == 1
    assert by_reason["BackOff"].source.component == "kubelet" and by_reason["BackOff"].source.host == "node1"
    assert by_reason["BackOff"].involved_object.kind == "Pod"
    await recorder.close()


async def test_cluster_scoped_objects_get_events_in_default(client):
    node = await client.resource("Node").create(client.resource("Node").kind.new(metadata={"name": "n1"}))
    recorder = EventRecorder(client, component="node-controller")
    recorder.event(node, "Normal", "RegisteredNode", "Node n1 event: Registered Node n1")
    await recorder.flush()
    events = (await client.resource("Event").list(namespace="default", field_selector="involvedObject.name=n1")).items
    assert [e.reason for e in events] == ["RegisteredNode"]
    await recorder.close()


async def test_an_object_gets_a_burst_then_no_more(client):
    from controlplane.client import events as events_module
    target = await client.resource("Pod").create(pod("busy"))
    recorder = EventRecorder(client, component="replicaset-controller")
    for i in range(events_module.BURST + 10):
        recorder.event(target, "Normal", "SuccessfulCreate", f"Created pod: busy-{i}")
    await recorder.flush()
    events = (await client.resource("Event").list(namespace="default", field_selector="involvedObject.name=busy")).items
    assert len(events) == events_module.BURST
    await recorder.close()


async def test_field_path_names_the_container_and_keeps_events_apart(client):
    target = await client.resource("Pod").create(pod("two"))
    recorder = EventRecorder(client, component="kubelet")
    recorder.event(target, "Normal", "Started", "Started container", field_path="spec.containers{a}")
    recorder.event(target, "Normal", "Started", "Started container", field_path="spec.containers{b}")
    await recorder.flush()
    events = (await client.resource("Event").list(namespace="default", field_selector="involvedObject.name=two")).items
    assert sorted(e.involved_object.field_path for e in events) == ["spec.containers{a}", "spec.containers{b}"]
    await recorder.close()
