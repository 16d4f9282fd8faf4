"""The API objects a pod refers to by name: Secrets, ConfigMaps, claims, its ServiceAccount.

Kubernetes keeps this walk once (pkg/api/v1/pod's VisitPodSecretNames and
VisitPodConfigmapNames) because two very different parts need the same
answer: the node authorizer lets a node read a Secret only while a pod bound
to it names that Secret, and the NodeRestriction admission refuses a mirror
pod that names any. A new place a pod can name an object is added here, and
both follow.
"""
from dataclasses import dataclass

from controlplane.api.v1 import core_pb2

SECRET, CONFIG_MAP, SERVICE_ACCOUNT = "Secret", "ConfigMap", "ServiceAccount"
PERSISTENT_VOLUME_CLAIM = "PersistentVolumeClaim"


@dataclass(frozen=True)
class Reference:
    kind: str    # SECRET, CONFIG_MAP, SERVICE_ACCOUNT or PERSISTENT_VOLUME_CLAIM
    name: str


def references(pod: core_pb2.Pod) -> frozenset[Reference]:
    """Every object the pod names, in its own namespace."""
    spec = pod.spec
    found: set[Reference] = set()
    if spec.service_account_name:
        found.add(Reference(SERVICE_ACCOUNT, spec.service_account_name))
    found.update(Reference(SECRET, secret.name) for secret in spec.image_pull_secrets if secret.name)
    for volume in spec.volumes:
        if volume.HasField("secret") and volume.secret.secret_name:
            found.add(Reference(SECRET, volume.secret.secret_name))
        if volume.HasField("config_map") and volume.config_map.name:
            found.add(Reference(CONFIG_MAP, volume.config_map.name))
        if volume.HasField("persistent_volume_claim") and volume.persistent_volume_claim.claim_name:
            found.add(Reference(PERSISTENT_VOLUME_CLAIM, volume.persistent_volume_claim.claim_name))
        for source in volume.projected.sources:
            if source.HasField("secret") and source.secret.name:
                found.add(Reference(SECRET, source.secret.name))
            if source.HasField("config_map") and source.config_map.name:
                found.add(Reference(CONFIG_MAP, source.config_map.name))
    for container in (*spec.init_containers, *spec.containers):
        for env in container.env:
            source = env.value_from
            if source.HasField("secret_key_ref") and source.secret_key_ref.name:
                found.add(Reference(SECRET, source.secret_key_ref.name))
            if source.HasField("config_map_key_ref") and source.config_map_key_ref.name:
                found.add(Reference(CONFIG_MAP, source.config_map_key_ref.name))
        for env_from in container.env_from:
            if env_from.HasField("secret_ref") and env_from.secret_ref.name:
                found.add(Reference(SECRET, env_from.secret_ref.name))
            if env_from.HasField("config_map_ref") and env_from.config_map_ref.name:
                found.add(Reference(CONFIG_MAP, env_from.config_map_ref.name))
    return frozenset(found)


def uses_service_account_token(pod: core_pb2.Pod) -> bool:
    """Does the pod mount a service account token (a projection of one)?"""
    return any(source.HasField("service_account_token")
               for volume in pod.spec.volumes for source in volume.projected.sources)
