"""What a pod's fsGroup costs at volume setup: giving a volume of N files to the group.

    python bench/fsgroup_bench.py [--files 2000] [--rounds 3]

A directory tree of `--files` small files (100 per directory) on the local
disk, owned by root. Rows: our set_ownership (agent/kubelet/ownership.py) with
fsGroupChangePolicy Always on the fresh tree and again on a tree already
owned (what every setup of an Always volume costs), and OnRootMismatch on an
owned tree (the walk skipped); beside them the peer, coreutils' `chgrp -R`
then `chmod -R g+rw` on the fresh tree. Best of `--rounds` rounds, in ms.
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from agent.kubelet.ownership import set_ownership  # noqa: E402
from bench.table import print_table  # noqa: E402

GROUP = 2000


def make_tree(root: pathlib.Path, files: int) -> None:
    for index in range(files):
        directory = root / f"d{index // 100}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{index}").write_bytes(b"x")


def timed(action) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def best(args, setup, action) -> float:
    """The best of `rounds` timings of `action(root)` on a tree made by `setup(root)`."""
    results = []
    for _ in range(args.rounds):
        root = pathlib.Path(tempfile.mkdtemp(prefix="fsgroup-bench-"))
        try:
            make_tree(root, args.files)
            setup(root)
            results.append(timed(lambda: action(root)))
        finally:
            shutil.rmtree(root)
    return min(results)


def coreutils(root: pathlib.Path) -> None:
    subprocess.run(["chgrp", "-R", str(GROUP), str(root)], check=True)
    subprocess.run(["chmod", "-R", "g+rw", str(root)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: changing a file's group to one you are not in needs it")

    def owned(root):
        set_ownership(root, GROUP)

    rows = [
        {"case": "ours: Always, fresh tree", "ms": best(args, lambda r: None, owned)},
        {"case": "ours: Always, already owned", "ms": best(args, owned, owned)},
        {"case": "ours: OnRootMismatch, already owned",
         "ms": best(args, owned, lambda r: set_ownership(r, GROUP, policy="OnRootMismatch"))},
        {"case": "peer: chgrp -R + chmod -R g+rw, fresh tree", "ms": best(args, lambda r: None, coreutils)},
    ]
    for row in rows:
        row["files"] = args.files
        row["µs/file"] = row["ms"] * 1000 / args.files
    print_table(rows, note=f"best of {args.rounds} rounds; group {GROUP}")


if __name__ == "__main__":
    main()
