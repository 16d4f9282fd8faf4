"""Pod volumes on the node's disk, set up before a pod's containers start.

Each pod has a directory <root>/pods/<uid>/volumes/<volume>, bind-mounted
into the containers that mount the volume (the runtime only sees host paths):

- emptyDir: a directory open to every user (0777, as Kubernetes makes it), or
  a tmpfs with `medium: Memory` (sizeLimit as its size), shared by the pod's
  containers and gone with the pod;
- hostPath: the host's own path, created for DirectoryOrCreate/FileOrCreate,
  checked for Directory/File;
- persistentVolumeClaim: the directory of the volume the claim is bound to
  (hostPath or local), once it is bound; a claim still waiting for its
  volume (the provisioner runs after the scheduler chose this node) fails
  the mount, and the pod worker retries it;
- configMap, secret, projected, downwardAPI: the objects' keys (the pod's own
  fields) written as files with the atomic writer (projection.py), secrets on
  a tmpfs so they never touch disk. Re-projecting on later syncs carries
  updates into running pods (the pod worker re-projects at once when the
  pod's labels or annotations change).

With the pod's securityContext.fsGroup, emptyDirs and local volumes are given
to that group (ownership.py, following fsGroupChangePolicy) when this kubelet
first sets them up for the pod, as Kubernetes does at a volume's mount, not
at every re-projection; projected files belong to it; hostPath volumes are
left alone, as in Kubernetes.

Who can read them: <root>/pods is 0700 (and the agent makes its root 0700),
so no local user but root reaches any pod's files on the host, whatever their
modes. The files' own modes are what the pod asks for (defaultMode, items[].mode,
0644 by the API's defaulting, as in Kubernetes, so that a container running as
another user can read its secrets); a Secret with no mode at all gets 0600.

Everything here is idempotent: a kubelet that restarts finds the directories
and mounts where it left them. Filesystem work runs on a worker thread.
"""
import asyncio
import os
import shutil
import ctypes
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message

from agent.kubelet import downward
from agent.kubelet.ownership import set_ownership
from agent.kubelet.objects import CONFIG_MAP, SECRET, ObjectSource, fetch_items
from agent.kubelet.projection import project
from controlplane.api import quantity


class MountFailed(Exception):
    """A volume could not be set up; the pod waits (reason FailedMount) and is retried."""

    def __init__(self, volume: str, reason: str) -> None:
        super().__init__(f'volume "{volume}": {reason}')
        self.volume = volume


