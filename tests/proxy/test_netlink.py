"""The netlink path against nft itself, in network namespaces this test makes: the same commands
applied by the agent's encoder and by `nft -f` give the same table; partial changes applied by
netlink give the table a full rebuild by nft gives; a one-endpoint change touches only its
Service's elements; a refused batch changes nothing."""
import json

import pytest

from agent.proxy import names as n
from agent.proxy.applier import Applier, NetlinkApplier, NftError
from agent.proxy.changes import diff_transaction
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName
from agent.proxy.render import full_transaction
from tests.proxy.nftcli import Nft
from tests.support.netns import Lab, unique_name

WEB = ServicePortName("default", "web", "http")
METRICS = ServicePortName("default", "web", "metrics")
DNS_UDP = ServicePortName("kube-system", "dns", "dns")
DNS_TCP = ServicePortName("kube-system", "dns", "dns-tcp")
STICKY = ServicePortName("default", "sticky")
EMPTY = ServicePortName("default", "empty")
LB = ServicePortName("default", "lb")
LOCAL = ServicePortName("default", "local")
LOCAL_STICKY = ServicePortName("default", "local-sticky")
NODES = ("198.18.0.11", "198.18.1.11")


def eps(*ips, port=8080):
    return tuple(Endpoint(ip, port) for ip in ips)


# Every construct the renderer writes: ClusterIP and NodePort, TCP and UDP, named ports, endpoint
# counts shared between Services, session affinity (with a NodePort), no endpoints, node addresses,
# load balancer addresses, externalTrafficPolicy Local (with and without affinity, and with no local
# endpoint: a drop). Load balancer addresses are shared, so each such Service has a port of its own,
# as the service controller sees to.
STATE = ProxyState(
    services={WEB: ServicePortInfo("198.19.128.10", 80, node_port=30080),
              METRICS: ServicePortInfo("198.19.128.10", 9090),
              DNS_UDP: ServicePortInfo("198.19.128.53", 53, "udp"),
              DNS_TCP: ServicePortInfo("198.19.128.53", 53, "tcp"),
              STICKY: ServicePortInfo("198.19.128.11", 80, node_port=30081, affinity_timeout=600),
              EMPTY: ServicePortInfo("198.19.128.12", 80, node_port=30082),
              LB: ServicePortInfo("198.19.128.13", 80, node_port=30083, load_balancer_ips=NODES),
              LOCAL: ServicePortInfo("198.19.128.14", 81, node_port=30084, load_balancer_ips=NODES,
                                     external_local=True),
              LOCAL_STICKY: ServicePortInfo("198.19.128.15", 82, node_port=30085, load_balancer_ips=NODES,
                                            external_local=True, affinity_timeout=600)},
    endpoints={WEB: eps("198.19.0.2", "198.19.0.3", "198.19.1.2"),
               METRICS: eps("198.19.0.2", "198.19.0.3", port=9100),
               DNS_UDP: eps("198.19.0.5", "198.19.1.5", port=53),
               DNS_TCP: eps("198.19.0.5", "198.19.1.5", port=53),
               STICKY: eps("198.19.0.7", "198.19.0.8"),
               EMPTY: (Endpoint("198.19.0.9", 8080, ready=False),),
               LB: eps("198.19.0.2", "198.19.1.2"),
               LOCAL: (Endpoint("198.19.0.2", 8080, local=True), Endpoint("198.19.1.2", 8080)),
               LOCAL_STICKY: (Endpoint("198.19.0.2", 8080, local=True), Endpoint("198.19.1.2", 8080))},
    node_ips=frozenset({"198.18.0.11", "198.18.1.11"}))


def changed(state, *, endpoints=None, services=None, node_ips=None):
    return ProxyState(services={**state.services, **(services or {})},
                      endpoints={**state.endpoints, **(endpoints or {})},
                      node_ips=state.node_ips if node_ips is None else node_ips)


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


@pytest.fixture
def two_nodes(lab):
    """Two namespaces: one for nft itself, one for the agent's netlink path."""
    by_nft, by_netlink = lab.netns("nft"), lab.netns("nl")
    applier = NetlinkApplier(netns=by_netlink.name)
    yield Nft(by_nft.name), applier, Nft(by_netlink.name)
    applier.close()


