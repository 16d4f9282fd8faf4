"""Static pods: pod manifests in a directory, run with or without an API server.

Every file in --pod-manifest-path holding a Pod (YAML or JSON) is a pod this
node runs on its own authority, as Kubernetes' file source does. The pod is
parsed strictly and defaulted like the API server would, named
<name>-<node> so that nodes do not collide, and given a uid derived from its
content and the node, so an unchanged file is the same pod across kubelet
restarts and an edited file is a new pod. The directory is re-read every
few seconds; a file that disappears takes its pod with it.

When an API server is reachable the kubelet mirrors each static pod there
(mirror.py), so `cox get pods` shows it.

The API's manifest reader, defaulting and validation are imported only when
a manifest is read: the kubelet asks this module about every pod (is it a
mirror?), and most nodes have no static pods (~2 MB of the agent's memory).
"""
import hashlib
import logging
from pathlib import Path

from google.protobuf.message import Message

from controlplane.api.errors import FieldError, InvalidError, ManifestError
from controlplane.api.wellknown import MIRROR_POD_ANNOTATION

log = logging.getLogger(__name__)

SOURCE_ANNOTATION = "kubernetes.io/config.source"
HASH_ANNOTATION = "kubernetes.io/config.hash"


def read_manifests(directory: Path, node_name: str) -> dict[str, Message]:
    """Static pods by uid; a broken file is logged and skipped, never fatal."""
    pods: dict[str, Message] = {}
    if not directory.is_dir():
        return pods
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            for pod in _pods_in(path, node_name):
                pods[pod.metadata.uid] = pod
        except (ManifestError, InvalidError, OSError) as e:
            log.warning("static pod manifest %s: %s", path, e)
    return pods


def _pods_in(path: Path, node_name: str) -> list[Message]:
    from controlplane.api import convert, validation   # only here: see the module's docstring
    pods = []
    for data in convert.load_manifests(path.read_text(), source=str(path)):
        pod = convert.from_manifest(data)
        if pod.kind != "Pod":
            raise InvalidError(pod.kind, pod.metadata.name, [FieldError("kind", "a static pod manifest holds Pods")])
        _make_static(pod, node_name)
        errors = validation.validate_create(pod)
        if errors:
            raise InvalidError("Pod", pod.metadata.name, errors)
        pods.append(pod)
    return pods


def _make_static(pod: Message, node_name: str) -> None:
    meta = pod.metadata
    meta.namespace = meta.namespace or "default"
    meta.name = f"{meta.name}-{node_name}"
    pod.spec.node_name = node_name
    from controlplane.api import defaults   # only here: see the module's docstring
    defaults.apply_defaults(pod)
    digest = hashlib.sha256(node_name.encode() + b"\0" + pod.SerializeToString(deterministic=True)).hexdigest()
    meta.uid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    meta.annotations[SOURCE_ANNOTATION] = "file"
    meta.annotations[HASH_ANNOTATION] = meta.uid


def is_mirror(pod: Message) -> bool:
    return MIRROR_POD_ANNOTATION in pod.metadata.annotations