class PodVolumes:
    def __init__(self, root: Path, objects: ObjectSource, *, tmpfs: bool = True) -> None:
        """tmpfs=False: memory-backed volumes (secrets, medium: Memory) are plain directories, for hollow
        nodes, which must not mount anything."""
        self.root = Path(root)
        self._objects = objects
        self._tmpfs = tmpfs
        self._owned: set[tuple[str, str]] = set()   # (pod uid, volume) given to the pod's fsGroup already

    def pod_dir(self, uid: str) -> Path:
        return self.root / "pods" / uid

    def known_pods(self) -> set[str]:
        """uids of pods that have a directory here (to clean up after pods gone while we were down)."""
        pods = self.root / "pods"
        return {entry.name for entry in pods.iterdir()} if pods.is_dir() else set()

    async def setup(self, pod: Message, *, pod_ip: str = "") -> dict[str, str]:
        """Make every volume of the pod ready; volume name → host path."""
        await asyncio.to_thread(private_directory, self.root / "pods")
        paths = {}
        for volume in pod.spec.volumes:
            paths[volume.name] = str(await self._setup_one(pod, volume, pod_ip))
        return paths

    async def _setup_one(self, pod: Message, volume: Message, pod_ip: str) -> Path:
        here = self.pod_dir(pod.metadata.uid) / "volumes" / volume.name
        source = _source_of(volume)
        group = _fs_group(pod)
        if source == "host_path":
            await asyncio.to_thread(_host_path, volume.name, volume.host_path)
            return Path(volume.host_path.path)
        if source == "persistent_volume_claim":
            claimed = await self._claimed(pod, volume)
            if group is not None and claimed.is_local:
                await self._own_once(pod, volume.name, claimed.path)
            return claimed.path
        if source == "empty_dir":
            size = volume.empty_dir.size_limit
            memory = volume.empty_dir.medium == "Memory"
            await asyncio.to_thread(_directory, here, tmpfs=memory and self._tmpfs,
                                    size=_bytes(volume.name, size) if size else 0, mode=0o777)
            if group is not None:
                await self._own_once(pod, volume.name, here)
            return here
        files = await self._files(pod, volume, source, pod_ip)
        await asyncio.to_thread(_directory, here, tmpfs=self._tmpfs and source in ("secret", "projected"), size=0)
        await asyncio.to_thread(project, here, files, group=group)
        return here

    async def _own_once(self, pod: Message, volume: str, path: Path) -> None:
        key = (pod.metadata.uid, volume)
        if key not in self._owned:
            context = pod.spec.security_context
            await asyncio.to_thread(set_ownership, path, context.fs_group, policy=context.fs_group_change_policy)
            self._owned.add(key)

    async def _claimed(self, pod: Message, volume: Message) -> "_Claimed":
        name = volume.persistent_volume_claim.claim_name
        claim = await self._objects.persistent_volume_claim(pod.metadata.namespace, name)
        if claim is None:
            raise MountFailed(volume.name, f'persistentvolumeclaim "{name}" not found')
        if claim.status.phase != "Bound" or not claim.spec.volume_name:
            raise MountFailed(volume.name, f'persistentvolumeclaim "{name}" is not bound yet')
        bound = await self._objects.persistent_volume(claim.spec.volume_name)
        if bound is None:
            raise MountFailed(volume.name, f'persistentvolume "{claim.spec.volume_name}" not found')
        if bound.spec.HasField("host_path"):
            await asyncio.to_thread(_host_path, volume.name, bound.spec.host_path)
            return _Claimed(Path(bound.spec.host_path.path), is_local=False)
        path = Path(bound.spec.local.path)
        if not await asyncio.to_thread(path.is_dir):
            raise MountFailed(volume.name, f"local volume {path} is not a directory on this node")
        return _Claimed(path, is_local=True)

    async def _files(self, pod: Message, volume: Message, source: str, pod_ip: str) -> dict[str, tuple[bytes, int]]:
        namespace = pod.metadata.namespace
        if source == "config_map":
            spec = volume.config_map
            items = await self._items(volume.name, CONFIG_MAP, namespace, spec.name, spec.optional)
            return _select(volume.name, items, spec.items, spec.default_mode)
        if source == "secret":
            spec = volume.secret
            items = await self._items(volume.name, SECRET, namespace, spec.secret_name, spec.optional)
            return _select(volume.name, items, spec.items, spec.default_mode or _SECRET_MODE)
        if source == "projected":
            return await self._projected(pod, volume, pod_ip)
        if source == "downward_api":
            return _downward_files(volume.name, pod, volume.downward_api, volume.downward_api.default_mode, pod_ip)
        raise MountFailed(volume.name, f"volume type {source or '(none)'} is not supported")

    async def _projected(self, pod: Message, volume: Message, pod_ip: str) -> dict[str, tuple[bytes, int]]:
        mode = volume.projected.default_mode
        files: dict[str, tuple[bytes, int]] = {}
        for projection in volume.projected.sources:
            if projection.HasField("config_map"):
                spec = projection.config_map
                items = await self._items(volume.name, CONFIG_MAP, pod.metadata.namespace, spec.name,
                                          spec.optional)
                files.update(_select(volume.name, items, spec.items, mode))
            elif projection.HasField("secret"):
                spec = projection.secret
                items = await self._items(volume.name, SECRET, pod.metadata.namespace, spec.name,
                                          spec.optional)
                files.update(_select(volume.name, items, spec.items, mode or _SECRET_MODE))
            elif projection.HasField("downward_api"):
                files.update(_downward_files(volume.name, pod, projection.downward_api, mode, pod_ip))
            else:
                raise MountFailed(volume.name, "serviceAccountToken projections are not supported yet")
        return files

    async def _items(self, volume: str, what: str, namespace: str, name: str,
                     optional: bool) -> dict[str, bytes]:
        found = await fetch_items(self._objects, what, namespace, name)
        if found is None:
            if optional:
                return {}
            raise MountFailed(volume, f'{what} "{name}" not found')
        return found

    async def teardown(self, uid: str) -> None:
        """Unmount and delete everything the pod had here."""
        await asyncio.to_thread(_remove_pod_dir, self.pod_dir(uid))
        self._owned = {key for key in self._owned if key[0] != uid}


