"""The cluster zone's answers, question by question (pure: no sockets)."""
from dnslib import QTYPE, RCODE, DNSRecord

from controlplane.api.kinds import KINDS

from agent.dns.zone import Zone, endpoint_records, service_record


def service(name, *, namespace="default", cluster_ip="198.19.128.10", ports=(("http", "TCP", 80),)):
    return KINDS["Service"].new(
        metadata={"name": name, "namespace": namespace},
        spec={"cluster_ip": cluster_ip,
              "ports": [{"name": n, "protocol": p, "port": port} for n, p, port in ports]})


def endpoints(name, addresses, *, namespace="default", ports=(("http", "TCP", 8080),), not_ready=()):
    return KINDS["Endpoints"].new(
        metadata={"name": name, "namespace": namespace},
        subsets=[{"addresses": [{"ip": ip, "hostname": host} for ip, host in addresses],
                  "not_ready_addresses": [{"ip": ip} for ip in not_ready],
                  "ports": [{"name": n, "protocol": p, "port": port} for n, p, port in ports]}])


def zone_with(*objects):
    zone = Zone("cluster.local")
    for obj in objects:
        key = (obj.metadata.namespace, obj.metadata.name)
        if obj.DESCRIPTOR.name == "Service":
            zone.set_service(key, service_record(obj))
        else:
            zone.set_endpoints(key, endpoint_records(obj))
    return zone


def ask(zone, name, qtype="A"):
    return zone.answer(DNSRecord.question(name, qtype))


def answers(reply, qtype=None):
    return sorted(str(rr.rdata) for rr in reply.rr if qtype is None or rr.rtype == getattr(QTYPE, qtype))


def test_a_record_of_a_service_is_its_cluster_ip():
    zone = zone_with(service("web"))
    reply = ask(zone, "web.default.svc.cluster.local")
    assert reply.header.rcode == RCODE.NOERROR and reply.header.aa
    assert answers(reply) == ["198.19.128.10"]
    assert reply.rr[0].ttl == 5


def test_names_are_case_insensitive():
    zone = zone_with(service("web"))
    assert answers(ask(zone, "WEB.Default.SVC.cluster.LOCAL")) == ["198.19.128.10"]


def test_unknown_names_in_the_domain_are_nxdomain_with_the_soa():
    zone = zone_with(service("web"))
    for name in ("db.default.svc.cluster.local", "web.other.svc.cluster.local", "web.cluster.local",
                 "web.svc.cluster.local", "x.web.default.svc.cluster.local", "nope.cluster.local"):
        reply = ask(zone, name)
        assert reply.header.rcode == RCODE.NXDOMAIN, name
        assert not reply.rr and reply.auth[0].rtype == QTYPE.SOA, name


def test_existing_names_without_that_type_are_nodata_not_nxdomain():
    zone = zone_with(service("web"))
    for name, qtype in (("web.default.svc.cluster.local", "AAAA"), ("default.svc.cluster.local", "A"),
                        ("svc.cluster.local", "A"), ("cluster.local", "A")):
        reply = ask(zone, name, qtype)
        assert reply.header.rcode == RCODE.NOERROR and not reply.rr, (name, qtype)
        assert reply.auth[0].rtype == QTYPE.SOA


def test_a_namespace_exists_while_it_has_services():
    zone = zone_with(service("web"))
    zone.set_service(("default", "web"), None)
    assert ask(zone, "default.svc.cluster.local").header.rcode == RCODE.NXDOMAIN
    assert ask(zone, "web.default.svc.cluster.local").header.rcode == RCODE.NXDOMAIN


def test_headless_service_answers_its_ready_endpoints():
    zone = zone_with(service("db", cluster_ip="None"),
                     endpoints("db", [("198.19.1.5", ""), ("198.19.2.7", "db-0")], not_ready=["198.19.3.9"]))
    assert answers(ask(zone, "db.default.svc.cluster.local")) == ["198.19.1.5", "198.19.2.7"]
    assert answers(ask(zone, "db-0.db.default.svc.cluster.local")) == ["198.19.2.7"]
    assert answers(ask(zone, "198-19-1-5.db.default.svc.cluster.local")) == ["198.19.1.5"]
    assert ask(zone, "198-19-3-9.db.default.svc.cluster.local").header.rcode == RCODE.NXDOMAIN


def test_headless_service_without_endpoints_is_nodata():
    zone = zone_with(service("db", cluster_ip="None"))
    reply = ask(zone, "db.default.svc.cluster.local")
    assert reply.header.rcode == RCODE.NOERROR and not reply.rr


