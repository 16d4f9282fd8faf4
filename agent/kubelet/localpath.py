"""The node's part of the local-path provisioner: volumes' directories, and their removal.

The provisioner (controlplane/controllers/persistentvolume.py) makes a volume
as a directory under this node's local-path directory, which the agent
publishes on its Node (LOCAL_PATH_DIR_ANNOTATION); the kubelet creates it at
the first mount. When such a volume is Released with reclaim policy Delete,
this cleaner, on the volume's node, removes the directory and then the
volume, as k3s's provisioner does with a helper pod on that node. It removes
only directories directly inside its own local-path directory, whatever a
volume says, so a hand-made volume can never point it at other host paths.
"""
import asyncio
import logging
import shutil
from pathlib import Path

from google.protobuf.message import Message

from controlplane.api import localpath
from controlplane.client import Client
from controlplane.client.errors import ApiError, NotFound
from controlplane.client.informer import Informer

log = logging.getLogger(__name__)


def storage_dir(root_dir: Path) -> Path:
    return Path(root_dir) / "storage"


class LocalPathCleaner:
    def __init__(self, client: Client, node_name: str, root_dir: Path) -> None:
        self._api = client.resource("PersistentVolume")
        self._node = node_name
        self._dir = storage_dir(root_dir)
        self._volumes = Informer(self._api)
        self._volumes.add_handler(on_add=self._seen, on_update=lambda _old, new: self._seen(new))
        self._pending: set[asyncio.Task] = set()

    def start(self) -> None:
        self._volumes.start()

    async def stop(self) -> None:
        await self._volumes.stop()
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)

    def _seen(self, volume: Message) -> None:
        if localpath.agent_deletes(volume, self._node):
            task = asyncio.get_running_loop().create_task(self._remove(volume))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _remove(self, volume: Message) -> None:
        directory = Path(localpath.local_directory(volume))
        if directory.parent != self._dir or directory.name in ("", ".", ".."):
            log.warning("volume %s: %s is not in %s; leaving it", volume.metadata.name, directory, self._dir)
            return
        await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=True)
        try:
            await self._api.delete(volume.metadata.name, uid=volume.metadata.uid)
        except NotFound:
            pass
        except ApiError as e:
            log.warning("volume %s: removing it: %s", volume.metadata.name, e)