_SECRET_MODE = 0o600   # a Secret's files when the pod gives no mode (the API's defaulting gives 0644)


@dataclass(frozen=True)
class _Claimed:
    """Where a claim's volume is, and whether it is a local volume (which fsGroup applies to)."""
    path: Path
    is_local: bool


def _fs_group(pod: Message) -> int | None:
    context = pod.spec.security_context
    return context.fs_group if context.HasField("fs_group") else None




def private_directory(path: Path) -> None:
    """`path`, made if missing, readable by root only (re-tightened if it was not)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _source_of(volume: Message) -> str:
    for name in ("host_path", "empty_dir", "secret", "config_map", "projected", "persistent_volume_claim",
                 "downward_api"):
        if volume.HasField(name):
            return name
    return "empty_dir"


def _bytes(volume: str, text: str) -> int:
    try:
        return quantity.to_int(text)
    except quantity.QuantityError as e:
        raise MountFailed(volume, str(e)) from None


def _select(volume: str, items: dict[str, bytes], chosen, default_mode: int) -> dict[str, tuple[bytes, int]]:
    """All keys as files, or only the `items` listed (key → path, with their own modes)."""
    mode = default_mode or 0o644
    if not chosen:
        return {key: (value, mode) for key, value in items.items()}
    files = {}
    for item in chosen:
        if item.key not in items:
            raise MountFailed(volume, f'key "{item.key}" not found')
        files[item.path] = (items[item.key], item.mode if item.HasField("mode") else mode)
    return files


def _downward_files(volume: str, pod: Message, source: Message, default_mode: int,
                    pod_ip: str) -> dict[str, tuple[bytes, int]]:
    files = {}
    for item in source.items:
        try:
            if item.HasField("field_ref"):
                text = downward.field_value(pod, item.field_ref.field_path, pod_ip=pod_ip)
            else:
                ref = item.resource_field_ref
                text = downward.resource_value(pod, ref.container_name, ref.resource, ref.divisor)
        except downward.FieldNotSupported as e:
            raise MountFailed(volume, str(e)) from None
        files[item.path] = (text.encode(), item.mode if item.HasField("mode") else (default_mode or 0o644))
    return files


def _host_path(volume: str, source: Message) -> None:
    path = Path(source.path)
    kind = source.type
    if kind == "DirectoryOrCreate":
        path.mkdir(parents=True, exist_ok=True)
    elif kind == "FileOrCreate":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    elif kind == "Directory" and not path.is_dir():
        raise MountFailed(volume, f"hostPath {path} is not a directory")
    elif kind == "File" and not path.is_file():
        raise MountFailed(volume, f"hostPath {path} is not a file")
    elif kind in ("Socket", "CharDevice", "BlockDevice") and not path.exists():
        raise MountFailed(volume, f"hostPath {path} does not exist")


# mount(2) and umount2(2) straight from libc: a pod with a secret costs no fork of the agent.
_LIBC = ctypes.CDLL(None, use_errno=True)
_MNT_DETACH = 2


def _directory(path: Path, *, tmpfs: bool, size: int, mode: int | None = None) -> None:
    """`path` made (a tmpfs mounted on it if asked); `mode`: its permissions, set on the directory or tmpfs."""
    path.mkdir(parents=True, exist_ok=True)
    if tmpfs and not os.path.ismount(path):
        options = "mode=0755" + (f",size={size}" if size else "")
        if _LIBC.mount(b"tmpfs", os.fsencode(path), b"tmpfs", 0, options.encode()) != 0:
            raise MountFailed(path.name, f"tmpfs mount failed: {os.strerror(ctypes.get_errno())}")
    if mode is not None and path.stat().st_mode & 0o777 != mode:
        path.chmod(mode)


def _remove_pod_dir(pod_dir: Path) -> None:
    volumes = pod_dir / "volumes"
    if volumes.is_dir():
        for entry in volumes.iterdir():
            if os.path.ismount(entry) and _LIBC.umount2(os.fsencode(entry), 0) != 0:
                # Still busy (a process of the pod's not quite gone): detach it; it goes when released.
                _LIBC.umount2(os.fsencode(entry), _MNT_DETACH)
    shutil.rmtree(pod_dir, ignore_errors=True)
