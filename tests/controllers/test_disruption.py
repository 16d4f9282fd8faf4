"""PodDisruptionBudgets: the status rules on pods built in memory, then the disruption controller, the
pods/eviction endpoint and `cox drain` against a real API server with hollow nodes: drain stops at a
budget that allows no disruption and goes on once it allows one."""
from google.protobuf import struct_pb2

from controlplane.api import defaults, disruption
from controlplane.api.kinds import KINDS
from controlplane.cli.printing import columns
from controlplane.client import errors
from controlplane.controllers.disruption import compute_status
from tests.controllers.builders import NOW, pod
from tests.controllers.support import active_pods, deployment, eventually
from tests.controllers.test_cli import config_path, cox  # noqa: F401 (fixtures)
from tests.controllers.test_deployment import rolled_out
from tests.support.objects import modify


def budget(name="web", *, min_available=None, max_unavailable=None, disrupted=()):
    b = KINDS["PodDisruptionBudget"].new(metadata={"name": name, "namespace": "default", "generation": 1},
                                         spec={"selector": {"match_labels": {"app": "web"}}})
    for field, raw in (("min_available", min_available), ("max_unavailable", max_unavailable)):
        if raw is not None:
            getattr(b.spec, field).CopyFrom(struct_pb2.Value(number_value=raw) if isinstance(raw, int)
                                            else struct_pb2.Value(string_value=raw))
    for name in disrupted:
        b.status.disrupted_pods[name].seconds = NOW
    defaults.apply_defaults(b)
    return b


def test_status_counts_healthy_pods_against_the_budget():
    pods = [pod("a"), pod("b"), pod("c", ready=False), pod("d", deleting=True), pod("e", phase="Succeeded"),
            pod("x", labels={"app": "other"})]
    status = compute_status(budget(min_available=1), pods, NOW)
    assert (status.expected_pods, status.current_healthy, status.desired_healthy, status.disruptions_allowed) == \
        (4, 2, 1, 1)
    assert compute_status(budget(max_unavailable="50%"), pods, NOW).desired_healthy == 2
    assert compute_status(budget(min_available="50%"), pods, NOW).desired_healthy == 2
    # an eviction granted and not yet carried out counts against the budget, until its pod is deleted
    granted = compute_status(budget(min_available=1, disrupted=["a"]), pods, NOW)
    assert (granted.current_healthy, granted.disruptions_allowed) == (1, 0)
    refused = budget(min_available=1)
    refused.status.CopyFrom(granted)
    assert disruption.eviction_verdict(refused, pod("b")).reason.endswith("needs 1 healthy pods and has 1 currently")
    # an unready pod granted an eviction was not healthy anyway: the budget does not lose it twice
    assert compute_status(budget(min_available=1, disrupted=["c"]), pods, NOW).disruptions_allowed == 1
    assert compute_status(budget(min_available=1, disrupted=["d"]), pods, NOW).disruptions_allowed == 1
    assert compute_status(budget(min_available=1, disrupted=["a"]), pods, NOW + 600).disruptions_allowed == 1


def test_get_shows_kubectls_budget_columns():
    allowing = budget(min_available=2)
    allowing.status.disruptions_allowed = 1
    header, rows = columns.table(KINDS["PodDisruptionBudget"], [allowing, budget(max_unavailable="50%")], now=0)
    assert header == ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]
    assert [row[1:4] for row in rows] == [["2", "N/A", "1"], ["N/A", "50%", "0"]]


async def test_drain_waits_for_the_disruption_budget(client, manager, nodes, cox):  # noqa: F811
    deployments, budgets = client.resource("Deployment"), client.resource("PodDisruptionBudget")
    await deployments.create(deployment("web", 2))
    await eventually(lambda: rolled_out(deployments, "web"))
    await budgets.create(budget(min_available=2))

    async def settled(allowed):
        found = await budgets.get("web", namespace="default")
        return found.status.expected_pods == 2 and found.status.disruptions_allowed == allowed and found
    await eventually(lambda: settled(0), what="the budget counted: no disruption allowed")

    victim = (await active_pods(client, label_selector="app=web"))[0]
    try:
        await client.resource("Pod").evict(victim.metadata.name, namespace="default")
        raise AssertionError("evicted against the budget")
    except errors.TooManyRequests as e:
        assert "Cannot evict pod as it would violate the pod's disruption budget" in str(e)

    node = victim.spec.node_name
    code, _, err = await cox("drain", node, "--timeout", "3")
    assert code == 1 and "timed out evicting pod default/" in err and "disruption budget" in err
    assert victim.metadata.name in {p.metadata.name for p in await active_pods(client, label_selector="app=web")}

    def change(found):
        found.spec.min_available.number_value = 1
    await modify(budgets, "web", change, namespace="default")
    code, out, err = await cox("drain", node, "--timeout", "60")
    assert code == 0 and out.splitlines()[-1] == f"node/{node} drained", err

    async def moved():
        pods = await active_pods(client, label_selector="app=web")
        return len(pods) == 2 and all(p.spec.node_name and p.spec.node_name != node for p in pods)
    await eventually(moved, timeout=30, what="both pods on the other node")
