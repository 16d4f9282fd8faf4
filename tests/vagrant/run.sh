#!/bin/bash
# Multi-host end-to-end test on real VMs: deploy/Vagrantfile's server and two
# agents, with vagrant-libvirt, run on this machine.
#
#   sudo ./tests/vagrant/run.sh
#
# Installs what it needs from Debian (QEMU, libvirt, Vagrant, vagrant-libvirt,
# debootstrap, rsync), starts libvirtd and virtlogd if nothing runs them (and
# stops them after, by their PID files, once no other run uses them), builds
# the box or reuses it (deploy/vagrant/build-box.sh), brings the three VMs up,
# runs tests/vagrant/checks.sh from here, prints a timing table and the line
# "N passed, M failed", and removes everything it made, even on failure: VMs,
# libvirt networks and storage pool (with the box's volume), the per-run
# VAGRANT_HOME, and libvirt's iptables chains if it started libvirtd.
#
# Everything has a per-run name (libvirt's coxvt-<id>-*), and each run takes
# its own pair of /24s in 198.19.0.0/16 (RFC 2544), so runs can overlap.
# COX_VAGRANT_DRIVER=kvm uses KVM (default here: qemu, QEMU's emulation, as
# this machine's /dev/kvm cannot run these guests). COX_VAGRANT_KEEP=1 leaves
# the VMs up for a look (tear down with the printed command).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root (libvirt, debootstrap)" >&2; exit 1; }

ID=$(printf '%04x%02x' $(($$ % 65536)) $((RANDOM % 256)))
NAME=coxvt-$ID
RUN=/var/tmp/$NAME                  # disks live here: readable by QEMU's user
SHARED=/run/cox-vagrant             # what concurrent runs share: the daemons, the subnets (flock -o: the daemons must not inherit the lock)
GRACE_PERIOD=40                     # as Kubernetes: emulated VMs on a busy host send heartbeats late
mkdir -p -m 0755 "$RUN" "$SHARED/users"
echo "run $NAME: logs and disks in $RUN"

say() { echo "==> $*"; }
TIMES=()
record() { TIMES+=("$(printf '%-34s %8s  %s' "$1" "$2" "$3")"); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }

