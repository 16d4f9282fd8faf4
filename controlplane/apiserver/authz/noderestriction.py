"""NodeRestriction: which fields a node may set in the writes the node authorizer lets through.

The authorizer (node.py) decides from names alone: node A may update Node A.
This admission plugin looks at the objects: a node may not change its own
taints or give itself a restricted label, and the pods it creates must be
mirror pods of its own static pods, bound to itself and naming no Secret,
ConfigMap or ServiceAccount. One rule holds for everyone else: only a node
may set how its agent is reached (the pinned serving certificate and the
kubelet endpoint), so nobody can point an admin's `cox exec` at a fake agent.

The checks are pure functions returning the refusal's reason ("" if fine);
the plugin class is the thin part that finds the caller and raises.
"""
from google.protobuf.message import Message

from controlplane.api import podrefs
from controlplane.api.wellknown import AGENT_CERT_ANNOTATION, MIRROR_POD_ANNOTATION
from controlplane.apiserver import auth, errors
from controlplane.apiserver.admission import AdmissionPlugin
from controlplane.apiserver.authz.node import node_of

# Labels only an administrator may give a node (Kubernetes' NodeRestriction forbids these two).
RESTRICTED_LABEL_PREFIXES = ("node-restriction.kubernetes.io/", "node-role.kubernetes.io/")


def _restricted(labels) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k.split("/", 1)[0] + "/" in RESTRICTED_LABEL_PREFIXES}


def agent_address_change(new: Message, old: Message | None) -> str:
    """What a write changes of how the node's agent is reached; "" if nothing."""
    before_pin = old.metadata.annotations.get(AGENT_CERT_ANNOTATION, "") if old is not None else ""
    if new.metadata.annotations.get(AGENT_CERT_ANNOTATION, "") != before_pin:
        return f"metadata.annotations[{AGENT_CERT_ANNOTATION}]"
    before_port = old.status.daemon_endpoints.kubelet_endpoint.port if old is not None else 0
    if new.status.daemon_endpoints.kubelet_endpoint.port != before_port:
        return "status.daemonEndpoints.kubeletEndpoint.Port"
    return ""


def node_write_refusal(node: str | None, new: Message, old: Message | None) -> str:
    """Why `node` (None: not a node) may not write Node `new` over `old`; "" if it may."""
    if node != new.metadata.name:
        changed = agent_address_change(new, old)
        return f"{changed}: only node {new.metadata.name} itself may set it" if changed else ""
    restricted_before = _restricted(old.metadata.labels) if old is not None else {}
    if _restricted(new.metadata.labels) != restricted_before:
        return (f"metadata.labels: a node may not set labels under "
                f"{' or '.join(RESTRICTED_LABEL_PREFIXES)}")
    if old is not None and list(new.spec.taints) != list(old.spec.taints):
        return "spec.taints: a node may not change its own taints"
    return ""


def pod_create_refusal(node: str, pod: Message) -> str:
    """Why `node` may not create `pod`; "" if it is a proper mirror pod of its own."""
    if MIRROR_POD_ANNOTATION not in pod.metadata.annotations:
        return f"metadata.annotations: a node may only create mirror pods ({MIRROR_POD_ANNOTATION})"
    if pod.spec.node_name != node:
        return f'spec.nodeName: a node may only create pods bound to itself ("{node}")'
    refs = podrefs.references(pod)
    if refs or podrefs.uses_service_account_token(pod):
        named = ", ".join(sorted(f"{r.kind} {r.name}" for r in refs)) or "a service account token"
        return f"spec: a mirror pod may not refer to API objects ({named})"
    return ""


class NodeRestriction(AdmissionPlugin):
    """Runs first on Node and Pod writes (before anything fills fields in)."""

    async def admit_create(self, obj: Message, *, dry_run: bool = False) -> None:
        node = node_of(auth.current_user.get(None) or _NOBODY)
        if obj.DESCRIPTOR.name == "Pod":
            reason = pod_create_refusal(node, obj) if node is not None else ""
        else:
            reason = node_write_refusal(node, obj, None)
        _refuse(reason)

    async def admit_update(self, new: Message, old: Message, *, dry_run: bool = False) -> None:
        if new.DESCRIPTOR.name == "Node":
            _refuse(node_write_refusal(node_of(auth.current_user.get(None) or _NOBODY), new, old))

    async def admit_status_update(self, new: Message, old: Message) -> None:
        await self.admit_update(new, old)


_NOBODY = auth.User("")


def _refuse(reason: str) -> None:
    if reason:
        raise errors.forbidden(reason)
