"""The default ClusterRoles brought up to date at every server start (Kubernetes' RBAC reconciliation).

The server makes the default roles (policy.py) when they are missing, so a
cluster upgraded in place would keep the rules of the version that first made
them: a right a new version adds to `view`, `edit` or `admin` (say
`pods/proxyrules`) would never reach the users bound to them. Kubernetes
reconciles its bootstrap roles at each start instead, and so do we:

- the rights the default role gives that the stored one lacks are added, as
  few rules as cover them (each expected rule's uncovered rights, resources
  grouped by the verbs they lack);
- rules an administrator added are kept (nothing is ever removed), and so
  are labels and annotations they set; the default's are added where absent;
- a role annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is
  left alone: the administrator's way to opt out. Every default role is made
  with the annotation "true"; a role stored before it existed has none and is
  reconciled, as Kubernetes reconciles one.

`reconciled` is pure; `reconcile` writes, conditionally on the revision it read.
"""
import itertools
import logging

import grpc
from google.protobuf.message import Message

from controlplane.api.v1 import rbac_pb2
from controlplane.apiserver import errors
from controlplane.apiserver.authz.policy import AUTOUPDATE
from controlplane.apiserver.authz.rbac import rules_cover
from controlplane.apiserver.registry import Registry

_RETRIES = 5
log = logging.getLogger(__name__)


def _uncovered(held, rule) -> list:
    """The rules, as few as may be, giving what `rule` gives and `held` does not."""
    if rule in held or rules_cover(held, rule):   # the same rule (the usual case) is cheaper to find
        return []
    if rule.non_resource_ur_ls:
        by_verbs: dict[tuple, list[str]] = {}
        for url in rule.non_resource_ur_ls:
            lacking = tuple(v for v in rule.verbs
                            if not rules_cover(held, rbac_pb2.PolicyRule(verbs=[v], non_resource_ur_ls=[url])))
            if lacking:
                by_verbs.setdefault(lacking, []).append(url)
        return [rbac_pb2.PolicyRule(verbs=verbs, non_resource_ur_ls=urls) for verbs, urls in by_verbs.items()]
    grouped: dict[tuple, list[str]] = {}
    for group, resource in itertools.product(rule.api_groups, rule.resources):
        lacking = tuple(v for v in rule.verbs if not rules_cover(held, rbac_pb2.PolicyRule(
            api_groups=[group], resources=[resource], verbs=[v], resource_names=rule.resource_names)))
        if lacking:
            grouped.setdefault((group, lacking), []).append(resource)
    return [rbac_pb2.PolicyRule(api_groups=[group], resources=resources, verbs=verbs,
                                resource_names=rule.resource_names)
            for (group, verbs), resources in grouped.items()]


def reconciled(existing: Message, expected: Message) -> Message | None:
    """`existing` (a stored ClusterRole) with what the default `expected` gives and it lacks, or None when
    nothing is to change: it covers the default already, or its autoupdate annotation is "false"."""
    if existing.metadata.annotations.get(AUTOUPDATE) == "false":
        return None
    missing = [r for rule in expected.rules for r in _uncovered(existing.rules, rule)]
    labels = {k: v for k, v in expected.metadata.labels.items() if k not in existing.metadata.labels}
    annotations = {k: v for k, v in expected.metadata.annotations.items() if k not in existing.metadata.annotations}
    if not (missing or labels or annotations):
        return None
    updated = type(existing)()
    updated.CopyFrom(existing)
    updated.rules.extend(missing)
    updated.metadata.labels.update(labels)
    updated.metadata.annotations.update(annotations)
    return updated


async def reconcile(registry: Registry, expected: Message) -> Message | None:
    """Bring the stored ClusterRole named as `expected` up to it (see `reconciled`); the role as written, or
    None if nothing was written. Conditional on the revision read: read again if someone wrote between."""
    for _ in range(_RETRIES):
        existing = await registry.get("", expected.metadata.name)
        updated = reconciled(existing, expected)
        if updated is None:
            return None
        try:
            written = await registry.update(updated)
        except errors.ApiError as e:
            if e.code != grpc.StatusCode.ABORTED:
                raise
            continue
        log.info("ClusterRole %s reconciled with the default policy: %d rule(s) added",
                 expected.metadata.name, len(written.rules) - len(existing.rules))
        return written
    raise errors.conflict(registry.kind, expected.metadata.name)
