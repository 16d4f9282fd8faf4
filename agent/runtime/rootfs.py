"""Registry-free image root filesystems made from a static busybox.

No image registry is reachable on the machines coxswain is tested on, so the
images it needs (the pause image, the busybox test image) are built locally:
a tar of a tiny root filesystem holding Debian's busybox-static binary and
one symlink per applet, handed to `docker import`. Building the tar in memory
keeps it free of temporary directories and of root-owned leftovers.
"""
import io
import os
import subprocess
import tarfile
import time
from collections.abc import Iterable

BUSYBOX = "/bin/busybox"  # Debian's busybox-static (`apt-get install busybox-static`)

_DIRS = {"bin": 0o755, "dev": 0o755, "etc": 0o755, "proc": 0o555, "root": 0o700,
         "sys": 0o555, "tmp": 0o1777, "var": 0o755}
_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
}


class BusyboxMissing(RuntimeError):
    """The static busybox binary the local images are built from is not installed."""


def busybox_applets(busybox: str = BUSYBOX) -> list[str]:
    """Every applet this busybox binary provides."""
    out = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout
    return [name for name in out.split() if name != "busybox"]


def busybox_rootfs(*, applets: Iterable[str] | None = None,
                   files: dict[str, tuple[str, int]] | None = None,
                   busybox: str = BUSYBOX) -> bytes:
    """A root filesystem tar: busybox in /bin with a link per applet, plus `files`.

    applets: the links to make (all applets when None); files: extra
    path → (text, mode) entries, e.g. an entrypoint script.
    """
    _require_static(busybox)
    names = busybox_applets(busybox) if applets is None else list(applets)
    now = time.time()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, mode in _DIRS.items():
            tar.addfile(_info(path, tarfile.DIRTYPE, mode, now))
        with open(busybox, "rb") as binary:
            size = os.fstat(binary.fileno()).st_size
            info = _info("bin/busybox", tarfile.REGTYPE, 0o755, now)
            info.size = size
            tar.addfile(info, binary)
        for name in names:
            link = _info(f"bin/{name}", tarfile.SYMTYPE, 0o777, now)
            link.linkname = "busybox"
            tar.addfile(link)
        for path, (text, mode) in {**{p: (t, 0o644) for p, t in _FILES.items()}, **(files or {})}.items():
            data = text.encode()
            info = _info(path, tarfile.REGTYPE, mode, now)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _info(name: str, kind: bytes, mode: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, int(mtime)
    return info


def _require_static(busybox: str) -> None:
    """A dynamically linked busybox would need a libc inside the image."""
    try:
        with open(busybox, "rb") as f:
            header = f.read(64)
            # ELF64: e_phoff at 32, e_phentsize at 54, e_phnum at 56; PT_INTERP (3) means dynamic.
            phoff = int.from_bytes(header[32:40], "little")
            phentsize = int.from_bytes(header[54:56], "little")
            phnum = int.from_bytes(header[56:58], "little")
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except FileNotFoundError:
        raise BusyboxMissing(f"{busybox} not found: install Debian's busybox-static") from None
    if header[:4] != b"\x7fELF" or header[4] != 2:
        raise BusyboxMissing(f"{busybox} is not a 64-bit ELF binary")
    for i in range(phnum):
        if int.from_bytes(table[i * phentsize:i * phentsize + 4], "little") == 3:
            raise BusyboxMissing(f"{busybox} is dynamically linked: install busybox-static")