def test_srv_of_a_named_port_points_at_the_service():
    zone = zone_with(service("web", ports=(("http", "TCP", 80), ("dns", "UDP", 53), ("", "TCP", 9000))))
    reply = ask(zone, "_http._tcp.web.default.svc.cluster.local", "SRV")
    assert answers(reply, "SRV") == ["0 100 80 web.default.svc.cluster.local."]
    assert [str(rr.rdata) for rr in reply.ar] == ["198.19.128.10"]
    assert answers(ask(zone, "_dns._udp.web.default.svc.cluster.local", "SRV")) == \
        ["0 100 53 web.default.svc.cluster.local."]
    assert ask(zone, "_dns._tcp.web.default.svc.cluster.local", "SRV").header.rcode == RCODE.NXDOMAIN
    assert ask(zone, "_metrics._tcp.web.default.svc.cluster.local", "SRV").header.rcode == RCODE.NXDOMAIN
    # the service name itself: every named port, the unnamed one left out
    assert answers(ask(zone, "web.default.svc.cluster.local", "SRV")) == \
        ["0 100 53 web.default.svc.cluster.local.", "0 100 80 web.default.svc.cluster.local."]


def test_srv_of_a_headless_service_lists_each_endpoint_with_its_port():
    zone = zone_with(service("db", cluster_ip="None", ports=(("pg", "TCP", 5432),)),
                     endpoints("db", [("198.19.1.5", "db-0"), ("198.19.2.7", "")], ports=(("pg", "TCP", 6432),)))
    reply = ask(zone, "_pg._tcp.db.default.svc.cluster.local", "SRV")
    assert answers(reply, "SRV") == ["0 100 6432 198-19-2-7.db.default.svc.cluster.local.",
                                     "0 100 6432 db-0.db.default.svc.cluster.local."]
    assert sorted((str(rr.rname), str(rr.rdata)) for rr in reply.ar) == [
        ("198-19-2-7.db.default.svc.cluster.local.", "198.19.2.7"),
        ("db-0.db.default.svc.cluster.local.", "198.19.1.5")]


def test_pod_names_resolve_to_the_address_they_spell():
    zone = zone_with()
    assert answers(ask(zone, "198-19-1-5.default.pod.cluster.local")) == ["198.19.1.5"]
    assert ask(zone, "198-19-1.default.pod.cluster.local").header.rcode == RCODE.NXDOMAIN


def test_reverse_lookup_of_cluster_ips_and_headless_endpoints():
    zone = zone_with(service("web"), service("db", cluster_ip="None"), endpoints("db", [("198.19.1.5", "db-0")]))
    assert answers(ask(zone, "10.128.19.198.in-addr.arpa", "PTR")) == ["web.default.svc.cluster.local."]
    assert answers(ask(zone, "5.1.19.198.in-addr.arpa", "PTR")) == ["db-0.db.default.svc.cluster.local."]


def test_names_outside_the_domain_are_not_answered_here():
    zone = zone_with(service("web"))
    assert ask(zone, "example.com") is None
    assert ask(zone, "1.0.0.127.in-addr.arpa", "PTR") is None


def test_updates_replace_only_their_own_share():
    zone = zone_with(service("web"), service("api", namespace="shop", cluster_ip="198.19.128.20"))
    zone.set_service(("default", "web"), service_record(service("web", cluster_ip="198.19.128.11")))
    assert answers(ask(zone, "web.default.svc.cluster.local")) == ["198.19.128.11"]
    assert answers(ask(zone, "api.shop.svc.cluster.local")) == ["198.19.128.20"]


def test_another_cluster_domain():
    zone = Zone("corp.example")
    zone.set_service(("default", "web"), service_record(service("web")))
    assert answers(ask(zone, "web.default.svc.corp.example")) == ["198.19.128.10"]
    assert ask(zone, "web.default.svc.cluster.local") is None


def alias(name, target, *, namespace="default"):
    return KINDS["Service"].new(metadata={"name": name, "namespace": namespace},
                                spec={"type": "ExternalName", "external_name": target, "selector": {"app": name}})


def test_external_name_is_a_cname_whatever_the_type_asked():
    zone = zone_with(alias("search", "www.Example.com."))
    for qtype in ("A", "AAAA", "CNAME", "SRV", "ANY"):
        reply = ask(zone, "search.default.svc.cluster.local", qtype)
        assert reply.header.rcode == RCODE.NOERROR
        assert [(QTYPE[rr.rtype], str(rr.rdata)) for rr in reply.rr] == [("CNAME", "www.example.com.")], qtype
    assert ask(zone, "x.search.default.svc.cluster.local").header.rcode == RCODE.NXDOMAIN
    assert ask(zone, "_http._tcp.search.default.svc.cluster.local", "SRV").header.rcode == RCODE.NXDOMAIN


def test_external_name_inside_the_domain_is_followed_once():
    zone = zone_with(service("web"), alias("front", "web.default.svc.cluster.local"),
                     alias("ping", "pong.default.svc.cluster.local"), alias("pong", "ping.default.svc.cluster.local"))
    reply = ask(zone, "front.default.svc.cluster.local")
    assert [(QTYPE[rr.rtype], str(rr.rdata)) for rr in reply.rr] == [
        ("CNAME", "web.default.svc.cluster.local."), ("A", "198.19.128.10")]
    looped = ask(zone, "ping.default.svc.cluster.local")  # two aliases of each other: one hop, no loop
    assert [str(rr.rdata) for rr in looped.rr] == ["pong.default.svc.cluster.local.", "ping.default.svc.cluster.local."]
