"""The pause image: the process that holds a pod's namespaces open.

Kubernetes' pause is a few lines of C. We have no registry and want no C
toolchain on a node, so ours is built here from Debian's busybox-static,
with only the `sh` and `sleep` applets, and this entrypoint:

    trap 'exit 0' TERM INT
    while :; do sleep 2147483647 & wait $!; done

Why it behaves like a pause:
- Signals. As PID 1 of its PID namespace, a process gets only the signals it
  installed handlers for; the `trap` installs one, and busybox ash's `wait`
  returns as soon as a trapped signal arrives, so SIGTERM stops the sandbox
  at once (exit 0) instead of after Docker's SIGKILL timeout.
- Zombies. Orphans in the sandbox's PID namespace (e.g. from a `docker exec`
  into it) are re-parented to PID 1. ash's `wait` collects children with
  waitpid(-1), so any child that dies wakes it and is reaped; the loop then
  waits again. tests/runtime checks both properties.
- Cost: one ash and one sleep, about 1 MB RSS; the image is about 2 MB.

The image is rebuilt only when missing (`ensure_pause`); its tag names this
recipe's version, so a changed recipe gets a new tag.
"""
from agent.runtime import rootfs
from agent.runtime.engine import Engine
from agent.runtime.errors import NotFound

PAUSE_IMAGE = "coxswain/pause:1"

ENTRYPOINT = """#!/bin/sh
trap 'exit 0' TERM INT
while :; do sleep 2147483647 & wait $!; done
"""


def pause_rootfs() -> bytes:
    return rootfs.busybox_rootfs(applets=["sh", "sleep"], files={"pause": (ENTRYPOINT, 0o755)})


async def ensure_pause(engine: Engine, image: str = PAUSE_IMAGE) -> str:
    """The pause image's id, importing it first if this daemon lacks it."""
    try:
        return (await engine.call(engine.api.inspect_image, image))["Id"]
    except NotFound:
        pass
    repository, _, tag = image.rpartition(":")
    data = pause_rootfs()
    await engine.call(engine.api.import_image_from_data, data, repository=repository, tag=tag,
                      changes=['ENTRYPOINT ["/pause"]'])
    return (await engine.call(engine.api.inspect_image, image))["Id"]
