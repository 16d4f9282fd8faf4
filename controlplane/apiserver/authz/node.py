"""The node authorizer: what a node's own identity, system:node:<name>, may do.

Kubernetes' Node authorizer in small. A node reads what every node needs
(Nodes, Pods, Services, Endpoints, and PersistentVolumes, which hold only
paths here); it reports its own NodeMetrics and the PodMetrics of the pods
bound to it; it reads a Secret, ConfigMap, PersistentVolumeClaim or
ServiceAccount only while a pod bound to it names that object
(controlplane/api/podrefs.py); it deletes a PersistentVolume only when it is
a released local-path volume on that node (its agent removes the directory,
then the volume: controlplane/api/localpath.py); it writes only its own Node, its own Lease in
kube-node-lease, Events, and the pods bound to it. Which fields of those
writes it may change is NodeRestriction's part (noderestriction.py): this
module decides from the request's attributes and the pods in the watch cache.

A pure function of its inputs: the server passes a view of its pod cache.
"""
from typing import Protocol

from controlplane.api import localpath, nodeidentity, podrefs
from controlplane.api.v1 import core_pb2
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.apiserver import auth
from controlplane.apiserver.authz.attributes import (ALLOW, NO_OPINION, READ_VERBS, Attributes, Decision,
                                                     deny)


# Read by every node's agent: the kubelet, the Service proxy, the pod network and cluster DNS.
READ_FREELY = frozenset({"Node", "Pod", "Service", "Endpoints", "PersistentVolume"})
# Written by a node only about itself; NodeRestriction checks the fields.
OWN_NODE_VERBS = frozenset({"get", "create", "update", "update_status"})
OWN_LEASE_VERBS = frozenset({"get", "create", "update"})
BOUND_POD_VERBS = frozenset({"update_status", "delete"})
EVENT_VERBS = frozenset({"create", "update"})
USAGE_VERBS = frozenset({"get", "create", "update"})   # its NodeMetrics, its pods' PodMetrics
REFERENCED_KINDS = frozenset({podrefs.SECRET, podrefs.CONFIG_MAP, podrefs.SERVICE_ACCOUNT,
                              podrefs.PERSISTENT_VOLUME_CLAIM})


class PodView(Protocol):
    def pod(self, namespace: str, name: str) -> core_pb2.Pod | None: ...

    def refers(self, node: str, namespace: str, reference: podrefs.Reference) -> bool:
        """Does a pod bound to `node` in `namespace` name `reference`?"""

    def persistent_volume(self, name: str) -> core_pb2.PersistentVolume | None: ...


def node_of(user: auth.User) -> str | None:
    """The node a user is, or None if it is not a node's identity."""
    if auth.NODES_GROUP in user.groups and user.name.startswith(nodeidentity.NODE_USER_PREFIX):
        return user.name[len(nodeidentity.NODE_USER_PREFIX):] or None
    return None


def decide(attrs: Attributes, pods: PodView) -> Decision:
    node = node_of(attrs.user)
    if node is None:
        return NO_OPINION
    kind, verb = attrs.kind, attrs.verb
    if kind in READ_FREELY and verb in READ_VERBS:
        return ALLOW
    if kind == "Node":
        if verb in OWN_NODE_VERBS and attrs.name == node:
            return ALLOW
        return deny(f'node "{node}" may only write its own Node')
    if kind == "Lease":
        if verb in OWN_LEASE_VERBS and attrs.namespace == NODE_LEASE_NAMESPACE and attrs.name == node:
            return ALLOW
        return deny(f'node "{node}" may only use its own Lease in {NODE_LEASE_NAMESPACE}')
    if kind == "Event" and verb in EVENT_VERBS:
        return ALLOW
    if kind == "Pod":
        return _pod(attrs, node, pods)
    if kind in ("NodeMetrics", "PodMetrics"):
        return _usage(attrs, node, pods)
    if kind in REFERENCED_KINDS:
        return _referenced(attrs, node, pods)
    if kind == "PersistentVolume" and verb == "delete":
        volume = pods.persistent_volume(attrs.name)
        if volume is not None and localpath.agent_deletes(volume, node):
            return ALLOW
        return deny(f'node "{node}" may delete only released local-path volumes on it')
    if kind == "NodeCredentialRequest" and verb == "create":
        return ALLOW     # for itself only: the credential issuer checks spec.nodeName
    return deny(f'node "{node}" may not {verb} {kind} objects')


def _pod(attrs: Attributes, node: str, pods: PodView) -> Decision:
    if attrs.verb == "create":
        return ALLOW     # a mirror pod of its own: NodeRestriction checks it
    if attrs.verb in BOUND_POD_VERBS:
        pod = pods.pod(attrs.namespace, attrs.name)
        if pod is not None and pod.spec.node_name == node:
            return ALLOW
        return deny(f'node "{node}" may only {attrs.verb} pods bound to it; '
                    f'pod {attrs.namespace}/{attrs.name} is not')
    return deny(f'node "{node}" may not {attrs.verb} pods')


def _usage(attrs: Attributes, node: str, pods: PodView) -> Decision:
    """Usage reports: its own NodeMetrics, and PodMetrics named after a pod bound to it."""
    if attrs.verb in USAGE_VERBS:
        if attrs.kind == "NodeMetrics" and attrs.name == node:
            return ALLOW
        pod = pods.pod(attrs.namespace, attrs.name) if attrs.kind == "PodMetrics" else None
        if pod is not None and pod.spec.node_name == node:
            return ALLOW
    return deny(f'node "{node}" may only report the usage of itself and of the pods bound to it '
                f'({attrs.verb} {attrs.kind} {attrs.namespace + "/" if attrs.namespace else ""}{attrs.name or "*"})')


def _referenced(attrs: Attributes, node: str, pods: PodView) -> Decision:
    """Secrets, ConfigMaps and ServiceAccounts: one at a time, while a pod bound here names it."""
    wanted = podrefs.Reference(attrs.kind, attrs.name)
    if attrs.verb in READ_VERBS and attrs.name and attrs.namespace and pods.refers(node, attrs.namespace, wanted):
        return ALLOW
    return deny(f'node "{node}" may read a {attrs.kind} only while a pod bound to it refers to it '
                f'({attrs.verb} {attrs.namespace or "*"}/{attrs.name or "*"})')
