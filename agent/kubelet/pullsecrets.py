"""A pod's imagePullSecrets as registry credentials for one image: Kubernetes' docker keyring, in small.

The pod names Secrets of type kubernetes.io/dockerconfigjson (a
~/.docker/config.json: {"auths": {registry: {...}}}) or kubernetes.io/dockercfg
(the older ~/.dockercfg: {registry: {...}}); the ServiceAccount admission
copies the account's imagePullSecrets into pods that name none, so the pod
alone says which Secrets a pull may use (and the node authorizer lets the node
read exactly those). A missing Secret or one of another type is skipped, as
the kubelet does.

A registry key matches an image when its host is the image's registry host
(`*.` matching one DNS label) and its path, if any, is a prefix of the image's
repository path; Docker Hub's many spellings (`https://index.docker.io/v1/`,
`docker.io`, ...) are one host. The most specific keys come first: the
runtime tries each until a pull works (images.py).

The node's own credentials come after the pod's, as in Kubernetes' keyring:
a `docker login` on the node (root's ~/.docker/config.json) or a config.json
in the agent's --root-dir (the kubelet's <root-dir>/config.json) lets every
pod on the node pull from that registry (NodeKeyring).
"""
import base64
import binascii
import fnmatch
import json
from pathlib import Path

from google.protobuf.message import Message

from agent.kubelet.objects import ObjectSource

DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
DOCKER_CFG = "kubernetes.io/dockercfg"
DOCKER_HUB = "docker.io"
_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")

AuthConfig = dict[str, str]   # Docker's X-Registry-Auth fields: username, password, serveraddress (or identitytoken)


def node_keyring_paths(root_dir: Path) -> tuple[Path, ...]:
    """Where the node's credentials are looked for, as Kubernetes' kubelet does: its root directory, then
    the Docker client's config of the user the agent runs as (root's `docker login`)."""
    return (root_dir / "config.json", Path.home() / ".docker" / "config.json")


class NodeKeyring:
    """The registry credentials of the node itself: the `auths` of config.json files (Docker's format),
    read again when a file changes. A missing or broken file gives none."""

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
        self._read: dict[Path, tuple[float, list[tuple[str, dict]]]] = {}   # path → (its mtime, its entries)

    def entries(self) -> list[tuple[str, dict]]:
        found = []
        for path in self.paths:
            try:
                mtime = path.stat().st_mtime
            except OSError:
                self._read.pop(path, None)
                continue
            if path not in self._read or self._read[path][0] != mtime:
                self._read[path] = (mtime, _config_entries(path))
            found += self._read[path][1]
        return found


def _config_entries(path: Path) -> list[tuple[str, dict]]:
    try:
        auths = json.loads(path.read_bytes()).get("auths") or {}
    except (OSError, ValueError, AttributeError):
        return []
    return _entries(auths)


async def pull_credentials(objects: ObjectSource, pod: Message, image: str, *,
                           node: NodeKeyring | None = None) -> tuple[AuthConfig, ...]:
    """The auth configs that match `image`: the pod's imagePullSecrets', most specific first, then the node's."""
    entries: list[tuple[str, dict]] = []
    for reference in pod.spec.image_pull_secrets:
        secret = await objects.secret(pod.metadata.namespace, reference.name)
        if secret is not None:
            entries += registry_entries(secret)
    pods = for_image(entries, image)
    nodes = for_image(node.entries(), image) if node is not None else ()
    return pods + tuple(config for config in nodes if config not in pods)


def registry_entries(secret: Message) -> list[tuple[str, dict]]:
    """(registry key, its entry) of one docker-registry Secret; [] for any other Secret or a broken one."""
    try:
        if secret.type == DOCKER_CONFIG_JSON:
            auths = json.loads(secret.data.get(".dockerconfigjson", b"{}")).get("auths") or {}
        elif secret.type == DOCKER_CFG:
            auths = json.loads(secret.data.get(".dockercfg", b"{}"))
        else:
            return []
    except (ValueError, AttributeError):
        return []
    return _entries(auths)


def _entries(auths) -> list[tuple[str, dict]]:
    """(registry key, its entry) of an `auths` object as Docker writes it; [] for anything else."""
    return [(key, entry) for key, entry in auths.items() if isinstance(entry, dict)] if isinstance(auths, dict) else []


def for_image(entries: list[tuple[str, dict]], image: str) -> tuple[AuthConfig, ...]:
    host, path = split_image(image)
    matched = []
    for key, entry in entries:
        key_host, key_path = _split_key(key)
        if fnmatch.fnmatchcase(host, key_host) and host.count(".") == key_host.count(".") \
                and (not key_path or path == key_path or path.startswith(key_path + "/")):
            config = _auth_config(entry, host)
            if config is not None:
                matched.append((len(key_path), key_host.count("*") == 0, config))
    matched.sort(key=lambda found: (found[0], found[1]), reverse=True)
    unique = []
    for _, _, config in matched:
        if config not in unique:
            unique.append(config)
    return tuple(unique)


def split_image(image: str) -> tuple[str, str]:
    """The registry host and repository path of an image reference (Docker Hub's official images under
    library/)."""
    name = image.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = _hub(first), rest
    else:
        host, path = DOCKER_HUB, name if rest else f"library/{name}"
    slash, colon = path.rfind("/"), path.rfind(":")
    return host, path[:colon] if colon > slash else path


def _split_key(key: str) -> tuple[str, str]:
    key = key.split("://", 1)[-1].rstrip("/")
    host, _, path = key.partition("/")
    if path in ("v1", "v2"):
        path = ""
    return _hub(host.lower()), path


def _hub(host: str) -> str:
    return DOCKER_HUB if host in _HUB_ALIASES else host


def _auth_config(entry: dict, host: str) -> AuthConfig | None:
    username, password = entry.get("username") or "", entry.get("password") or ""
    if not username and entry.get("auth"):
        try:
            username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
    config = {"serveraddress": host}
    if entry.get("identitytoken"):
        config["identitytoken"] = entry["identitytoken"]
    elif username:
        config.update(username=username, password=password)
    else:
        return None
    return config
