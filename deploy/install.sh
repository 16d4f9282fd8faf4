#!/bin/bash
# Install coxswain on this Debian host and run it.
#
#   sudo ./deploy/install.sh                  a one-node cluster (server + agent) running the example app
#   sudo ./deploy/install.sh --server HOST:6443 --token-file FILE   join an existing cluster as an agent
#   sudo ./deploy/install.sh --no-start       install only (tests/run.sh uses this)
#   sudo ./deploy/install.sh --no-example     a one-node cluster (server + agent), nothing applied to it
#
# Options: --dev (also the development and test tools), --node-ip IP (the
# address other nodes reach this one at; default: the default route's source),
# --tls-san NAME (an extra name or address for the server's certificate),
# --token TOKEN (the join token itself rather than a file holding it),
# --server-arg ARG (an extra `cox server` argument; repeats),
# --agent-arg ARG (an extra `cox agent` argument; repeats),
# --wheelhouse DIR (install the Python packages from DIR's wheels, offline:
# deploy/vagrant/wheelhouse.sh makes one; the Debian packages must then be
# installed already, as in the Vagrant box).
# The agent reads the join token from /etc/cox/node-token (root only), never
# from its command line or environment.
# Fetches only from Debian's packages and PyPI. Idempotent: run it again to
# update the install from this checkout; what already runs is left running.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=/opt/coxswain/venv
DATA_DIR=/var/lib/cox
LOG_DIR=/var/log/cox
RUN_DIR=/run/cox
ENV_DIR=/etc/cox
TOKEN_FILE=$ENV_DIR/node-token
START=1 EXAMPLE=1 EXTRAS="" JOIN_SERVER="" JOIN_TOKEN="" JOIN_TOKEN_FILE="" NODE_IP="" TLS_SAN="" WHEELHOUSE=""
SERVER_ARGS=() AGENT_ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --no-start) START=0 ;;
    --no-example) EXAMPLE=0 ;;
    --dev) EXTRAS="[dev]" ;;
    --server) JOIN_SERVER=$2; shift ;;
    --token) JOIN_TOKEN=$2; shift ;;
    --token-file) JOIN_TOKEN_FILE=$2; shift ;;
    --wheelhouse) WHEELHOUSE=$(cd "$2" && pwd); shift ;;
    --node-ip) NODE_IP=$2; shift ;;
    --tls-san) TLS_SAN=$2; shift ;;
    --server-arg) SERVER_ARGS+=("$2"); shift ;;
    --server-arg=*) SERVER_ARGS+=("${1#--server-arg=}") ;;
    --agent-arg) AGENT_ARGS+=("$2"); shift ;;
    --agent-arg=*) AGENT_ARGS+=("${1#--agent-arg=}") ;;
    *) echo "usage: $0 [--no-start] [--no-example] [--dev] [--server HOST:PORT --token-file FILE|--token TOKEN]" \
            "[--node-ip IP] [--tls-san NAME] [--server-arg ARG]... [--agent-arg ARG]... [--wheelhouse DIR]" >&2
       exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ -n "$JOIN_TOKEN_FILE" ]; then
  [ -z "$JOIN_TOKEN" ] || { echo "--token and --token-file: give one" >&2; exit 2; }
  JOIN_TOKEN=$(cat "$JOIN_TOKEN_FILE") || exit 2
  [ -n "$JOIN_TOKEN" ] || { echo "--token-file: $JOIN_TOKEN_FILE is empty" >&2; exit 2; }
fi
[ -z "$JOIN_SERVER" ] || [ -n "$JOIN_TOKEN" ] || { echo "--server needs --token-file (or --token)" >&2; exit 2; }

say() { echo "==> $*"; }

