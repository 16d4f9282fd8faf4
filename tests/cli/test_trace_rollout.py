"""`cox trace deployment/NAME`'s pure part (cli/rollout_trace.py) on objects built in memory: a rollout
from revision 1 to 2 of a one-replica Deployment, one old pod gone, one new pod Ready."""
import argparse

import pytest

from controlplane.api.kinds import KINDS
from controlplane.cli import rollout_trace, trace_cmd
from controlplane.cli.common import CommandError
from controlplane.cli.tracesteps import rows
from tests.support.objects import pod as new_pod

NOW = 1_700_000_000


def owned(obj, owner, kind):
    obj.metadata.owner_references.add(api_version="apps/v1", kind=kind, name=owner.metadata.name,
                                      uid=owner.metadata.uid, controller=True)
    return obj


def event(obj, reason, message, at, *, component, host="", field_path=""):
    e = KINDS["Event"].new(metadata={"name": f"{obj.metadata.name}.{reason}.{at}", "namespace": "default"},
                           reason=reason, message=message, type="Normal",
                           involved_object={"kind": obj.DESCRIPTOR.name, "name": obj.metadata.name,
                                            "uid": obj.metadata.uid, "field_path": field_path},
                           source={"component": component, "host": host})
    e.event_time.seconds, e.event_time.nanos = NOW + int(at), int(round(at % 1 * 1e9))
    return e


def deployment():
    d = KINDS["Deployment"].new(metadata={"name": "web", "namespace": "default", "uid": "d-uid",
                                          "annotations": {rollout_trace.REVISION: "2"}},
                                spec={"replicas": 1})
    d.status.ready_replicas, d.status.updated_replicas = 1, 1
    return d


def replica_set(d, name, revision, created):
    rs = KINDS["ReplicaSet"].new(metadata={"name": name, "namespace": "default", "uid": f"{name}-uid",
                                           "annotations": {rollout_trace.REVISION: str(revision)}})
    rs.metadata.creation_timestamp.seconds = NOW + created
    return owned(rs, d, "Deployment")


def new_pod_ready(rs, name, created, ready):
    p = owned(new_pod(name, node_name="node-a"), rs, "ReplicaSet")
    p.metadata.uid = f"{name}-uid"
    p.metadata.creation_timestamp.seconds = NOW + created
    condition = p.status.conditions.add(type="Ready", status="True")
    condition.last_transition_time.seconds = NOW + ready
    return p


def rollout():
    d = deployment()
    old, new = replica_set(d, "web-1", 1, 0), replica_set(d, "web-2", 2, 10)
    gone = new_pod("web-1-aaaaa")             # deleted: only the Events naming it remain
    gone.metadata.uid = "web-1-aaaaa-uid"
    fresh = new_pod_ready(new, "web-2-bbbbb", 10, 12)
    stranger = new_pod("other-ccccc")        # not the Deployment's: left out
    stranger.metadata.uid = "other-uid"
    events = [
        event(d, "ScalingReplicaSet", "Scaled up replica set web-1 to 1", 0.1, component="deployment-controller"),
        event(old, "SuccessfulCreate", "Created pod: web-1-aaaaa", 0.2, component="replicaset-controller"),
        event(gone, "Scheduled", "Successfully assigned default/web-1-aaaaa to node-b", 0.3,
              component="default-scheduler"),
        event(gone, "Started", "Started container main", 10.05, component="kubelet", host="node-b",
              field_path="spec.containers{main}"),
        event(d, "ScalingReplicaSet", "Scaled up replica set web-2 to 1", 10.1, component="deployment-controller"),
        event(new, "SuccessfulCreate", "Created pod: web-2-bbbbb", 10.2, component="replicaset-controller"),
        event(fresh, "Scheduled", "Successfully assigned default/web-2-bbbbb to node-a", 10.3,
              component="default-scheduler"),
        event(fresh, "Started", "Started container main", 11.5, component="kubelet", host="node-a",
              field_path="spec.containers{main}"),
        event(fresh, "Started", "Started container main", 30.0, component="kubelet", host="node-a",
              field_path="spec.containers{main}"),     # a restart: not the pod's start
        event(d, "ScalingReplicaSet", "Scaled down replica set web-1 to 0 from 1", 12.6,
              component="deployment-controller"),
        event(old, "SuccessfulDelete", "Deleted pod: web-1-aaaaa", 12.7, component="replicaset-controller"),
        event(stranger, "Scheduled", "Successfully assigned default/other-ccccc to node-a", 5.0,
              component="default-scheduler"),
    ]
    return d, [old, new], [fresh, stranger], events


