"""The proxy against a real kernel: rules applied with nft in namespaces this test makes
(topology.py), and real TCP/UDP traffic through them. Clients run in the node (host
processes: output hook), in a pod (prerouting hook) and in ext (NodePort from outside).
"""
import json
import queue
import subprocess
import sys
import threading
import time

import pytest

from agent.proxy.applier import NftError
from agent.proxy.changes import stale_udp_flows
from agent.proxy.conntrack import ConntrackCleaner
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName
from agent.proxy.names import table_name
from agent.proxy.proxier import Proxier
from tests.proxy.topology import ECHO, NODE_IP, PODS, NodeWithPods, backends, tcp, udp
from tests.support.netns import Lab, unique_name

WEB = ServicePortName("default", "web", "http")


class Cluster(NodeWithPods):
    def __init__(self, lab: Lab):
        super().__init__(lab)
        self.table = table_name(unique_name("n"))
        self.proxier = Proxier(table=self.table, applier=self.applier,
                               conntrack=ConntrackCleaner(netns=self.node.name))

    def program(self, services, endpoints=None):
        self.proxier.update(ProxyState(services=services, endpoints=endpoints or {}, node_ips=frozenset({NODE_IP})))
        return self.proxier.sync()


@pytest.fixture(scope="module")
def cluster():
    with Lab() as lab:
        yield Cluster(lab)


def test_cluster_ip_spreads_over_ready_endpoints_from_node_and_pod(cluster):
    unready = Endpoint(PODS["b3"], 8080, ready=False)
    result = cluster.program({WEB: ServicePortInfo("198.19.128.10", 80)}, {WEB: backends("b1", "b2") + (unready,)})
    assert result.full
    from_node = tcp(cluster.node, "198.19.128.10", 80, 40)
    assert set(from_node) == {"b1", "b2"}
    from_pod = tcp(cluster.pods["b3"], "198.19.128.10", 80, 40)
    assert set(from_pod) == {"b1", "b2"}


def test_nodeport_answers_on_the_node_address(cluster):
    cluster.program({WEB: ServicePortInfo("198.19.128.10", 80, node_port=30080)}, {WEB: backends("b1", "b2", "b3")})
    assert set(tcp(cluster.ext, NODE_IP, 30080, 40)) == {"b1", "b2", "b3"}
    assert set(tcp(cluster.node, NODE_IP, 30080, 20)) <= {"b1", "b2", "b3"}


def test_no_endpoints_is_refused_at_once(cluster):
    dns = ServicePortName("default", "dns", "dns")
    cluster.program({WEB: ServicePortInfo("198.19.128.10", 80, node_port=30080),
                     dns: ServicePortInfo("198.19.128.53", 53, "udp")},
                    {WEB: (Endpoint(PODS["b1"], 8080, ready=False),)})
    for ns, host, port in [(cluster.node, "198.19.128.10", 80), (cluster.pods["b2"], "198.19.128.10", 80),
                           (cluster.ext, NODE_IP, 30080)]:
        [answer] = tcp(ns, host, port)
        assert answer["error"] == "ConnectionRefusedError" and answer["seconds"] < 0.5, (ns, answer)
    assert udp(cluster.pods["b2"], "198.19.128.53", 53) == [{"error": "ConnectionRefusedError"}]
    # a host process's datagram is dropped on its way out: send() fails at once with EPERM
    assert udp(cluster.node, "198.19.128.53", 53) == [{"error": "PermissionError"}]


def test_session_affinity_sticks_to_one_endpoint(cluster):
    cluster.program({WEB: ServicePortInfo("198.19.128.10", 80, affinity_timeout=60)}, {WEB: backends("b1", "b2", "b3")})
    assert len(set(tcp(cluster.node, "198.19.128.10", 80, 20))) == 1
    assert len(set(tcp(cluster.pods["b1"], "198.19.128.10", 80, 20))) == 1


def test_hairpin_pod_reaches_itself_through_its_service(cluster):
    cluster.program({WEB: ServicePortInfo("198.19.128.10", 80)}, {WEB: backends("b1")})
    assert tcp(cluster.pods["b1"], "198.19.128.10", 80, 5) == ["b1"] * 5


