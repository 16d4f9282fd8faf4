"""A write starts from the watch cache's copy, and a copy that is behind the store costs a retry, never a write.

The registry's first attempt reads the object from the watch cache (registry.py). The cache may
not have caught up with the store: these tests give the registry a cache frozen at an earlier
version (a stand-in: the real cache cannot be held back on demand) and check that every verb
still acts on what the store holds.
"""
from controlplane.api.kinds import KINDS
from controlplane.apiserver.registry import Registry
from controlplane.apiserver.watchcache import Cached


class FrozenCache:
    """A watch cache that stopped at the versions it was given."""

    def __init__(self, kind, *kvs):
        self._objects = {kv.key: Cached(kind.message, kv.value, kv.mod_revision, kv) for kv in kvs}

    def get(self, key):
        return self._objects.get(key)


def configmap(name: str, value: str):
    return KINDS["ConfigMap"].new(metadata={"name": name, "namespace": "default"}, data={"key": value})


async def behind(apiserver, kind_name: str, name: str, namespace: str = "default") -> Registry:
    """A registry whose cache holds the object as the store has it now; the test then moves the store on."""
    kind = KINDS[kind_name]
    kv = await apiserver.store.get(kind.key(namespace, name))
    registry = apiserver.registries[kind_name]
    return Registry(apiserver.store, kind, admission=registry.admission, cache=FrozenCache(kind, kv))


async def test_an_update_over_a_stale_copy_applies_to_the_stored_object(apiserver, client):
    configmaps = client.resource("ConfigMap")
    await configmaps.create(configmap("c", "one"))
    registry = await behind(apiserver, "ConfigMap", "c")
    moved = await configmaps.update(configmap("c", "two"))

    request = configmap("c", "three")
    request.metadata.labels["app"] = "web"
    written = await registry.update(request)
    assert int(written.metadata.resource_version) > int(moved.metadata.resource_version)
    stored = await configmaps.get("c", namespace="default")
    assert stored.data["key"] == "three" and stored.metadata.labels["app"] == "web"


async def test_a_request_equal_to_the_stale_copy_is_still_written(apiserver, client):
    configmaps = client.resource("ConfigMap")
    await configmaps.create(configmap("c", "one"))
    registry = await behind(apiserver, "ConfigMap", "c")
    await configmaps.update(configmap("c", "two"))

    await registry.update(configmap("c", "one"))   # no change from the cache's copy, a change from the store's
    assert (await configmaps.get("c", namespace="default")).data["key"] == "one"


async def test_a_resource_version_the_cache_has_not_seen_is_asked_of_the_store(apiserver, client):
    configmaps = client.resource("ConfigMap")
    await configmaps.create(configmap("c", "one"))
    registry = await behind(apiserver, "ConfigMap", "c")
    moved = await configmaps.update(configmap("c", "two"))

    request = configmap("c", "three")
    request.metadata.resource_version = moved.metadata.resource_version
    written = await registry.update(request)
    assert written.data["key"] == "three"


async def test_a_uid_precondition_is_checked_against_the_store(apiserver, client):
    configmaps = client.resource("ConfigMap")
    await configmaps.create(configmap("c", "first"))
    registry = await behind(apiserver, "ConfigMap", "c")   # the cache still has the first object of that name
    await configmaps.delete("c", namespace="default")
    second = await configmaps.create(configmap("c", "second"))

    deleted = await registry.delete("default", "c", precondition_uid=second.metadata.uid)
    assert deleted.metadata.uid == second.metadata.uid
    assert await apiserver.store.get(KINDS["ConfigMap"].key("default", "c")) is None


async def test_a_pod_bound_in_the_stale_copy_is_bound_in_the_store(apiserver, client):
    pods = client.resource("Pod")

    def pod():
        return KINDS["Pod"].new(metadata={"name": "p", "namespace": "default"},
                                spec={"containers": [{"name": "c", "image": "busybox"}]})
    await pods.create(pod())
    await apiserver.registries["Pod"].bind("default", "p", "node-a")
    registry = await behind(apiserver, "Pod", "p")   # the cache still has the bound pod of that name
    await pods.delete("p", namespace="default", grace_period_seconds=0)
    await pods.create(pod())

    bound = await registry.bind("default", "p", "node-b")
    assert bound.spec.node_name == "node-b"
