"""The renderer alone: state in, nft JSON out, no kernel."""
import json

from agent.proxy import names as n
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName
from agent.proxy.render import full_transaction, render_service

WEB = ServicePortName("default", "web", "http")
WEB_INFO = ServicePortInfo("198.19.128.10", 80, "tcp")


def eps(*ips, port=8080):
    return tuple(Endpoint(ip, port) for ip in ips)


def test_no_endpoints_rejects_and_makes_no_chains():
    rules = render_service(WEB, ServicePortInfo("198.19.128.10", 80, "tcp", node_port=30080), ())
    assert rules.chains == {} and rules.pick_chains == {}
    assert rules.elements == {n.NO_ENDPOINT_SERVICES: {("198.19.128.10", "tcp", 80): None},
                              n.NO_ENDPOINT_NODEPORTS: {("tcp", 30080): None}}


def test_not_ready_endpoints_count_as_none():
    rules = render_service(WEB, WEB_INFO, (Endpoint("198.19.0.2", 8080, ready=False),))
    assert rules.chains == {} and n.NO_ENDPOINT_SERVICES in rules.elements


def test_one_endpoint():
    rules = render_service(WEB, WEB_INFO, eps("198.19.0.2"))
    svc = n.service_chain("default/web/tcp/http")
    assert rules.elements == {n.SERVICE_IPS: {("198.19.128.10", "tcp", 80): svc},
                              n.SERVICE_ENDPOINTS: {("198.19.128.10", "tcp", 80, 0): ("198.19.0.2", 8080)},
                              n.HAIRPIN: {("198.19.0.2", "198.19.0.2", "198.19.128.10", "tcp", 80): None}}
    assert rules.chains == {svc: [[{"goto": {"target": "pick-tcp-1"}}]]}


def test_endpoints_are_map_elements_and_a_shared_chain_picks_one():
    unready = Endpoint("198.19.0.9", 8080, ready=False)
    rules = render_service(WEB, WEB_INFO, eps("198.19.0.4", "198.19.0.2", "198.19.0.3") + (unready,))
    # one slot per ready endpoint, in a fixed order
    assert rules.elements[n.SERVICE_ENDPOINTS] == {
        ("198.19.128.10", "tcp", 80, 0): ("198.19.0.2", 8080), ("198.19.128.10", "tcp", 80, 1): ("198.19.0.3", 8080),
        ("198.19.128.10", "tcp", 80, 2): ("198.19.0.4", 8080)}
    assert rules.chains == {n.service_chain("default/web/tcp/http"): [[{"goto": {"target": "pick-tcp-3"}}]]}
    # the pick chain: DNAT to slot `numgen random mod 3` of the packet's VIP . protocol . port
    [[protocol, dnat]] = rules.pick_chains["pick-tcp-3"]
    assert protocol == {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}
    assert dnat == {"dnat": {"family": "ip", "addr": {"map": {"key": {"concat": [
        {"payload": {"protocol": "ip", "field": "daddr"}}, {"meta": {"key": "l4proto"}},
        {"payload": {"protocol": "th", "field": "dport"}}, {"numgen": {"mode": "random", "mod": 3, "offset": 0}}]},
        "data": "@service-endpoints"}}}}
    assert rules.sets == {}


def test_replacing_an_endpoint_changes_only_map_elements():
    before = render_service(WEB, WEB_INFO, eps("198.19.0.2", "198.19.0.3"))
    after = render_service(WEB, WEB_INFO, eps("198.19.0.2", "198.19.0.5"))
    assert before.chains == after.chains and before.pick_chains == after.pick_chains
    assert before.elements[n.SERVICE_ENDPOINTS] != after.elements[n.SERVICE_ENDPOINTS]


def test_endpoint_order_does_not_matter():
    a = render_service(WEB, WEB_INFO, eps("198.19.0.2", "198.19.0.3"))
    b = render_service(WEB, WEB_INFO, eps("198.19.0.3", "198.19.0.2"))
    assert a == b


def test_named_ports_get_their_own_chains_and_slots():
    http = render_service(WEB, WEB_INFO, eps("198.19.0.2", port=8080))
    metrics = render_service(ServicePortName("default", "web", "metrics"), ServicePortInfo("198.19.128.10", 9090, "tcp"),
                             eps("198.19.0.2", port=9100))
    assert not set(http.chains) & set(metrics.chains)
    assert ("198.19.128.10", "tcp", 9090) in metrics.elements[n.SERVICE_IPS]
    assert metrics.elements[n.SERVICE_ENDPOINTS] == {("198.19.128.10", "tcp", 9090, 0): ("198.19.0.2", 9100)}


