"""Authorization: may this user do this verb to this object? A chain of authorizers.

Each authorizer answers allow, deny (with a reason) or no opinion; the first
that has an opinion decides, and a request nobody allows is refused, as in
Kubernetes. The chain, in order: the node authorizer (node.py: what a node's
own identity may do), then the fixed table (table.py: admin, the join token,
service accounts). NodeRestriction (noderestriction.py) is the admission
half: which fields a node's writes may change. README.md has the contract.
"""
from controlplane.api.kinds import KINDS
from controlplane.apiserver.authz import node, table
from controlplane.apiserver.authz.attributes import Attributes, Decision, Verdict, deny


class CachedPods:
    """The node authorizer's view of pods: the API server's pod watch cache."""

    def __init__(self, cache):
        self._cache = cache

    def pod(self, namespace: str, name: str):
        cached = self._cache.get(KINDS["Pod"].key(namespace, name))
        return cached.obj if cached is not None else None

    def pods(self, namespace: str):
        return (cached.obj for cached in self._cache.list(namespace=namespace))


class Authorizer:
    def __init__(self, pods_cache):
        self._pods = CachedPods(pods_cache)

    def authorize(self, attrs: Attributes) -> Decision:
        for decision in (node.decide(attrs, self._pods), table.decide(attrs)):
            if decision.verdict is not Verdict.NO_OPINION:
                return decision
        return deny("no authorizer allows it")


__all__ = ["Attributes", "Authorizer", "Decision", "Verdict"]
