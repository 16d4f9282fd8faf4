"""Change tracking alone: two states in, the smallest transaction out, no kernel."""
from agent.proxy import names as n
from agent.proxy.changes import StaleFlows, changed_names, diff_transaction, stale_udp_flows
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName


def spn(i):
    return ServicePortName("default", f"s{i}", "p")


def big_state(count):
    services = {spn(i): ServicePortInfo(f"198.19.{128 + i // 250}.{i % 250 + 1}", 80, "tcp") for i in range(count)}
    endpoints = {spn(i): tuple(Endpoint(f"198.19.{e}.{i % 250 + 1}", 8080) for e in range(3)) for i in range(count)}
    return ProxyState(services=services, endpoints=endpoints, node_ips=frozenset({"198.18.0.11"}))


def with_endpoints(state, name, endpoints):
    return ProxyState(services=state.services, endpoints={**state.endpoints, name: endpoints},
                      node_ips=state.node_ips)


def ops(cmds):
    """(verb, object kind) of each command, e.g. ("flush", "chain")."""
    return [(verb, kind) for c in cmds for verb, body in c.items() for kind in body]


def test_same_state_is_an_empty_transaction():
    state = big_state(10)
    assert diff_transaction("t", state, state) == []
    assert diff_transaction("t", state, ProxyState(dict(state.services), dict(state.endpoints), state.node_ips)) == []


def elements(cmds, verb, set_name):
    return [e for c in cmds if c.get(verb, {}).get("element", {}).get("name") == set_name
            for e in c[verb]["element"]["elem"]]


def test_one_endpoint_replaced_at_10000_services_is_element_changes_only():
    old = big_state(10_000)
    name = spn(1234)
    new = with_endpoints(old, name, old.endpoints[name][:2] + (Endpoint("198.19.9.9", 8080),))
    assert changed_names(old, new) == [name]
    assert changed_names(old, new, [name, spn(5)]) == [name]
    cmds = diff_transaction("t", old, new)
    # no rule, chain or verdict changes: the kernel need not re-check the table
    assert {verb_kind for verb_kind in ops(cmds)} == {("delete", "element"), ("add", "element")}
    gone = old.endpoints[name][2]
    assert elements(cmds, "delete", n.SERVICE_ENDPOINTS) == [{"concat": ["198.19.132.235", "tcp", 80, 2]}]
    assert elements(cmds, "add", n.SERVICE_ENDPOINTS) == [
        [{"concat": ["198.19.132.235", "tcp", 80, 2]}, {"concat": ["198.19.9.9", 8080]}]]
    # the hairpin set: this Service port's element for the old endpoint goes, one for the new comes
    assert elements(cmds, "add", n.HAIRPIN) == [{"concat": ["198.19.9.9", "198.19.9.9", "198.19.132.235", "tcp", 80]}]
    assert elements(cmds, "delete", n.HAIRPIN) == [{"concat": [gone.ip, gone.ip, "198.19.132.235", "tcp", 80]}]


def test_a_new_endpoint_count_moves_the_service_to_another_pick_chain():
    old = big_state(3)
    name = spn(1)
    new = with_endpoints(old, name, old.endpoints[name] + (Endpoint("198.19.9.9", 8080),))
    cmds = diff_transaction("t", old, new)
    svc = n.service_chain("default/s1/tcp/p")
    # the pick chain for 4 endpoints may be new: created (or refilled) whole
    assert {"add": {"chain": {"family": "ip", "table": "t", "name": "pick-tcp-4"}}} in cmds
    assert {"flush": {"chain": {"family": "ip", "table": "t", "name": "pick-tcp-4"}}} in cmds
    rules = {c["add"]["rule"]["chain"]: c["add"]["rule"]["expr"] for c in cmds if "rule" in c.get("add", {})}
    assert rules[svc] == [{"goto": {"target": "pick-tcp-4"}}]
    assert len(rules["pick-tcp-4"]) == 2
    # pick-tcp-3 stays: the other Services still use it
    assert not [c for c in cmds if c.get("delete", {}).get("chain")]
    assert len(elements(cmds, "add", n.SERVICE_ENDPOINTS)) == 1


