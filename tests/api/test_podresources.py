"""A pod's effective resources (controlplane/api/podresources.py), and the quota and scheduler counting
them the same way: sidecars beside the app containers, plain init containers at their peak."""
from fractions import Fraction

from controlplane.api import podresources, quantity, resourcequota
from controlplane.scheduler.podinfo import _requests
from tests.support.objects import pod


def with_cpu(app=("100m", "200m"), sidecar="50m", init="500m"):
    p = pod("p")
    del p.spec.containers[:]
    for i, cpu in enumerate(app):
        p.spec.containers.add(name=f"app{i}", image="busybox").resources.requests["cpu"] = cpu
    if sidecar:
        side = p.spec.init_containers.add(name="side", image="busybox", restart_policy="Always")
        side.resources.requests["cpu"] = sidecar
    if init:
        p.spec.init_containers.add(name="init", image="busybox").resources.requests["cpu"] = init
    return p


def cpu(container) -> Fraction:
    return quantity.parse(container.resources.requests.get("cpu", "0"))


def total(p) -> Fraction:
    return podresources.pod_total(p.spec, cpu, add=lambda a, b: a + b, larger=max, zero=Fraction(0))


def test_an_init_container_after_a_sidecar_runs_beside_it():
    assert total(with_cpu()) == Fraction(55, 100)           # 500m + the 50m sidecar started before it


def test_a_sidecar_adds_to_the_app_containers():
    assert total(with_cpu(init=None)) == Fraction(35, 100)  # 100m + 200m + 50m


def test_a_plain_init_container_counts_alone():
    assert total(with_cpu(sidecar=None, init="250m")) == Fraction(3, 10)
    assert not podresources.is_sidecar(with_cpu().spec.init_containers[1])


def test_quota_and_scheduler_count_the_same_amount():
    p = with_cpu(init=None)
    assert resourcequota.usage(p)["requests.cpu"] == Fraction(35, 100)
    assert _requests(p.spec)[0] == 350