install_packages() {
  local want=(qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients vagrant vagrant-libvirt
              debootstrap rsync dnsmasq-base iptables openssh-client python3 python3-venv) missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_libvirt() {  # under the shared lock
  echo $$ >"$SHARED/users/$ID"
  virsh -c qemu:///system uri >/dev/null 2>&1 && return
  say "starting virtlogd and libvirtd"
  alive "$SHARED/virtlogd.pid" || virtlogd -d -p "$SHARED/virtlogd.pid"
  alive "$SHARED/libvirtd.pid" || libvirtd -d -p "$SHARED/libvirtd.pid"
  for _ in $(seq 60); do virsh -c qemu:///system uri >/dev/null 2>&1 && return; sleep 0.5; done
  echo "libvirtd did not answer" >&2
  return 1
}

# The iptables chains libvirt adds (and leaves behind, empty) when it runs networks.
remove_libvirt_chains() {
  local cmd table chain parent
  for cmd in iptables ip6tables; do
    for table in filter nat mangle; do
      for chain in $($cmd -t $table -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^LIBVIRT_/ {print $2}'); do
        for parent in INPUT OUTPUT FORWARD POSTROUTING; do
          while $cmd -t $table -D $parent -j "$chain" 2>/dev/null; do :; done
        done
        $cmd -t $table -F "$chain" && $cmd -t $table -X "$chain"
      done
    done
  done
}

stop_libvirt() {  # under the shared lock: the last run out stops what a run started
  local user
  rm -f "$SHARED/users/$ID"
  for user in "$SHARED"/users/*; do
    [ -e "$user" ] || continue
    kill -0 "$(cat "$user")" 2>/dev/null && return 0
    rm -f "$user"
  done
  local stopped=0 pidfile pid
  for pidfile in "$SHARED/libvirtd.pid" "$SHARED/virtlogd.pid"; do
    if alive "$pidfile"; then
      pid=$(cat "$pidfile")   # the daemon removes its PID file as it exits
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      stopped=1
    fi
    rm -f "$pidfile"
  done
  [ $stopped = 0 ] || remove_libvirt_chains
}

# A pair of /24s in 198.19.0.0/16 no other run, libvirt network or host address uses.
choose_subnets() {  # under the shared lock; sets NET and MGMT_NET
  local start=$((RANDOM % 127)) i n used
  used=$( (ip -4 -o addr; for net in $(virsh -c qemu:///system net-list --all --name); do
            virsh -c qemu:///system net-dumpxml "$net"; done) 2>/dev/null)
  for i in $(seq 0 126); do
    n=$(( ((start + i) % 127) * 2 ))
    if [ -f "$SHARED/subnet-$n" ] && kill -0 "$(cat "$SHARED/subnet-$n")" 2>/dev/null; then continue; fi
    echo "$used" | grep -qE "198\.19\.($n|$((n + 1)))\." && continue
    echo $$ >"$SHARED/subnet-$n"
    SUBNET_SLOT=$n NET="198.19.$n.0/24" MGMT_NET="198.19.$((n + 1)).0/24"
    return 0
  done
  echo "no free subnet pair in 198.19.0.0/16" >&2
  return 1
}

virsh() { command virsh -c qemu:///system "$@"; }

teardown() {
  local status=$?
  trap - EXIT INT TERM
  if [ "${COX_VAGRANT_KEEP:-}" = 1 ]; then
    echo "kept: VAGRANT_HOME=$VAGRANT_HOME VAGRANT_DOTFILE_PATH=$VAGRANT_DOTFILE_PATH VAGRANT_CWD=$VAGRANT_CWD" \
         "COX_VAGRANT_NAME=$NAME vagrant ssh server"
    return $status
  fi
  say "tearing down $NAME"
  local t0 vol net
  t0=$(now)
  [ -d "$VAGRANT_DOTFILE_PATH" ] && timeout 300 vagrant destroy -f >/dev/null 2>&1
  for dom in $(virsh list --all --name 2>/dev/null | grep "^$NAME-"); do
    virsh destroy "$dom" >/dev/null 2>&1; virsh undefine "$dom" --nvram >/dev/null 2>&1
  done
  for net in "$NAME-mgmt" "$NAME-net"; do
    virsh net-destroy "$net" >/dev/null 2>&1; virsh net-undefine "$net" >/dev/null 2>&1
  done
  if virsh pool-info "$NAME" >/dev/null 2>&1; then
    for vol in $(virsh vol-list "$NAME" 2>/dev/null | awk 'NR > 2 && $1 {print $1}'); do
      virsh vol-delete --pool "$NAME" "$vol" >/dev/null 2>&1
    done
    virsh pool-destroy "$NAME" >/dev/null 2>&1; virsh pool-undefine "$NAME" >/dev/null 2>&1
  fi
  flock -o "$SHARED/lock" bash -c "$(declare -f alive stop_libvirt remove_libvirt_chains); SHARED=$SHARED ID=$ID stop_libvirt"
  rm -f "$SHARED/subnet-${SUBNET_SLOT:-none}"
  rm -rf "$RUN"
  echo "teardown: $(since "$t0") s"
  return $status
}

# ---- setup -------------------------------------------------------------------
install_packages || exit 1
export VAGRANT_HOME=$RUN/vagrant.d VAGRANT_DOTFILE_PATH=$RUN/dot VAGRANT_CWD=$REPO/deploy
export VAGRANT_DEFAULT_PROVIDER=libvirt VAGRANT_CHECKPOINT_DISABLE=1
trap teardown EXIT
trap 'exit 130' INT TERM
flock -o "$SHARED/lock" bash -c "$(declare -f alive say start_libvirt); SHARED=$SHARED ID=$ID start_libvirt" || exit 1
exec 9>"$SHARED/subnet.lock"; flock 9
choose_subnets || exit 1
flock -u 9
export COX_VAGRANT_NAME=$NAME COX_VAGRANT_POOL=$NAME COX_VAGRANT_NET=$NET COX_VAGRANT_MGMT_NET=$MGMT_NET
export COX_VAGRANT_DRIVER=${COX_VAGRANT_DRIVER:-qemu} COX_VAGRANT_SERIAL_DIR=$RUN/serial
export COX_VAGRANT_SERVER_ARGS="--node-monitor-grace-period=$GRACE_PERIOD --node-monitor-period=2"
PREFIX=${NET%.0/24}
NODE_IPS=("$PREFIX.10" "$PREFIX.11" "$PREFIX.12")
TOKEN_FILE=$VAGRANT_DOTFILE_PATH/cox-join/node-token
SSH_CONFIG=$RUN/ssh_config
mkdir -p "$RUN/pool" "$RUN/serial"
virsh pool-create-as "$NAME" dir --target "$RUN/pool" >/dev/null || exit 1
say "networks $NET (private) and $MGMT_NET (management), driver $COX_VAGRANT_DRIVER"

step() {  # step NAME COMMAND...: run and time a setup step; stop the run if it fails
  local t0 out
  t0=$(now)
  say "$1"
  if "${@:2}" >"$RUN/step.log" 2>&1; then
    record "$1" "$(since "$t0") s" ok
  else
    record "$1" "$(since "$t0") s" FAILED
    sed 's/.*\x1b\[K//' "$RUN/step.log" | grep -v '^/usr/' | tail -40 >&2   # without Vagrant's progress lines and Ruby backtraces
    return 1
  fi
}

refresh_ssh_config() {  # plain ssh, one connection per VM kept open: much quicker than `vagrant ssh`
  vagrant ssh-config server agent1 agent2 2>/dev/null | grep -v '^ *LogLevel' >"$SSH_CONFIG"
  printf 'Host *\n  ControlMaster auto\n  ControlPath %s/ssh-%%h\n  ControlPersist 600\n  LogLevel ERROR\n%s\n' \
    "$RUN" "  ServerAliveInterval 5" >>"$SSH_CONFIG"
}

vm_memory() {  # the host memory (RSS) of this run's QEMU processes, in MiB
  local total=0 pidfile
  for pidfile in /run/libvirt/qemu/"$NAME"-*.pid; do
    [ -f "$pidfile" ] || continue
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$(cat "$pidfile")/status" 2>/dev/null || echo 0)))
  done
  echo "$((total / 1024)) MiB"
}

BOX_FILE=""
build_box() { BOX_FILE=$("$REPO/deploy/vagrant/build-box.sh" | tail -1) && "$REPO/deploy/vagrant/wheelhouse.sh"; }
# The VMs' Python is the host's (Debian 12's 3.11): bytecode compiled here, at
# the host's speed, is valid there (rsync keeps the sources' times).
compile_checkout() { python3 -m compileall -q -j 2 -x '/\.(git|vagrant)/' "$REPO"; }
add_box() { vagrant box add --name "$("$REPO/deploy/vagrant/build-box.sh" --name)" "$BOX_FILE"; }

PASSED=0 FAILED=0
source "$HERE/checks.sh"
run_checks() {
  local check t0
  for check in "${CHECKS[@]}"; do
    t0=$(now)
    say "check: $check"
    if "check_$check" >"$RUN/check.log" 2>&1; then
      PASSED=$((PASSED + 1)); record "check $check" "$(since "$t0") s" passed
      sed 's/^/    /' "$RUN/check.log"
    else
      FAILED=$((FAILED + 1)); record "check $check" "$(since "$t0") s" FAILED
      sed 's/^/    /' "$RUN/check.log" >&2
    fi
  done
}

diagnose() {
  local vm
  for vm in "${VMS[@]}"; do
    echo "---- $vm: cox logs (last 25 lines)"
    on "$vm" sudo journalctl -q -u cox-server -u cox-agent -n 25 --no-pager 2>&1 | cut -c1-240
  done
}

if step "box (build or reuse) + wheelhouse" build_box && step "compile the checkout" compile_checkout \
   && step "vagrant box add" add_box \
   && step "vagrant up server" vagrant up server && step "vagrant up agent1 agent2" vagrant up agent1 agent2 \
   && refresh_ssh_config; then
  record "host memory of the 3 VMs after up" "$(vm_memory)" ""
  run_checks
  record "host memory of the 3 VMs at the end" "$(vm_memory)" ""
  [ $FAILED = 0 ] || diagnose
else
  FAILED=$((FAILED + ${#CHECKS[@]}))   # none ran
  echo "setup failed; serial consoles in $RUN/serial" >&2
  tail -20 "$RUN"/serial/*.log 2>/dev/null >&2
fi

echo
printf '%-34s %8s  %s\n' "step" "time" "result"
printf '%s\n' "${TIMES[@]}"
echo "$PASSED passed, $FAILED failed"
[ $FAILED = 0 ]
