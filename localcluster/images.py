"""Images every node has from the start, without a registry: the pause image and busybox.

`python -m localcluster.images [DOCKER_URL]` makes them in one daemon (the
one-host install does, so its example app needs no registry).

Both are built from the host's static busybox (agent/runtime/rootfs.py) once,
in the first node's dockerd, then copied to the others with `docker save` /
`docker load`, so every node holds the same image IDs (importing separately
would give each node different ones). busybox's tag is not "latest", so a pod
using it never tries a registry (pull policy IfNotPresent).
"""
from __future__ import annotations

import asyncio

import docker

from agent.runtime.dockerapi import DockerAPI
from agent.runtime.engine import Engine
from agent.runtime.pause import PAUSE_IMAGE, ensure_pause
from agent.runtime.rootfs import busybox_rootfs

BUSYBOX_IMAGE = "busybox:local"


def build(docker_url: str) -> list[str]:
    """Make the images in that daemon (the kubelet's own recipe for pause); returns their names."""
    engine = Engine(DockerAPI(docker_url), workers=1)
    try:
        asyncio.run(ensure_pause(engine, PAUSE_IMAGE))
    finally:
        engine.close()
    api = docker.APIClient(docker_url, version="auto")
    try:
        api.inspect_image(BUSYBOX_IMAGE)
    except docker.errors.ImageNotFound:
        repository, _, tag = BUSYBOX_IMAGE.rpartition(":")
        api.import_image_from_data(busybox_rootfs(), repository=repository, tag=tag, changes=['CMD ["sh"]'])
    finally:
        api.close()
    return [PAUSE_IMAGE, BUSYBOX_IMAGE]


def copy(source: docker.APIClient, targets: list[docker.APIClient], names: list[str]) -> None:
    for name in names:
        data = b"".join(source.get_image(name))
        for target in targets:
            for _ in target.load_image(data):
                pass


if __name__ == "__main__":
    import sys
    print(" ".join(build(sys.argv[1] if len(sys.argv) > 1 else "unix:///var/run/docker.sock")))