def test_the_rollout_is_each_replica_sets_scaling_and_each_pods_milestones_in_time_order():
    d, rss, pods, events = rollout()
    steps = rollout_trace.timeline(d, rss, pods, events)
    assert [(r[1], r[2], r[3]) for r in rows(steps)] == [
        ("+0s", "api-server", "Created: replicaset web-1 stored (revision 1)"),
        ("+0.100s", "deployment-controller", "ScalingReplicaSet: Scaled up replica set web-1 to 1"),
        ("+0.200s", "replicaset-controller", "SuccessfulCreate: Created pod: web-1-aaaaa"),
        ("+0.300s", "default-scheduler", "pod web-1-aaaaa scheduled to node-b"),
        ("+10.050s", "kubelet (node-b)", "pod web-1-aaaaa started"),
        # stored in second 10, before the Event of its making: between the two
        ("+10s", "api-server", "Created: replicaset web-2 stored (revision 2)"),
        ("+10.100s", "deployment-controller", "ScalingReplicaSet: Scaled up replica set web-2 to 1"),
        ("+10.200s", "replicaset-controller", "SuccessfulCreate: Created pod: web-2-bbbbb"),
        ("+10.300s", "default-scheduler", "pod web-2-bbbbb scheduled to node-a"),
        ("+11.500s", "kubelet (node-a)", "pod web-2-bbbbb started"),
        ("+12.600s", "deployment-controller", "ScalingReplicaSet: Scaled down replica set web-1 to 0 from 1"),
        ("+12.700s", "replicaset-controller", "SuccessfulDelete: Deleted pod: web-1-aaaaa"),
        ("+12s", "pod status", "pod web-2-bbbbb Ready"),      # whole seconds: at the end of its second
    ]
    assert rollout_trace.summary(d, steps) == \
        "deployment default/web revision 2: 1/1 ready, 1 updated, 12.7s from first step to last"


def test_without_its_controllers_events_a_pod_is_followed_through_its_own_timestamps():
    d, rss, pods, _ = rollout()
    fresh = pods[0]
    fresh.status.container_statuses.add(name="main").state.running.started_at.seconds = NOW + 11
    fresh.metadata.deletion_timestamp.seconds = NOW + 40
    steps = rollout_trace.timeline(d, rss, pods, [])
    assert [s.what for s in steps] == [
        "Created: replicaset web-1 stored (revision 1)", "Created: replicaset web-2 stored (revision 2)",
        "pod web-2-bbbbb created", "pod web-2-bbbbb started", "pod web-2-bbbbb Ready",
        "pod web-2-bbbbb deleted (terminating)"]


def test_a_deployment_with_nothing_recorded_has_no_duration():
    d = deployment()
    assert rollout_trace.timeline(d, [], [], []) == []
    assert rollout_trace.summary(d, []) == "deployment default/web revision 2: 1/1 ready, 1 updated"


@pytest.mark.parametrize("target, name", [("service/web", ""), ("deployment", ""), ("rs/web", "")])
def test_only_pods_and_deployments_are_traced(target, name):
    with pytest.raises(CommandError, match="give pod/NAME or deployment/NAME"):
        trace_cmd._target(argparse.Namespace(target=target, name=name))
    assert trace_cmd._target(argparse.Namespace(target="deploy/web", name="")) == ("Deployment", "web")
    assert trace_cmd._target(argparse.Namespace(target="pod", name="p")) == ("Pod", "p")