WHO = ServicePortName("default", "who")  # answers with the pod's name and the client address it saw


def who(*names, local=("b1", "b2")):
    """Endpoints on the echo's second port; those not in `local` stand for pods on other nodes."""
    return tuple(Endpoint(PODS[name], 8081, local=name in local) for name in names)


def test_load_balancer_address_answers_on_the_service_port(cluster):
    """ServiceLB's way: the node's own address is an ingress address and answers on the Service
    port (not only the node port), masqueraded under the Cluster policy."""
    info = ServicePortInfo("198.19.128.10", 80, node_port=30080, load_balancer_ips=(NODE_IP, "198.18.0.12"))
    cluster.program({WHO: info}, {WHO: who("b1", "b2", "b3")})
    answers = tcp(cluster.ext, NODE_IP, 80, 40)
    assert {a.split()[0] for a in answers} == {"b1", "b2", "b3"}
    assert {a.split()[1] for a in answers} == {"198.19.0.1"}  # the node's address on the pod bridge
    assert {a.split()[0] for a in tcp(cluster.ext, NODE_IP, 30080, 20)} <= {"b1", "b2", "b3"}
    assert {a.split()[0] for a in tcp(cluster.node, NODE_IP, 80, 20)} <= {"b1", "b2", "b3"}
    cluster.program({WHO: info}, {WHO: ()})
    [refused] = tcp(cluster.ext, NODE_IP, 80)
    assert refused["error"] == "ConnectionRefusedError" and refused["seconds"] < 0.5


def test_local_policy_keeps_the_client_address_and_uses_only_local_endpoints(cluster):
    info = ServicePortInfo("198.19.128.10", 80, node_port=30080, load_balancer_ips=(NODE_IP,), external_local=True)
    cluster.program({WHO: info}, {WHO: who("b1", "b2", "b3")})  # b3 stands for a pod on another node
    for port in (80, 30080):
        answers = tcp(cluster.ext, NODE_IP, port, 40)
        assert {a.split()[0] for a in answers} == {"b1", "b2"}, port
        assert {a.split()[1] for a in answers} == {"198.18.0.2"}, port  # ext's own address
    # inside the cluster, the ClusterIP still reaches every endpoint
    assert {a.split()[0] for a in tcp(cluster.node, "198.19.128.10", 80, 40)} == {"b1", "b2", "b3"}
    # no endpoint on this node: outside traffic is dropped (a load balancer's health check moves on), not
    # sent to another node
    cluster.program({WHO: info}, {WHO: who("b3")})
    for port in (80, 30080):
        [dropped] = tcp(cluster.ext, NODE_IP, port)
        assert dropped["error"] == "TimeoutError", port
    assert tcp(cluster.pods["b1"], "198.19.128.10", 80)[0].split()[0] == "b3"


def test_local_policy_with_session_affinity(cluster):
    info = ServicePortInfo("198.19.128.10", 80, node_port=30080, load_balancer_ips=(NODE_IP,), external_local=True,
                           affinity_timeout=60)
    cluster.program({WHO: info}, {WHO: who("b1", "b2", "b3", local=("b3",))})
    assert tcp(cluster.ext, NODE_IP, 80, 10) == ["b3 198.18.0.2"] * 10
    assert tcp(cluster.ext, NODE_IP, 30080, 10) == ["b3 198.18.0.2"] * 10


def test_partial_updates_follow_endpoint_changes(cluster):
    services = {WEB: ServicePortInfo("198.19.128.10", 80, node_port=30080)}
    cluster.program(services, {WEB: backends("b1", "b2")})
    result = cluster.program(services, {WEB: backends("b2", "b3")})
    assert not result.full and result.commands < 12
    assert set(tcp(cluster.node, "198.19.128.10", 80, 30)) == {"b2", "b3"}
    result = cluster.program(services, {WEB: ()})
    assert not result.full
    assert tcp(cluster.node, "198.19.128.10", 80)[0]["error"] == "ConnectionRefusedError"
    cluster.program(services, {WEB: backends("b1")})
    assert tcp(cluster.ext, NODE_IP, 30080, 3) == ["b1"] * 3