def test_nodeport_marks_for_masquerade_and_picks_from_the_nodeport_map():
    info = ServicePortInfo("198.19.128.10", 80, "tcp", node_port=30080)
    rules = render_service(WEB, info, eps("198.19.0.2", "198.19.0.3"))
    ext = n.external_chain("default/web/tcp/http")
    assert rules.elements[n.SERVICE_NODEPORTS] == {("tcp", 30080): ext}
    assert rules.chains[ext] == [[{"jump": {"target": n.MARK_FOR_MASQUERADE}}],
                                 [{"goto": {"target": "pick-nodeport-tcp-2"}}]]
    assert rules.elements[n.NODEPORT_ENDPOINTS] == {("tcp", 30080, 0): ("198.19.0.2", 8080),
                                                    ("tcp", 30080, 1): ("198.19.0.3", 8080)}
    [[_, dnat]] = rules.pick_chains["pick-nodeport-tcp-2"]
    assert dnat["dnat"]["addr"]["map"]["data"] == "@nodeport-endpoints"


def test_udp():
    info = ServicePortInfo("198.19.128.53", 53, "udp")
    rules = render_service(ServicePortName("kube-system", "dns", "dns"), info, eps("198.19.0.5", port=5353))
    assert rules.elements[n.SERVICE_IPS] == {("198.19.128.53", "udp", 53): n.service_chain("kube-system/dns/udp/dns")}
    assert rules.elements[n.SERVICE_ENDPOINTS] == {("198.19.128.53", "udp", 53, 0): ("198.19.0.5", 5353)}
    assert rules.pick_chains["pick-udp-1"][0][0]["match"]["right"] == "udp"


def test_session_affinity_remembers_client_per_endpoint_with_a_timeout():
    info = ServicePortInfo("198.19.128.10", 80, "tcp", affinity_timeout=600, node_port=30080)
    ident = "default/web/tcp/http"
    rules = render_service(WEB, info, eps("198.19.0.2", "198.19.0.3"))
    affs = [n.affinity_set(ident, ip, 8080, 600) for ip in ("198.19.0.2", "198.19.0.3")]
    assert rules.sets == {a: {"type": "ipv4_addr", "flags": ["timeout"], "timeout": 600} for a in affs}
    svc_rules = rules.chains[n.service_chain(ident)]
    dnats = [rule[-1]["dnat"] for rule in svc_rules]
    assert dnats == [{"addr": "198.19.0.2", "port": 8080}, {"addr": "198.19.0.3", "port": 8080}] * 2
    # sticky lookups come first, then the draw (1/2, then the rest) that records the client
    assert [r[0]["match"]["right"] for r in svc_rules[:2]] == [f"@{a}" for a in affs]
    assert svc_rules[2][0] == {"match": {"op": "==", "left": {"numgen": {"mode": "random", "mod": 2, "offset": 0}},
                                         "right": 0}}
    assert [[s["set"]["set"] for s in r if "set" in s] for r in svc_rules[2:]] == [[f"@{a}"] for a in affs]
    # no endpoint map, no pick chain: the rule that chose must know which endpoint it chose
    assert n.SERVICE_ENDPOINTS not in rules.elements and rules.pick_chains == {}
    assert rules.chains[n.external_chain(ident)][-1] == [{"goto": {"target": n.service_chain(ident)}}]


def test_load_balancer_addresses_are_keys_like_the_vip_with_their_own_chain():
    """ServiceLB's way: each node's address is an ingress address; traffic to it at the Service port
    is NodePort-like (masqueraded under the Cluster policy) and finds its endpoints under its own key."""
    info = ServicePortInfo("198.19.128.10", 80, "tcp", node_port=30080, load_balancer_ips=("198.18.0.11",))
    rules = render_service(WEB, info, eps("198.19.0.2", "198.19.0.3"))
    lb = n.load_balancer_chain("default/web/tcp/http")
    assert rules.elements[n.SERVICE_IPS] == {("198.19.128.10", "tcp", 80): n.service_chain("default/web/tcp/http"),
                                             ("198.18.0.11", "tcp", 80): lb}
    assert rules.chains[lb] == [[{"jump": {"target": n.MARK_FOR_MASQUERADE}}], [{"goto": {"target": "pick-tcp-2"}}]]
    assert rules.elements[n.SERVICE_ENDPOINTS][("198.18.0.11", "tcp", 80, 1)] == ("198.19.0.3", 8080)
    assert ("198.19.0.2", "198.19.0.2", "198.18.0.11", "tcp", 80) in rules.elements[n.HAIRPIN]
    none = render_service(WEB, info, ())
    assert none.elements[n.NO_ENDPOINT_SERVICES] == {("198.19.128.10", "tcp", 80): None,
                                                     ("198.18.0.11", "tcp", 80): None}