def test_netlink_and_nft_build_the_same_table(two_nodes):
    nft, netlink, netlink_view = two_nodes
    table = n.table_name(unique_name("t"))
    commands = full_transaction(table, STATE)
    nft.apply(commands)
    netlink.apply(commands)
    text, objects, kernel = nft.listings(table)
    assert netlink_view.listings(table) == (text, objects, kernel)
    # and the listing holds what was meant (a few spot checks; the unit tests check the rest)
    assert "pick-tcp-3" in text and "pick-nodeport-tcp-3" in text and "pick-udp-2" in text
    assert "198.19.128.10 . tcp . 80 . 2 : 198.19.1.2 . 8080" in text.replace("\n", " ").replace("\t", "")


@pytest.mark.parametrize("change", [
    pytest.param(lambda s: changed(s, endpoints={WEB: eps("198.19.0.2", "198.19.0.3", "198.19.2.2")}), id="replace"),
    pytest.param(lambda s: changed(s, endpoints={WEB: eps("198.19.0.2", "198.19.0.3", "198.19.1.2", "198.19.2.2")}),
                 id="add-endpoint"),
    pytest.param(lambda s: changed(s, endpoints={WEB: eps("198.19.0.2")}), id="remove-endpoints"),
    pytest.param(lambda s: changed(s, endpoints={WEB: ()}), id="no-endpoints"),
    pytest.param(lambda s: changed(s, endpoints={EMPTY: eps("198.19.0.9")}), id="first-endpoint"),
    pytest.param(lambda s: changed(s, services={WEB: ServicePortInfo("198.19.128.10", 80)}), id="nodeport-dropped"),
    pytest.param(lambda s: changed(s, services={STICKY: ServicePortInfo("198.19.128.11", 80, affinity_timeout=60)}),
                 id="affinity-timeout"),
    pytest.param(lambda s: changed(s, services={WEB: ServicePortInfo("198.19.128.10", 80, node_port=30080,
                                                                     affinity_timeout=600)}), id="affinity-on"),
    pytest.param(lambda s: ProxyState({k: v for k, v in s.services.items() if k != DNS_UDP}, s.endpoints, s.node_ips),
                 id="service-deleted"),
    pytest.param(lambda s: changed(s, services={LB: ServicePortInfo("198.19.128.13", 80, node_port=30083,
                                                                    load_balancer_ips=NODES[:1])}),
                 id="load-balancer-address-gone"),
    pytest.param(lambda s: changed(s, endpoints={LOCAL: eps("198.19.1.2")}), id="no-local-endpoint"),
    pytest.param(lambda s: changed(s, services={LOCAL: ServicePortInfo("198.19.128.14", 81, node_port=30084,
                                                                       load_balancer_ips=NODES)}), id="local-to-cluster"),
    pytest.param(lambda s: changed(s, node_ips=frozenset({"198.18.0.11"})), id="node-address"),
])
def test_a_change_by_netlink_gives_the_table_a_rebuild_by_nft_gives(two_nodes, change):
    nft, netlink, netlink_view = two_nodes
    table = n.table_name(unique_name("t"))
    new = change(STATE)
    netlink.apply(full_transaction(table, STATE))
    netlink.apply(diff_transaction(table, STATE, new))
    nft.apply(full_transaction(table, new))
    assert _without_unused_pick_chains(netlink_view.listings(table)) == _without_unused_pick_chains(nft.listings(table))


def _without_unused_pick_chains(listings):
    """The object and kernel listings without the pick chains no Service port uses: a change
    leaves those in place until the next full resync."""
    _, objects, kernel = listings
    parsed = [json.loads(o) for o in objects]
    used = {o["rule"]["expr"][0]["goto"]["target"] for o in parsed if "rule" in o and "goto" in o["rule"]["expr"][0]}
    unused = {o["chain"]["name"] for o in parsed if o.get("chain", {}).get("name", "").startswith("pick-")} - used
    return ([o for o, p in zip(objects, parsed) if p.get("chain", {}).get("name") not in unused
             and p.get("rule", {}).get("chain") not in unused],
            [block for block in kernel if block.split("\n")[0].split()[2] not in unused])


