"""Priority admission: a pod's priority comes from its class, or the global default."""
import pytest

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from tests.support.objects import pod


def priority_class(name, value, **fields):
    return KINDS["PriorityClass"].new(metadata={"name": name}, value=value, **fields)


async def test_class_sets_priority_and_unknown_class_is_refused(client):
    await client.resource("PriorityClass").create(priority_class("high", 1000, preemption_policy="Never"))
    created = await client.resource("Pod").create(pod("web", priority_class_name="high"))
    assert created.spec.priority == 1000 and created.spec.preemption_policy == "Never"
    with pytest.raises(errors.Forbidden, match="no PriorityClass with name nope"):
        await client.resource("Pod").create(pod("other", priority_class_name="nope"))
    with pytest.raises(errors.Forbidden, match="must not be provided"):
        await client.resource("Pod").create(pod("liar", priority_class_name="high", priority=5))


async def test_global_default_and_system_classes(client):
    assert (await client.resource("Pod").create(pod("plain"))).spec.priority == 0
    await client.resource("PriorityClass").create(priority_class("normal", 100, global_default=True))
    await client.resource("PriorityClass").list()  # the cache has the new class once this returns
    defaulted = await client.resource("Pod").create(pod("defaulted"))
    assert (defaulted.spec.priority, defaulted.spec.priority_class_name) == (100, "normal")
    critical = await client.resource("Pod").create(pod("dns", priority_class_name="system-cluster-critical"))
    assert critical.spec.priority == 2_000_000_000


async def test_reapplied_manifest_keeps_the_computed_priority(client):
    await client.resource("PriorityClass").create(priority_class("high", 1000))
    created = await client.resource("Pod").create(pod("web", priority_class_name="high"))
    updated = await client.resource("Pod").update(pod("web", priority_class_name="high"))
    assert updated.spec == created.spec
