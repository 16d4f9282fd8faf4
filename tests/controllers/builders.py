"""Pods in given states, for the pure-logic tests."""
from tests.support.objects import pod as new_pod

NOW = 1_700_000_000


def pod(name, *, phase="Running", ready=True, node="n1", created=0, ready_since=None, restarts=0,
        labels=None, ip="", deleting=False, ports=(), uid=None, **spec):
    p = new_pod(name, labels=labels or {"app": "web"}, node_name=node, **spec)
    p.metadata.uid = uid or f"{name}-uid"
    p.metadata.creation_timestamp.seconds = NOW + created
    if deleting:
        p.metadata.deletion_timestamp.seconds = NOW + 30
    for port_name, number in ports:
        p.spec.containers[0].ports.add(name=port_name, container_port=number, protocol="TCP")
    p.status.phase = phase
    p.status.pod_ip = ip
    condition = p.status.conditions.add(type="Ready", status="True" if ready else "False")
    condition.last_transition_time.seconds = NOW + (created if ready_since is None else ready_since)
    p.status.container_statuses.add(name="main", restart_count=restarts, ready=ready)
    return p
