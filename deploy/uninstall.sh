#!/bin/bash
# Remove coxswain from this host: stop and remove what deploy/install.sh installed and started.
#
#   sudo ./deploy/uninstall.sh                stop cox-agent and cox-server and remove their units; remove the
#                                             pods (containers, volume mounts) and the agent's networking;
#                                             delete /etc/cox, /var/lib/cox (the cluster's data: every object,
#                                             the certificates, the join token) and /var/log/cox
#   sudo ./deploy/uninstall.sh --remove-venv  also delete /opt/coxswain (the venv, which a development
#                                             checkout may share) and /usr/local/bin/cox
#
# Order: the agent stops first (it would recreate what is being removed),
# then the server; then `cox agent --cleanup --cleanup-pods` removes every
# container labelled io.coxswain.managed-by=coxswain, the pods' volume mounts,
# the agent's nft tables, links, routes and DOCKER-USER rules and the pod
# network in Docker. It runs with the agent's own arguments
# (/etc/cox/cox-agent.env), so a --node-name or --docker-url given at install
# time is used again. `cox local` clusters are taken down before their
# default home, /var/lib/cox/local, is deleted.
#
# Docker stays installed and running, with its images (coxswain/pause:1,
# busybox:local); so do the Debian packages install.sh added and the IP
# forwarding the agent turned on. On a node of a larger cluster, also delete
# its Node from the cluster (`cox delete node NAME`). Safe to run twice.
set -euo pipefail

ROOT=${COX_UNINSTALL_ROOT:-}   # for tests only: act on the file system below this directory instead of /
VENV=/opt/coxswain/venv        # as install.sh; paths below are read and removed with $ROOT in front
DATA_DIR=/var/lib/cox
LOG_DIR=/var/log/cox
RUN_DIR=/run/cox
ENV_DIR=/etc/cox
UNIT_DIR=/etc/systemd/system
LOCAL_RUN_ROOT=/run/cox-local  # `cox local` clusters (localcluster/layout.py)
REMOVE_VENV=0
usage() { echo "usage: $0 [--remove-venv]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --remove-venv) REMOVE_VENV=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) usage ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

say() { echo "==> $*"; }
COX=$ROOT$VENV/bin/cox
have_cox() { [ -x "$COX" ]; }
have_systemd() { [ -d "$ROOT/run/systemd/system" ]; }

# alive PID: running, and not a zombie (a zombie is gone, only not yet collected by its parent).
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]; }

# stop_pid NAME PID: SIGTERM, SIGKILL after 15 s.
stop_pid() {
  kill -TERM "$2" 2>/dev/null || true
  for _ in $(seq 1 75); do alive "$2" || break; sleep 0.2; done
  if alive "$2"; then kill -KILL "$2" 2>/dev/null || true; fi
  say "stopped $1 (pid $2)"
}

# stop_daemon NAME COMMAND: the daemon install.sh started, as a systemd unit or with a pidfile.
# The pidfile's PID is signalled only while it still runs `cox COMMAND` (PIDs get reused).
stop_daemon() {
  local name=$1 command=$2 pidfile=$ROOT$RUN_DIR/$1.pid pid
  if have_systemd && [ -f "$ROOT$UNIT_DIR/$name.service" ]; then
    systemctl disable --now "$name" >/dev/null 2>&1 || true
    say "stopped and disabled the $name unit"
  fi
  if [ -f "$ROOT$UNIT_DIR/$name.service" ]; then
    rm -f "$ROOT$UNIT_DIR/$name.service"
    if have_systemd; then systemctl daemon-reload; fi
  fi
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "cox $command\b"; then
    stop_pid "$name" "$pid"
  else
    say "$name was not running (stale $pidfile)"
  fi
  rm -f "$pidfile"
}

# agent_args: the arguments cox-agent ran with, from install.sh's env file. Read as systemd reads an
# EnvironmentFile (the value is the rest of the line, quotes around it dropped); sourcing it in a shell
# would run "--node-ip 10.0.0.5" as an assignment and a command.
agent_args() {
  [ -f "$ROOT$ENV_DIR/cox-agent.env" ] || return 0
  sed -n 's/^COX_AGENT_ARGS=//p' "$ROOT$ENV_DIR/cox-agent.env" | tail -n 1 | sed 's/^"\(.*\)"$/\1/'
}

clean_agent() {
  if ! have_cox; then
    say "no $COX: skipping the agent's clean-up (reinstall, then run this again, to have it done)"
    return
  fi
  say "cox agent --cleanup --cleanup-pods $(agent_args)"
  # shellcheck disable=SC2046  # the env file's arguments, split as systemd and install.sh split them
  "$COX" agent --cleanup --cleanup-pods $(agent_args) ||
    say "the clean-up reported errors (above); run this again to retry"
}

# local_clusters: names of `cox local` clusters; their daemons and files may live under $DATA_DIR.
local_clusters() {
  local state
  for state in "$ROOT$LOCAL_RUN_ROOT"/*/state.json; do
    [ -e "$state" ] && basename "$(dirname "$state")"
  done
  return 0
}

# delete PATH...: rm -rf, but never into a mount (a pod volume or local cluster still mounted below it):
# that would delete what is in it.
delete() {
  local path
  for path in "$@"; do
    [ -e "$ROOT$path" ] || continue
    if rm -rf --one-file-system "$ROOT$path"; then
      say "deleted $path"
    else
      say "could not delete all of $path: something is mounted below it (findmnt -R $path)"
    fi
  done
}

remove_files() {
  local name
  for name in $(local_clusters); do
    if have_cox; then
      say "cox local down --name $name"
      "$COX" local down --name "$name" || true
    fi
  done
  if [ -f "$ROOT/root/.cox/config" ] && cmp -s "$ROOT/root/.cox/config" "$ROOT$DATA_DIR/admin.yaml"; then
    rm -f "$ROOT/root/.cox/config"   # the server's copy of its admin config (not another cluster's)
    rmdir "$ROOT/root/.cox" 2>/dev/null || true
  fi
  delete "$DATA_DIR" "$ENV_DIR" "$LOG_DIR"
  rmdir "$ROOT$RUN_DIR" 2>/dev/null || true
  if [ "$REMOVE_VENV" = 1 ]; then
    if [ "$(readlink "$ROOT/usr/local/bin/cox" 2>/dev/null)" = "$VENV/bin/cox" ]; then
      rm -f "$ROOT/usr/local/bin/cox"
    fi
    delete "$(dirname "$VENV")"
  fi
}

stop_daemon cox-agent agent
stop_daemon cox-server server
clean_agent
remove_files
say "coxswain is uninstalled$([ "$REMOVE_VENV" = 1 ] || echo " (the venv $VENV stays: --remove-venv deletes it)")"
say "Docker stays installed and running"
