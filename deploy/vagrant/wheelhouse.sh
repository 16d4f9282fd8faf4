#!/bin/bash
# Download coxswain's Python dependencies (pyproject.toml: the project's and its
# build system's) as wheels for Debian 12's Python 3.11 on x86_64, from PyPI,
# into a directory the VMs get a copy of: they have no network to the outside,
# and deploy/install.sh --wheelhouse DIR installs from it offline.
#
#   deploy/vagrant/wheelhouse.sh            download if needed; prints the directory
#   deploy/vagrant/wheelhouse.sh --name     the directory only, downloading nothing
#
# The directory's name carries a hash of the dependency list; an unchanged list
# reuses it from $COX_VAGRANT_CACHE (default /var/cache/coxswain/vagrant).
# Wheels only, for the VMs' platform rather than this host's, so any host will do.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${COX_VAGRANT_CACHE:-/var/cache/coxswain/vagrant}
requirements=$(python3 -c '
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)
print("\n".join(project["build-system"]["requires"] + project["project"]["dependencies"]))
' "$REPO/pyproject.toml")
DIR="$CACHE/wheelhouse-$(echo "$requirements" | sha256sum | cut -c1-12)"
if [ "${1:-}" = --name ]; then echo "$DIR"; exit 0; fi
[ $# = 0 ] || { echo "usage: $0 [--name]" >&2; exit 2; }
if [ -f "$DIR/.complete" ]; then echo "$DIR"; exit 0; fi

mkdir -p "$CACHE"
PIP=/opt/coxswain/venv/bin/pip
if [ ! -x "$PIP" ]; then
  [ -x "$CACHE/pip-venv/bin/pip" ] || python3 -m venv "$CACHE/pip-venv"
  PIP="$CACHE/pip-venv/bin/pip"
fi
echo "==> downloading wheels into $DIR" >&2
mapfile -t wanted <<<"$requirements"
"$PIP" download -q --disable-pip-version-check --dest "$DIR" --only-binary=:all: \
  --implementation cp --python-version 3.11 --abi cp311 --platform manylinux_2_36_x86_64 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform linux_x86_64 "${wanted[@]}" >&2
touch "$DIR/.complete"
echo "$DIR"
