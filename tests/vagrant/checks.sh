# The multi-host end-to-end checks, run from the host on the three VMs of
# deploy/Vagrantfile. Sourced by tests/vagrant/run.sh, which provides:
#   SSH_CONFIG   `vagrant ssh-config` of the three VMs (plain ssh is seconds faster per call)
#   NODE_IPS     server, agent1 and agent2's private addresses, in that order
#   TOKEN_FILE   the join token as the Vagrantfile kept it on the host
#   refresh_ssh_config, HERE (this directory)
# Each check_* function returns non-zero on failure after saying why on stderr.
# busybox wget runs under `timeout`: its own -T segfaults on Debian's 1.35.

VMS=(server agent1 agent2)

on() {  # on VM COMMAND...: run on that VM (as the vagrant user), each argument kept whole; no stdin
  local vm=$1; shift
  ssh -n -F "$SSH_CONFIG" -o ConnectTimeout=30 "$vm" "$(printf '%q ' "$@")"
}
kc() { on server sudo cox --config /var/lib/cox/admin.yaml "$@"; }
kc_apply() {  # kc_apply FILE
  ssh -F "$SSH_CONFIG" -o ConnectTimeout=30 server sudo cox --config /var/lib/cox/admin.yaml apply -f - <"$1"
}
nodes() { kc get nodes -o json | python3 "$HERE/query.py" nodes; }
pods() { kc get pods -l app=web -o json | python3 "$HERE/query.py" pods; }
live_pods() { pods | awk '$5 == "live"'; }
pod_on() { live_pods | awk -v n="$1" '$2 == n {print $1; exit}'; }
fail() { echo "FAIL: $*" >&2; return 1; }

eventually() {  # eventually SECONDS COMMAND...: until it succeeds, every 2 s
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 2
  done
}

three_ready() { [ "$(nodes | awk '$2 == "True"' | wc -l)" = 3 ]; }

check_vagrant_ssh_get_nodes() {  # the README's command, through vagrant ssh itself
  local out
  eventually 480 three_ready || { nodes >&2; fail "not three Ready nodes"; return; }
  out=$(vagrant ssh server -c 'sudo cox get nodes' 2>/dev/null)
  echo "$out"
  [ "$(echo "$out" | grep -cw Ready)" = 3 ] || fail "vagrant ssh server -c 'sudo cox get nodes': not three Ready"
}

check_nodes_internal_ips() {
  local got want
  got=$(nodes | awk '{print $1, $3}' | sort)
  want=$(printf 'server %s\nagent1 %s\nagent2 %s\n' "${NODE_IPS[@]}" | sort)
  [ "$got" = "$want" ] || fail "InternalIPs: got [$got], want [$want]"
}

spread() { [ "$(live_pods | awk '$4 == "True" {print $2}' | sort -u | wc -l)" = 3 ]; }

check_deployment_spread() {
  kc_apply "$HERE/web.yaml" || return
  kc rollout status deployment/web --timeout 300 || return
  eventually 60 spread || { pods >&2; fail "the 3 replicas are not on 3 hosts"; }
  pods
}

check_pod_to_pod_across_hosts() {
  local a b ip_b got failed=0
  while read -r a _ _; do
    while read -r b node_b ip_b; do
      [ "$a" != "$b" ] || continue
      got=$(kc exec "$a" -- timeout 5 wget -q -O- "http://$ip_b:8080/") || got="(no answer)"
      [ "$got" = "$b" ] || { fail "$a -> $b ($ip_b on $node_b): $got"; failed=1; }
    done < <(live_pods | awk '{print $1, $2, $3}')
  done < <(live_pods)
  return $failed
}

backends_seen_from() {  # backends_seen_from POD URL: the distinct answers to 24 requests
  kc exec "$1" -- sh -c "for i in \$(seq 24); do timeout 3 wget -q -O- $2; echo; done" | grep . | sort -u
}

