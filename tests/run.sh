#!/bin/bash
# Install everything the tests need on this Debian host, then run the whole suite.
#   sudo ./tests/run.sh [pytest args...]
# Tests start their own servers, dockerds, etcds and network namespaces.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root (tests make network namespaces and run dockerd)" >&2; exit 1; }
"$REPO/deploy/install.sh" --no-start --dev
for p in etcd-server; do
  dpkg -s "$p" >/dev/null 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
    # Debian starts a system etcd on install; the tests start their own on free ports.
    [ -d /run/systemd/system ] && systemctl disable --now etcd >/dev/null 2>&1 || true
  }
done
# The dashboard's browser test drives Debian's headless Chromium over the DevTools protocol (tests/dashboard/).
dpkg -s chromium >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
cd "$REPO"
exec /opt/coxswain/venv/bin/python -m pytest -q "$@"
