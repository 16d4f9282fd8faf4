#!/bin/bash
# Install coxswain on this Debian host and start a one-node cluster with an example app.
#
#   sudo ./deploy/install.sh            install, start server (+ agent), run the example
#   sudo ./deploy/install.sh --no-start install only (what tests/run.sh uses)
#   sudo ./deploy/install.sh --dev      also the development and test tools
#
# Fetches only from Debian's packages and PyPI. Idempotent: run it again to
# update the install from this checkout and restart nothing that runs fine.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=/opt/coxswain/venv
DATA_DIR=/var/lib/cox
LOG_DIR=/var/log/cox
RUN_DIR=/run/cox
START=1
EXTRAS=""
for arg in "$@"; do
  case $arg in
    --no-start) START=0 ;;
    --dev) EXTRAS="[dev]" ;;
    *) echo "usage: $0 [--no-start] [--dev]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

say() { echo "==> $*"; }

install_packages() {
  local want=(python3 python3-venv python3-dev gcc docker.io nftables iptables iproute2 conntrack
              busybox-static util-linux procps ca-certificates)
  local missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    mkdir -p "$(dirname "$VENV")"
    /usr/bin/python3 -m venv "$VENV"
  fi
  say "installing coxswain from $REPO into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -e "$REPO$EXTRAS"
  ln -sf "$VENV/bin/cox" /usr/local/bin/cox
}

have_systemd() { [ -d /run/systemd/system ]; }

# start_daemon NAME COMMAND...: run in the background once (pidfile in $RUN_DIR), logs in $LOG_DIR.
start_daemon() {
  local name=$1; shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  local pidfile="$RUN_DIR/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "$name already running (pid $(cat "$pidfile"))"
    return
  fi
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  say "$name started (pid $!, log $LOG_DIR/$name.log)"
}

start_docker() {
  if docker version >/dev/null 2>&1; then return; fi
  if have_systemd; then
    systemctl enable --now docker >/dev/null
  else
    start_daemon dockerd /usr/sbin/dockerd
  fi
  for _ in $(seq 1 100); do docker version >/dev/null 2>&1 && return; sleep 0.2; done
  echo "dockerd did not come up; see $LOG_DIR/dockerd.log" >&2; exit 1
}

start_server() {
  if have_systemd; then
    install -m 0644 "$REPO/deploy/systemd/cox-server.service" /etc/systemd/system/
    systemctl daemon-reload
    systemctl enable --now cox-server >/dev/null
  else
    start_daemon cox-server "$VENV/bin/cox" server --data-dir "$DATA_DIR"
  fi
  for _ in $(seq 1 150); do
    [ -f "$DATA_DIR/admin.yaml" ] && cox --config "$DATA_DIR/admin.yaml" version >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "cox server did not come up; see $LOG_DIR/cox-server.log (or journalctl -u cox-server)" >&2; exit 1
}

run_example() {
  export COX_CONFIG="$DATA_DIR/admin.yaml"
  say "applying the example app ($REPO/deploy/examples/hello.yaml)"
  cox apply -f "$REPO/deploy/examples/hello.yaml"
  cox get pods
}

install_packages
install_python
if [ "$START" = 1 ]; then
  start_docker
  start_server
  run_example
  cat <<EOF

coxswain is running. The admin config is $DATA_DIR/admin.yaml (also ~/.cox/config):
  cox get pods                  # kubectl-like commands
  cox version                   # who you are, which store
  grpcurl -cacert $DATA_DIR/tls/ca.crt -H "authorization: Bearer \$(awk '/^token:/{print \$2}' $DATA_DIR/admin.yaml)" 127.0.0.1:6443 list
EOF
fi