def test_references_are_dropped_before_deletes():
    old = big_state(3)
    new = with_endpoints(old, spn(1), ())  # all endpoints gone: its chain goes, the VIP rejects
    cmds = diff_transaction("t", old, new)
    verbs = ops(cmds)
    first_delete_chain = verbs.index(("delete", "chain"))
    assert verbs.index(("delete", "element")) < first_delete_chain
    assert max(i for i, v in enumerate(verbs) if v == ("flush", "chain")) < first_delete_chain
    assert verbs.count(("delete", "chain")) == 1
    added = [c["add"]["element"] for c in cmds if "element" in c.get("add", {})]
    assert {"name": n.NO_ENDPOINT_SERVICES, "elem": [{"concat": ["198.19.128.2", "tcp", 80]}],
            "family": "ip", "table": "t"} in added


def test_new_and_removed_services():
    old = big_state(2)
    new = ProxyState(services={spn(0): old.services[spn(0)], spn(5): ServicePortInfo("198.19.128.99", 53, "udp")},
                     endpoints={spn(0): old.endpoints[spn(0)], spn(5): (Endpoint("198.19.0.7", 53),)},
                     node_ips=old.node_ips)
    cmds = diff_transaction("t", old, new)
    deleted = [c["delete"]["element"]["elem"] for c in cmds if "element" in c.get("delete", {})]
    assert [{"concat": ["198.19.128.2", "tcp", 80]}] in deleted
    added = [e for c in cmds if "element" in c.get("add", {}) for e in c["add"]["element"]["elem"]]
    assert [{"concat": ["198.19.128.99", "udp", 53]}, {"goto": {"target": n.service_chain("default/s5/udp/p")}}] in added


def test_hairpin_elements_belong_to_one_service_port():
    """Two ports of one Service on the same pods: each has its own hairpin element (the key holds
    the Service port), so the port that loses its endpoints takes only its own."""
    a, b = ServicePortName("default", "dns", "udp"), ServicePortName("default", "dns", "tcp")
    both = (Endpoint("198.19.0.5", 53),)
    old = ProxyState(services={a: ServicePortInfo("198.19.128.10", 53, "udp"),
                               b: ServicePortInfo("198.19.128.10", 53, "tcp")},
                     endpoints={a: both, b: both})
    new = with_endpoints(old, a, ())
    cmds = diff_transaction("t", old, new)
    assert elements(cmds, "delete", n.HAIRPIN) == [{"concat": ["198.19.0.5", "198.19.0.5", "198.19.128.10", "udp", 53]}]
    assert elements(cmds, "add", n.HAIRPIN) == []


def test_affinity_timeout_change_replaces_the_sets():
    old = ProxyState(services={spn(0): ServicePortInfo("198.19.128.1", 80, affinity_timeout=60)},
                     endpoints={spn(0): (Endpoint("198.19.0.5", 8080),)})
    new = ProxyState(services={spn(0): ServicePortInfo("198.19.128.1", 80, affinity_timeout=120)},
                     endpoints=old.endpoints)
    verbs = ops(diff_transaction("t", old, new))
    assert verbs[0] == ("add", "set") and verbs[-1] == ("delete", "set")


def test_node_ip_changes():
    old = big_state(1)
    new = ProxyState(old.services, old.endpoints, frozenset({"198.18.0.12"}))
    cmds = diff_transaction("t", old, new)
    assert cmds == [{"delete": {"element": {"family": "ip", "table": "t", "name": n.NODE_IPS, "elem": ["198.18.0.11"]}}},
                    {"add": {"element": {"family": "ip", "table": "t", "name": n.NODE_IPS, "elem": ["198.18.0.12"]}}}]


def test_stale_udp_flows():
    dns = spn(0)
    info = ServicePortInfo("198.19.128.10", 53, "udp", node_port=30053)
    one, two = Endpoint("198.19.0.5", 53), Endpoint("198.19.0.6", 53)
    empty = ProxyState(services={dns: info})
    served = ProxyState(services={dns: info}, endpoints={dns: (one, two)})
    shrunk = ProxyState(services={dns: info}, endpoints={dns: (two,)})
    assert stale_udp_flows(served, shrunk) == [StaleFlows("198.19.128.10", 53, "198.19.0.5"),
                                               StaleFlows(None, 30053, "198.19.0.5")]
    assert stale_udp_flows(empty, served) == [StaleFlows("198.19.128.10", 53, None), StaleFlows(None, 30053, None)]
    tcp = ProxyState(services={dns: ServicePortInfo("198.19.128.10", 53, "tcp")}, endpoints={dns: (one, two)})
    assert stale_udp_flows(tcp, ProxyState(services=tcp.services, endpoints={dns: (two,)})) == []
