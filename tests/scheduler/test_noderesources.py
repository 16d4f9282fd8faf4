"""NodeResourcesFit and BalancedAllocation on in-memory nodes and pods."""
from tests.scheduler.builders import Cluster, node, pod


def test_pod_goes_only_where_its_requests_fit():
    cluster = Cluster([node("small", cpu="1", memory="1Gi"), node("big", cpu="8", memory="16Gi")])
    assert cluster.schedule(pod("p", cpu="2", memory="1Gi")) == "big"


def test_requests_of_placed_and_assumed_pods_count():
    cluster = Cluster([node("n", cpu="2")])
    assert cluster.schedule(pod("a", cpu="1500m")) == "n"      # assumed, bind not yet confirmed
    assert cluster.why(pod("b", cpu="1")) == "0/1 nodes are available: 1 Insufficient cpu."


def test_every_shortage_is_named():
    cluster = Cluster([node("n1", cpu="1", memory="1Gi"), node("n2", cpu="1", memory="1Gi", pods="1")])
    cluster.place(pod("x"), "n2")
    assert cluster.why(pod("p", cpu="2", memory="2Gi")) == (
        "0/2 nodes are available: 1 Too many pods, 2 Insufficient cpu, 2 Insufficient memory.")


def test_pods_without_requests_fit_while_there_is_pod_room():
    cluster = Cluster([node("n", cpu="1", pods="2")])
    cluster.place(pod("x", cpu="1"), "n")
    assert cluster.schedule(pod("best-effort")) == "n"
    assert cluster.why(pod("third")) == "0/1 nodes are available: 1 Too many pods."


def test_init_container_requests_count_when_larger():
    cluster = Cluster([node("n", cpu="1")])
    message = pod("p", cpu="100m", init_containers=[{"name": "init", "image": "busybox",
                                                      "resources": {"requests": {"cpu": "2"}}}])
    assert "Insufficient cpu" in cluster.why(message)


def test_sidecars_count_beside_the_app_containers_and_the_init_containers_after_them():
    """A sidecar's 600m runs beside the app's 500m (1.1 > 1 cpu) and beside the later init's 500m."""
    cluster = Cluster([node("n", cpu="1")])
    side = {"name": "side", "image": "busybox", "restart_policy": "Always", "resources": {"requests": {"cpu": "600m"}}}
    assert "Insufficient cpu" in cluster.why(pod("p", cpu="500m", init_containers=[side]))
    later = {"name": "later", "image": "busybox", "resources": {"requests": {"cpu": "500m"}}}
    assert "Insufficient cpu" in cluster.why(pod("q", cpu="100m", init_containers=[side, later]))
    assert cluster.schedule(pod("r", cpu="100m", init_containers=[later, side])) == "n"


def test_least_allocated_prefers_the_emptiest_node():
    cluster = Cluster([node("busy"), node("idle")])
    cluster.place(pod("x", cpu="3", memory="6Gi"), "busy")
    assert cluster.schedule(pod("p", cpu="100m", memory="100Mi")) == "idle"


def test_most_allocated_packs():
    cluster = Cluster([node("busy"), node("idle")],
                      args={"NodeResourcesFit": {"scoring_strategy": "MostAllocated"}})
    cluster.place(pod("x", cpu="2", memory="4Gi"), "busy")
    assert cluster.schedule(pod("p", cpu="100m", memory="100Mi")) == "busy"


def test_balanced_allocation_prefers_even_use():
    plugins = [("PrioritySort", 0), ("NodeResourcesFit", 0), ("NodeResourcesBalancedAllocation", 1),
               ("DefaultBinder", 0)]
    cluster = Cluster([node("cpu-heavy"), node("even")], plugins=plugins)
    cluster.place(pod("x", cpu="3", memory="1Gi"), "cpu-heavy")
    cluster.place(pod("y", cpu="1", memory="2Gi"), "even")
    assert cluster.schedule(pod("p", cpu="1", memory="2Gi")) == "even"
