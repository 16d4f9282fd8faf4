"""The renderer alone: state in, nft JSON out, no kernel."""
import json

from agent.proxy import names as n
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName
from agent.proxy.render import full_transaction, render_service

WEB = ServicePortName("default", "web", "http")
WEB_INFO = ServicePortInfo("10.96.0.10", 80, "tcp")


def eps(*ips, port=8080):
    return tuple(Endpoint(ip, port) for ip in ips)


def gotos(rules):
    return [rule[-1]["goto"]["target"] for rule in rules if "goto" in rule[-1]]


def test_no_endpoints_rejects_and_makes_no_chains():
    rules = render_service(WEB, ServicePortInfo("10.96.0.10", 80, "tcp", node_port=30080), ())
    assert rules.chains == {}
    assert rules.elements == {n.NO_ENDPOINT_SERVICES: {("10.96.0.10", "tcp", 80): None},
                              n.NO_ENDPOINT_NODEPORTS: {("tcp", 30080): None}}


def test_not_ready_endpoints_count_as_none():
    rules = render_service(WEB, WEB_INFO, (Endpoint("10.244.0.2", 8080, ready=False),))
    assert rules.chains == {} and n.NO_ENDPOINT_SERVICES in rules.elements


def test_one_endpoint():
    rules = render_service(WEB, WEB_INFO, eps("10.244.0.2"))
    svc = n.service_chain("default/web/tcp/http")
    ep = n.endpoint_chain("default/web/tcp/http", "10.244.0.2", 8080)
    assert rules.elements == {n.SERVICE_IPS: {("10.96.0.10", "tcp", 80): svc}}
    assert rules.chains[svc] == [[{"goto": {"target": ep}}]]
    assert rules.chains[ep] == [[{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}},
                                 {"dnat": {"addr": "10.244.0.2", "port": 8080}}]]
    assert rules.endpoint_ips == {"10.244.0.2"}


def test_many_endpoints_cascade_picks_uniformly():
    unready = Endpoint("10.244.0.9", 8080, ready=False)
    rules = render_service(WEB, WEB_INFO, eps("10.244.0.4", "10.244.0.2", "10.244.0.3") + (unready,))
    svc_rules = rules.chains[n.service_chain("default/web/tcp/http")]
    mods = [rule[0]["match"]["left"]["numgen"]["mod"] for rule in svc_rules[:-1]]
    assert mods == [3, 2]  # P = 1/3, then 1/2 of the rest, then the rest: uniform
    assert len(svc_rules[-1]) == 1  # the last endpoint takes what is left, no draw
    ident = "default/web/tcp/http"
    assert gotos(svc_rules) == [n.endpoint_chain(ident, ip, 8080) for ip in ("10.244.0.2", "10.244.0.3", "10.244.0.4")]
    assert len(rules.chains) == 4  # service chain + 3 ready endpoints; the unready one has none


def test_endpoint_order_does_not_matter():
    a = render_service(WEB, WEB_INFO, eps("10.244.0.2", "10.244.0.3"))
    b = render_service(WEB, WEB_INFO, eps("10.244.0.3", "10.244.0.2"))
    assert a == b


def test_named_ports_get_their_own_chains():
    http = render_service(WEB, WEB_INFO, eps("10.244.0.2", port=8080))
    metrics = render_service(ServicePortName("default", "web", "metrics"), ServicePortInfo("10.96.0.10", 9090, "tcp"),
                             eps("10.244.0.2", port=9100))
    assert not set(http.chains) & set(metrics.chains)
    assert ("10.96.0.10", "tcp", 9090) in metrics.elements[n.SERVICE_IPS]
    dnats = [r[-1]["dnat"] for c, rs in metrics.chains.items() if c.startswith("ep-") for r in rs]
    assert dnats == [{"addr": "10.244.0.2", "port": 9100}]


def test_nodeport_goes_through_an_external_chain_that_marks_for_masquerade():
    info = ServicePortInfo("10.96.0.10", 80, "tcp", node_port=30080)
    rules = render_service(WEB, info, eps("10.244.0.2"))
    ext = n.external_chain("default/web/tcp/http")
    assert rules.elements[n.SERVICE_NODEPORTS] == {("tcp", 30080): ext}
    assert rules.chains[ext] == [[{"jump": {"target": n.MARK_FOR_MASQUERADE}}],
                                 [{"goto": {"target": n.service_chain("default/web/tcp/http")}}]]


def test_udp():
    info = ServicePortInfo("10.96.0.53", 53, "udp")
    rules = render_service(ServicePortName("kube-system", "dns", "dns"), info, eps("10.244.0.5", port=5353))
    assert rules.elements[n.SERVICE_IPS] == {("10.96.0.53", "udp", 53): n.service_chain("kube-system/dns/udp/dns")}
    ep_rules = rules.chains[n.endpoint_chain("kube-system/dns/udp/dns", "10.244.0.5", 5353)]
    assert ep_rules[-1][0]["match"]["right"] == "udp"


def test_session_affinity_remembers_client_per_endpoint_with_a_timeout():
    info = ServicePortInfo("10.96.0.10", 80, "tcp", affinity_timeout=600)
    ident = "default/web/tcp/http"
    rules = render_service(WEB, info, eps("10.244.0.2", "10.244.0.3"))
    affs = [n.affinity_set(ident, ip, 8080, 600) for ip in ("10.244.0.2", "10.244.0.3")]
    assert rules.sets == {a: {"type": "ipv4_addr", "flags": ["timeout"], "timeout": 600} for a in affs}
    svc_rules = rules.chains[n.service_chain(ident)]
    # sticky lookups come before the random choice
    assert [r[0]["match"]["right"] for r in svc_rules[:2]] == [f"@{a}" for a in affs]
    for aff, ip in zip(affs, ("10.244.0.2", "10.244.0.3")):
        ep_rules = rules.chains[n.endpoint_chain(ident, ip, 8080)]
        assert ep_rules[0] == [{"set": {"op": "update", "elem": {"payload": {"protocol": "ip", "field": "saddr"}},
                                        "set": f"@{aff}"}}]


def test_full_transaction_replaces_the_table_and_fills_shared_sets():
    state = ProxyState(services={WEB: ServicePortInfo("10.96.0.10", 80, "tcp", node_port=30080),
                                 ServicePortName("default", "empty"): ServicePortInfo("10.96.0.11", 80, "tcp")},
                       endpoints={WEB: eps("10.244.0.2", "10.244.0.3")},
                       node_ips=frozenset({"198.18.0.11"}))
    cmds = full_transaction("t1", state)
    assert [list(c) for c in cmds[:3]] == [["add"], ["delete"], ["add"]] and "table" in cmds[1]["delete"]
    elements = {c["add"]["element"]["name"]: c["add"]["element"]["elem"] for c in cmds if "element" in c.get("add", {})}
    assert elements[n.NODE_IPS] == ["198.18.0.11"]
    assert elements[n.NO_ENDPOINT_SERVICES] == [{"concat": ["10.96.0.11", "tcp", 80]}]
    assert sorted(e["concat"][0] for e in elements[n.HAIRPIN]) == ["10.244.0.2", "10.244.0.3"]
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
