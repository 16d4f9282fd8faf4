"""Authorization: may this user do this verb to this object? A chain of authorizers.

Each authorizer answers allow, deny (with a reason) or no opinion; the first
that has an opinion decides, and a request nobody allows is refused, as in
Kubernetes. The chain, in order: the node authorizer (node.py: what a node's
own identity may do), the fixed rules (table.py: the admin group, the join
token), then RBAC (rbac.py: Roles, ClusterRoles and their bindings; the
defaults in policy.py). NodeRestriction (noderestriction.py) is the
admission half of the node authorizer, escalation.py RBAC's: which fields a
node's writes may change, and that one grants only rights one holds.
README.md has the contract.
"""
import collections

from controlplane.api import podrefs
from controlplane.api.kinds import KINDS
from controlplane.apiserver.authz import node, table
from controlplane.apiserver.authz.rbac import RBAC
from controlplane.apiserver.authz.attributes import Attributes, Decision, Verdict, deny


class PodReferences:
    """Which objects the pods bound to each node name: the node authorizer's graph, in small.

    A watch-cache index (apiserver/watchcache.py): kept current pod change by
    pod change, so a node's Secret read is a dictionary lookup however many
    pods there are. Counts, because two pods on a node may name one Secret.
    """

    def __init__(self):
        self._counts: collections.Counter = collections.Counter()

    @staticmethod
    def _keys(pod) -> list[tuple]:
        node = pod.spec.node_name
        return [(node, pod.metadata.namespace, ref) for ref in podrefs.references(pod)] if node else []

    def rebuild(self, pods) -> None:
        self._counts = collections.Counter(key for pod in pods for key in self._keys(pod))

    def update(self, old, new) -> None:
        before, after = self._keys(old) if old else [], self._keys(new) if new else []
        if before == after:
            return
        self._counts.subtract(before)
        self._counts.update(after)
        for key in before:
            if self._counts[key] <= 0:
                del self._counts[key]

    def __contains__(self, key: tuple) -> bool:
        return self._counts[key] > 0 if key in self._counts else False


class CachedPods:
    """The node authorizer's view of pods: the API server's pod watch cache and its reference index."""

    def __init__(self, cache, volumes):
        self._cache = cache
        self._volumes = volumes
        self._references = PodReferences()
        cache.add_index(self._references)

    def pod(self, namespace: str, name: str):
        cached = self._cache.get(KINDS["Pod"].key(namespace, name))
        return cached.obj if cached is not None else None

    def refers(self, node: str, namespace: str, reference: podrefs.Reference) -> bool:
        return (node, namespace, reference) in self._references

    def persistent_volume(self, name: str):
        cached = self._volumes.get(KINDS["PersistentVolume"].key("", name))
        return cached.obj if cached is not None else None


class Authorizer:
    def __init__(self, caches: dict):
        self._pods = CachedPods(caches["Pod"], caches["PersistentVolume"])
        self.rbac = RBAC(caches)

    def authorize(self, attrs: Attributes) -> Decision:
        decision = node.decide(attrs, self._pods)
        if decision.verdict is Verdict.NO_OPINION:
            decision = table.decide(attrs)
        if decision.verdict is Verdict.NO_OPINION:
            decision = self.rbac.decide(attrs)
        return decision if decision.verdict is not Verdict.NO_OPINION else deny("no RBAC rule allows it")

    def authorize_url(self, user, verb: str, path: str) -> Decision:
        """A request for a non-resource URL (the REST port's /metrics): the admin group may, and whoever
        a ClusterRole's nonResourceURLs rule is bound to (group system:monitoring by default)."""
        decision = table.decide_url(user)
        if decision.verdict is Verdict.NO_OPINION:
            decision = self.rbac.decide_url(user, verb, path)
        return decision if decision.verdict is not Verdict.NO_OPINION else deny(
            f'no RBAC rule allows {verb} on the non-resource URL "{path}"')


__all__ = ["Attributes", "Authorizer", "Decision", "Verdict"]