def test_a_failed_change_is_followed_by_a_full_rebuild(cluster):
    services = {WEB: ServicePortInfo("198.19.128.10", 80)}
    cluster.program(services, {WEB: backends("b1")})
    cluster.node.run("nft", "delete", "table", "ip", cluster.table)  # someone broke the contract
    with pytest.raises(NftError):
        cluster.program(services, {WEB: backends("b2")})
    assert cluster.proxier.sync().full
    assert tcp(cluster.node, "198.19.128.10", 80, 3) == ["b2"] * 3


class Stream:
    """A UDP client sending a datagram every 50 ms from one socket; answers are collected."""

    def __init__(self, proc):
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line.strip()) for line in proc.stdout], daemon=True).start()

    def recent(self, seconds=0.5, settle=0.15):
        """Answers seen during `seconds`, after `settle` for datagrams already in flight."""
        time.sleep(settle)
        while not self.lines.empty():
            self.lines.get()
        deadline, seen = time.monotonic() + seconds, []
        while time.monotonic() < deadline:
            try:
                seen.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                pass
        return seen


def test_udp_flows_move_when_their_endpoint_goes(cluster):
    dns = ServicePortName("default", "dns", "dns")
    services = {dns: ServicePortInfo("198.19.128.53", 53, "udp")}

    def state(*names):
        return ProxyState(services=services, endpoints={dns: backends(*names)}, node_ips=frozenset({NODE_IP}))

    bare = Proxier(table=cluster.table, applier=cluster.applier)  # no conntrack clean-up
    bare.update(state("b1"))
    bare.sync()
    with Lab() as lab:
        stream = Stream(lab.process(cluster.node, sys.executable, ECHO, "udpstream", "198.19.128.53", "53",
                                    stdout=subprocess.PIPE, text=True))
        assert set(stream.recent()) == {"b1"}
        # Without clean-up the flow's conntrack entry keeps it on b1: this is why it is needed.
        bare.update(state("b2"))
        assert not bare.sync().full
        assert set(stream.recent()) == {"b1"}
        assert ConntrackCleaner(netns=cluster.node.name).forget(stale_udp_flows(state("b1"), state("b2"))) >= 1
        assert set(stream.recent()) == {"b2"}
        # The proxier does it by itself.
        cluster.proxier = Proxier(table=cluster.table, applier=cluster.applier,
                                  conntrack=ConntrackCleaner(netns=cluster.node.name))
        cluster.program(services, {dns: backends("b2")})
        cluster.program(services, {dns: backends("b3")})
        assert set(stream.recent()) == {"b3"}


def test_service_cidr_is_sunk_not_sent_away(cluster):
    """An address in the Service CIDR that no rule claims goes into the sink, even with a default route."""
    cluster.program({WEB: ServicePortInfo("198.19.128.10", 80)}, {WEB: backends("b1")})
    with cluster.node.iproute() as ipr:
        ipr.route("replace", dst="default", gateway="198.18.0.2")
    cluster.ext.run("nft", "add table ip watch; add chain ip watch in { type filter hook prerouting priority 0; }; "
                           "add rule ip watch in ip daddr 198.19.128.0/20 counter")
    assert "cox-svc-sink" in cluster.node.run("ip", "route", "get", "198.19.141.77").stdout
    cluster.node.run(sys.executable, "-c", "import socket; socket.socket(2, 2).sendto(b'x', ('198.19.141.77', 9))")
    assert tcp(cluster.node, "198.19.128.10", 80) == ["b1"]  # a programmed one still works from the host
    counter = json.loads(cluster.ext.run("nft", "-j", "list", "table", "ip", "watch").stdout)
    [packets] = [e["counter"]["packets"] for item in counter["nftables"] if "rule" in item
                 for e in item["rule"]["expr"] if "counter" in e]
    assert packets == 0


def test_full_resync_on_a_timer(cluster):
    cluster.proxier = Proxier(table=cluster.table, applier=cluster.applier, full_sync_period=0)
    first = cluster.program({WEB: ServicePortInfo("198.19.128.10", 80)}, {WEB: backends("b1")})
    again = cluster.program({WEB: ServicePortInfo("198.19.128.10", 80)}, {WEB: backends("b2")})
    assert first.full and again.full
    assert tcp(cluster.node, "198.19.128.10", 80, 3) == ["b2"] * 3
