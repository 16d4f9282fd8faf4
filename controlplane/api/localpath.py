"""Which PersistentVolumes are the local-path provisioner's, and which node's agent removes them.

Asked by the volume controller (a Delete it can hand on), the node
authorizer (a node may delete only such a volume of its own) and the agent
(which volumes to remove, and where their directory is), so the three agree.
"""
from pathlib import PurePosixPath

from google.protobuf.message import Message

from controlplane.api.wellknown import LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION

HOSTNAME_LABEL = "kubernetes.io/hostname"


def is_ours(volume: Message) -> bool:
    return volume.metadata.annotations.get(PROVISIONED_BY_ANNOTATION) == LOCAL_PATH_PROVISIONER


def local_directory(volume: Message) -> PurePosixPath:
    return PurePosixPath(volume.spec.host_path.path or volume.spec.local.path)


def node_of_volume(volume: Message) -> str | None:
    """The one node a local-path volume is pinned to (by hostname), or None."""
    for term in volume.spec.node_affinity.required.node_selector_terms:
        for requirement in term.match_expressions:
            if requirement.key == HOSTNAME_LABEL and requirement.operator == "In" and len(requirement.values) == 1:
                return requirement.values[0]
    return None


def agent_deletes(volume: Message, node_name: str) -> bool:
    """Is `volume` one the agent of `node_name` should remove (directory, then the volume)?"""
    return (is_ours(volume) and volume.status.phase == "Released"
            and volume.spec.persistent_volume_reclaim_policy == "Delete" and node_of_volume(volume) == node_name)