def rule_handles(nft, table):
    return {(o["rule"]["chain"], o["rule"]["handle"]) for o in nft.list_table(table) if "rule" in o}


def endpoint_elements(nft, table):
    [elems] = [o["map"].get("elem", []) for o in nft.list_table(table)
               if o.get("map", {}).get("name") == n.SERVICE_ENDPOINTS]
    return {tuple(key["concat"]): tuple(value["concat"]) for key, value in elems}


def test_one_endpoint_change_touches_only_its_service(two_nodes):
    _, netlink, view = two_nodes
    table = n.table_name(unique_name("t"))
    netlink.apply(full_transaction(table, STATE))
    rules, slots = rule_handles(view, table), endpoint_elements(view, table)

    new = changed(STATE, endpoints={WEB: eps("198.19.0.2", "198.19.0.3", "198.19.2.2")})
    netlink.apply(diff_transaction(table, STATE, new))
    assert rule_handles(view, table) == rules  # no rule anywhere was replaced
    after = endpoint_elements(view, table)
    assert {k for k in slots.keys() | after.keys() if slots.get(k) != after.get(k)} == {("198.19.128.10", "tcp", 80, 2)}
    assert after[("198.19.128.10", "tcp", 80, 2)] == ("198.19.2.2", 8080)

    # one endpoint more: only this Service's own chains (and the new pick chains for four) change
    more = changed(new, endpoints={WEB: eps("198.19.0.2", "198.19.0.3", "198.19.1.2", "198.19.2.2")})
    netlink.apply(diff_transaction(table, new, more))
    rewritten = {chain for chain, _ in rule_handles(view, table) - rules}
    assert rewritten == {n.service_chain("default/web/tcp/http"), n.external_chain("default/web/tcp/http"),
                         "pick-tcp-4", "pick-nodeport-tcp-4"}


def test_a_refused_batch_changes_nothing_and_names_the_command(two_nodes):
    _, netlink, view = two_nodes
    table = n.table_name(unique_name("t"))
    netlink.apply(full_transaction(table, STATE))
    before = view.listings(table)
    bad = diff_transaction(table, STATE, changed(STATE, endpoints={WEB: eps("198.19.0.2")}))
    bad.append({"add": {"rule": {"family": "ip", "table": table, "chain": "no-such-chain",
                                 "expr": [{"goto": {"target": "services"}}]}}})
    with pytest.raises(NftError, match="no-such-chain.*No such file or directory"):
        netlink.apply(bad)
    assert view.listings(table) == before
    netlink.apply(bad[:-1])  # the socket goes on working after a refusal
    assert view.listings(table) != before


def test_the_table_is_made_in_the_given_namespace_only(two_nodes, lab):
    _, netlink, view = two_nodes
    table = n.table_name(unique_name("t"))
    netlink.apply(full_transaction(table, STATE))
    assert view.list_table(table)
    elsewhere = Nft(lab.netns("other").name)
    with pytest.raises(NftError):
        elsewhere.list_table(table)


def test_the_nft_json_applier_takes_nft_json_the_encoder_does_not(lab):
    """Applier (`nft -j -f`) stays for other components' small tables, with nft JSON the
    proxy's encoder does not know (a prefix, a != match)."""
    ns = lab.netns("json")
    table = unique_name("masq")
    commands = [{"add": {"table": {"family": "ip", "name": table}}},
                {"add": {"chain": {"family": "ip", "table": table, "name": "post", "type": "nat",
                                   "hook": "postrouting", "prio": 100, "policy": "accept"}}},
                {"add": {"rule": {"family": "ip", "table": table, "chain": "post", "expr": [
                    {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                               "right": {"prefix": {"addr": "198.19.0.0", "len": 16}}}},
                    {"masquerade": None}]}}}]
    with pytest.raises(ValueError, match="!="):
        NetlinkApplier(netns=ns.name).apply(commands)
    applier = Applier(netns=ns.name)
    applier.apply(commands)
    [rule] = [o["rule"] for o in applier.list_table(table) if "rule" in o]
    assert rule["expr"][0]["match"]["op"] == "!="
