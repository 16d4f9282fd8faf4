"""The busybox test image, built locally (no registry is reachable in tests).

Every busybox applet (sh, httpd, wget, nc, sleep, ...) linked in /bin, from
Debian's busybox-static, imported with `docker import`. Its tag is not
"latest", so Kubernetes' default pull policy for it is IfNotPresent and a
pod using it never tries to reach a registry.
"""
import docker

from agent.runtime.rootfs import busybox_rootfs

BUSYBOX_IMAGE = "coxswain-test/busybox:1"


def ensure_busybox(api: docker.APIClient, image: str = BUSYBOX_IMAGE) -> str:
    """The test image's id on this daemon, importing it first if missing."""
    try:
        return api.inspect_image(image)["Id"]
    except docker.errors.ImageNotFound:
        pass
    repository, _, tag = image.rpartition(":")
    api.import_image_from_data(busybox_rootfs(), repository=repository, tag=tag,
                               changes=['CMD ["sh"]'])
    return api.inspect_image(image)["Id"]