check_service_dns_from_each_host() {
  local pod want got failed=0
  want=$(live_pods | awk '{print $1}' | sort)
  for vm in "${VMS[@]}"; do
    pod=$(pod_on "$vm")
    got=$(backends_seen_from "$pod" http://web.default.svc.cluster.local)
    [ "$got" = "$want" ] || { fail "from $pod on $vm: saw [$(echo $got)], want [$(echo $want)]"; failed=1; }
  done
  return $failed
}

nodeport_answer() { python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "http://$1:30080/" 2>/dev/null; }

check_nodeport_on_every_host() {
  local ip got failed=0 names
  names=$(live_pods | awk '{print $1}')
  for ip in "${NODE_IPS[@]}"; do
    got=$(nodeport_answer "$ip") || got="(no answer)"
    echo "$names" | grep -qxF "$got" || { fail "NodePort on $ip: $got"; failed=1; }
  done
  return $failed
}

check_logs_and_exec_on_other_hosts() {
  local p1 p2
  p1=$(pod_on agent1) p2=$(pod_on agent2)
  kc logs "$p1" | grep -qxF "serving $p1" || { fail "cox logs $p1 (on agent1) lacks 'serving $p1'"; return 1; }
  [ "$(kc exec "$p2" -- hostname)" = "$p2" ] || fail "cox exec $p2 (on agent2) -- hostname"
}

check_join_token_not_in_ps() {
  local secret vm failed=0
  secret=$(sed 's/.*:://' "$TOKEN_FILE" | tr -d '[:space:]')
  [ -n "$secret" ] || { fail "no token in $TOKEN_FILE"; return 1; }
  for vm in "${VMS[@]}"; do
    # The command lines and environments come back to the host to be searched
    # here: a grep on the VM would have the secret in its own command line.
    on "$vm" sudo sh -c 'for p in /proc/[0-9]*; do tr "\0" " " <$p/cmdline; echo; tr "\0" " " <$p/environ; echo; done 2>/dev/null' \
      >"$RUN/procs-$vm.txt"
    grep -q "cox agent .*--token-file" "$RUN/procs-$vm.txt" || { fail "no cox agent --token-file on $vm"; failed=1; }
    if grep -qF "$secret" "$RUN/procs-$vm.txt"; then fail "the join token is in a command line or environment on $vm"; failed=1; fi
  done
  return $failed
}

node_status() { nodes | awk -v n="$1" '$1 == n {print $2}'; }
agent2_unknown() { [ "$(node_status agent2)" = Unknown ]; }
replaced() {  # three live, ready replicas, none on agent2
  [ "$(live_pods | awk '$2 != "agent2" && $4 == "True"' | wc -l)" = 3 ]
}

LOST_POD=""
check_agent_vm_powered_off() {
  local start service_ok
  LOST_POD=$(pod_on agent2)
  vagrant halt -f agent2 >/dev/null || { fail "vagrant halt -f agent2"; return 1; }
  ssh -F "$SSH_CONFIG" -O exit agent2 2>/dev/null   # its kept connection is dead
  start=$SECONDS
  eventually 120 agent2_unknown || { nodes >&2; fail "agent2 not Unknown after 120 s"; return 1; }
  echo "agent2 Unknown $((SECONDS - start)) s after power-off (grace period ${GRACE_PERIOD} s)"
  eventually 180 replaced || { pods >&2; fail "agent2's pod $LOST_POD not replaced on the others"; return 1; }
  echo "its pod replaced $((SECONDS - start)) s after power-off"
  pods
  service_ok=$(backends_seen_from "$(pod_on server)" http://web | wc -l)
  [ "$service_ok" -ge 2 ] || fail "the Service answered with $service_ok backends after agent2 was lost"
}

agent2_ready() { [ "$(node_status agent2)" = True ]; }
no_stale_containers() {
  ! on agent2 sudo docker ps -a --format '{{.Names}}' | grep -q "_${LOST_POD}_"
}

lost_pod_gone() { ! pods | grep -q "^$LOST_POD "; }

check_agent_vm_back() {
  local start=$SECONDS
  vagrant up agent2 >/dev/null || { fail "vagrant up agent2"; return 1; }
  refresh_ssh_config
  echo "agent2 up again in $((SECONDS - start)) s"
  eventually 480 agent2_ready || { nodes >&2; fail "agent2 not Ready again"; return 1; }
  [ -n "$LOST_POD" ] || { fail "no pod was on agent2 before"; return 1; }
  eventually 180 no_stale_containers || { fail "$LOST_POD's containers still on agent2"; return 1; }
  eventually 60 lost_pod_gone || fail "$LOST_POD still in the API"
}

CHECKS=(vagrant_ssh_get_nodes nodes_internal_ips deployment_spread pod_to_pod_across_hosts
        service_dns_from_each_host nodeport_on_every_host logs_and_exec_on_other_hosts
        join_token_not_in_ps agent_vm_powered_off agent_vm_back)