def test_local_policy_uses_local_endpoints_unmasqueraded_and_drops_without_one():
    info = ServicePortInfo("198.19.128.10", 80, "tcp", node_port=30080, load_balancer_ips=("198.18.0.11",),
                           external_local=True)
    here, there = Endpoint("198.19.0.2", 8080, local=True), Endpoint("198.19.1.2", 8080)
    rules = render_service(WEB, info, (here, there))
    ext, lb = n.external_chain("default/web/tcp/http"), n.load_balancer_chain("default/web/tcp/http")
    assert rules.chains[ext] == [[{"goto": {"target": "pick-nodeport-tcp-1"}}]]
    assert rules.chains[lb] == [[{"goto": {"target": "pick-tcp-1"}}]]
    assert rules.elements[n.NODEPORT_ENDPOINTS] == {("tcp", 30080, 0): ("198.19.0.2", 8080)}
    # the ClusterIP still reaches every endpoint
    assert rules.chains[n.service_chain("default/web/tcp/http")] == [[{"goto": {"target": "pick-tcp-2"}}]]
    elsewhere = render_service(WEB, info, (there,))
    assert elsewhere.chains[ext] == elsewhere.chains[lb] == [[{"drop": None}]]
    sticky = render_service(WEB, ServicePortInfo("198.19.128.10", 80, node_port=30080, external_local=True,
                                                 affinity_timeout=60), (here, there))
    local = n.service_chain("default/web/tcp/http/local")
    assert sticky.chains[ext] == [[{"goto": {"target": local}}]]
    assert [rule[-1]["dnat"]["addr"] for rule in sticky.chains[local]] == ["198.19.0.2"] * 2


def test_full_transaction_replaces_the_table_and_fills_shared_sets():
    other = ServicePortName("default", "other")
    state = ProxyState(services={WEB: ServicePortInfo("198.19.128.10", 80, "tcp", node_port=30080),
                                 ServicePortName("default", "empty"): ServicePortInfo("198.19.128.11", 80, "tcp"),
                                 other: ServicePortInfo("198.19.128.12", 80, "tcp")},
                       endpoints={WEB: eps("198.19.0.2", "198.19.0.3"), other: eps("198.19.0.4", "198.19.0.5")},
                       node_ips=frozenset({"198.18.0.11"}))
    cmds = full_transaction("t1", state)
    assert [list(c) for c in cmds[:3]] == [["add"], ["delete"], ["add"]] and "table" in cmds[1]["delete"]
    elements = {c["add"]["element"]["name"]: c["add"]["element"]["elem"] for c in cmds if "element" in c.get("add", {})}
    assert elements[n.NODE_IPS] == ["198.18.0.11"]
    assert elements[n.NO_ENDPOINT_SERVICES] == [{"concat": ["198.19.128.11", "tcp", 80]}]
    assert sorted(e["concat"][0] for e in elements[n.HAIRPIN]) == ["198.19.0.2", "198.19.0.3", "198.19.0.4",
                                                                   "198.19.0.5"]
    assert len(elements[n.SERVICE_ENDPOINTS]) == 4 and len(elements[n.NODEPORT_ENDPOINTS]) == 2
    # both Services with two endpoints share one pick chain
    added_chains = [c["add"]["chain"]["name"] for c in cmds if "chain" in c.get("add", {})]
    assert added_chains.count("pick-tcp-2") == 1 and "pick-nodeport-tcp-2" in added_chains
    base = {c["add"]["chain"]["name"]: c["add"]["chain"] for c in cmds
            if "chain" in c.get("add", {}) and "hook" in c["add"]["chain"]}
    assert {(b["hook"], b["type"], b["prio"]) for b in base.values()} == {
        ("prerouting", "filter", -110), ("output", "filter", -110), ("prerouting", "nat", -100),
        ("output", "nat", -100), ("postrouting", "nat", 100)}
    # every chain a rule or element points at is created before it is used
    created = set()
    for c in cmds:
        add = c.get("add", {})
        if "chain" in add:
            created.add(add["chain"]["name"])
        targets = [t for t in json.dumps(c).split('"target": "')[1:]]
        assert all(t.split('"')[0] in created for t in targets), c
    assert all(c["add"]["rule"]["table"] == "t1" for c in cmds if "rule" in c.get("add", {}))