install_packages() {
  local want=(python3 python3-venv docker.io nftables iptables iproute2 conntrack
              busybox-static util-linux procps ca-certificates)
  # Compilers only for packages PyPI has no wheel of; a wheelhouse has wheels only.
  [ -n "$WHEELHOUSE" ] || want+=(python3-dev gcc)
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
  local pip=("$VENV/bin/pip" install -q --disable-pip-version-check)
  if [ -n "$WHEELHOUSE" ]; then
    # From a wheelhouse (the Vagrant VMs, often emulated and slow): the build system
    # goes into the venv itself rather than a throwaway build environment, and
    # nothing is byte-compiled ahead of time (modules compile when first imported).
    pip+=(--no-index --find-links "$WHEELHOUSE" --no-compile)
    "${pip[@]}" $("$VENV/bin/python" -c 'import sys, tomllib
print(*tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"])' "$REPO/pyproject.toml")
    pip+=(--no-build-isolation)
  fi
  "${pip[@]}" -e "$REPO$EXTRAS"
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

# start_unit NAME: a systemd unit from deploy/systemd, or the same command as a background daemon.
start_unit() {
  local name=$1
  if have_systemd; then
    install -m 0644 "$REPO/deploy/systemd/$name.service" /etc/systemd/system/
    systemctl daemon-reload
    systemctl enable --now "$name" >/dev/null
  else
    set -a; . "$ENV_DIR/$name.env"; set +a
    case $name in
      cox-server) start_daemon "$name" "$VENV/bin/cox" server --data-dir "$DATA_DIR" $COX_SERVER_ARGS ;;
      cox-agent) start_daemon "$name" "$VENV/bin/cox" agent --server "$COX_SERVER" --token-file "$COX_TOKEN_FILE" \
                   $COX_AGENT_ARGS ;;
    esac
  fi
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "timed out waiting for $what; logs in $LOG_DIR (or journalctl -u cox-server -u cox-agent)" >&2
  exit 1
}

start_docker() {
  if docker version >/dev/null 2>&1; then return; fi
  if have_systemd; then systemctl enable --now docker >/dev/null; else start_daemon dockerd /usr/sbin/dockerd; fi
  wait_for 30 "dockerd" docker version
}

start_server() {
  mkdir -p "$ENV_DIR"
  echo "COX_SERVER_ARGS=${TLS_SAN:+--tls-san $TLS_SAN} ${SERVER_ARGS[*]}" >"$ENV_DIR/cox-server.env"
  start_unit cox-server
  wait_for 60 "cox server" cox --config "$DATA_DIR/admin.yaml" version
}

start_agent() {  # start_agent SERVER TOKEN
  mkdir -p "$ENV_DIR"
  (umask 077; printf '%s\n' "$2" >"$TOKEN_FILE.new")
  mv "$TOKEN_FILE.new" "$TOKEN_FILE"
  printf 'COX_SERVER=%s\nCOX_TOKEN_FILE=%s\nCOX_AGENT_ARGS=%s\n' "$1" "$TOKEN_FILE" \
    "${NODE_IP:+--node-ip $NODE_IP} ${AGENT_ARGS[*]}" >"$ENV_DIR/cox-agent.env"
  # The example's image, made from the host's busybox: no registry needed.
  "$VENV/bin/python" -m localcluster.images >/dev/null
  start_unit cox-agent
}

run_example() {
  export COX_CONFIG="$DATA_DIR/admin.yaml"
  wait_for 60 "this node to be Ready" sh -c "cox get nodes | grep -qw Ready"
  say "applying the example app ($REPO/deploy/examples/hello.yaml)"
  cox apply -f "$REPO/deploy/examples/hello.yaml"
  cox rollout status deployment/hello --timeout 120
  local pod
  pod=$(cox get pods -l app=hello -o name | head -1)
  say "asking the Service by its DNS name from inside $pod:"
  wait_for 30 "the hello Service" cox exec "${pod#pod/}" -- wget -q -O- http://hello
  cox exec "${pod#pod/}" -- wget -q -O- http://hello
  cox get pods -o wide
}

install_packages
install_python
[ "$START" = 1 ] || exit 0
start_docker
if [ -n "$JOIN_SERVER" ]; then
  start_agent "$JOIN_SERVER" "$JOIN_TOKEN"
  say "agent started; on the server: cox get nodes"
  exit 0
fi
start_server
start_agent "127.0.0.1:6443" "$(cat "$DATA_DIR/node-token")"
[ "$EXAMPLE" = 0 ] || run_example
cat <<EOF

coxswain is running: cox get nodes, cox get pods, cox describe pod NAME, cox logs NAME.
The admin config is $DATA_DIR/admin.yaml (also ~/.cox/config). Other hosts join with a copy
of the join token $DATA_DIR/node-token (keep it root-only):
  sudo ./deploy/install.sh --server <this host's address>:6443 --token-file NODE_TOKEN_COPY
EOF
