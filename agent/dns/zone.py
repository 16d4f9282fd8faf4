"""The cluster domain's records, from Services and Endpoints, and the answer to one question.

Names follow Kubernetes' DNS specification (cluster.local by default):

    <svc>.<ns>.svc.<domain>                 A    the ClusterIP; a headless Service: its ready endpoint IPs
    <host>.<svc>.<ns>.svc.<domain>          A    one endpoint of a headless Service, by its hostname
                                                 (else by its IP with dashes: 10-244-1-5)
    _<port>._<proto>.<svc>.<ns>.svc.<domain> SRV  a named port: priority 0, weight 100, the port and a target
                                                 (the Service's name; for headless, each endpoint's name)
    <svc>.<ns>.svc.<domain>                 SRV  every named port at once
    <svc>.<ns>.svc.<domain>                 CNAME an ExternalName Service's externalName, whatever the
                                                 type asked (with the target's records when it is in the domain)
    <a-b-c-d>.<ns>.pod.<domain>             A    a.b.c.d (any address, as CoreDNS' "pods insecure")
    <d.c.b.a>.in-addr.arpa                  PTR  a ClusterIP or headless endpoint back to its name

A name in the domain that does not exist is NXDOMAIN; a name that exists
without records of the asked type (AAAA of a Service, A of `svc.<domain>`)
is NOERROR with no answers. Both carry the zone's SOA so resolvers cache the
negative answer for the TTL. `answer()` returns None for a question outside
the domain (and a PTR of an address it does not know): the server forwards
those.

State is kept per object, so one Service or Endpoints event replaces only
its own share. Pure: no I/O, testable without a network.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from dnslib import CNAME, PTR, QTYPE, RCODE, RR, SOA, SRV, A, DNSLabel, DNSRecord
from google.protobuf.message import Message

from agent.network.model import is_ipv4

DEFAULT_DOMAIN = "cluster.local"
DEFAULT_TTL = 5   # seconds, as CoreDNS' kubernetes plugin: Services change often

Key = tuple[str, str]   # (namespace, name)


@dataclass(frozen=True)
class Port:
    name: str
    protocol: str   # "tcp" / "udp", as in the SRV label
    port: int


@dataclass(frozen=True)
class ServiceRecord:
    cluster_ip: str       # "" for a headless Service
    ports: tuple[Port, ...]
    external_name: str = ""  # an ExternalName Service's target: the name is an alias


@dataclass(frozen=True)
class EndpointRecord:
    ip: str
    hostname: str          # the label this endpoint answers to under its Service
    ports: tuple[Port, ...]


def service_record(svc: Message) -> ServiceRecord:
    ip = svc.spec.cluster_ip
    ports = tuple(Port(p.name, (p.protocol or "TCP").lower(), p.port) for p in svc.spec.ports)
    if svc.spec.type == "ExternalName":
        return ServiceRecord(cluster_ip="", ports=(), external_name=svc.spec.external_name.rstrip(".").lower())
    return ServiceRecord(cluster_ip=ip if is_ipv4(ip) else "", ports=ports)


def endpoint_records(eps: Message) -> tuple[EndpointRecord, ...]:
    """Ready addresses only (the endpoints controller puts publishNotReadyAddresses ones there too)."""
    found: dict[str, EndpointRecord] = {}
    for subset in eps.subsets:
        ports = tuple(Port(p.name, (p.protocol or "TCP").lower(), p.port) for p in subset.ports)
        for address in subset.addresses:
            if not is_ipv4(address.ip):
                continue
            old = found.get(address.ip)
            found[address.ip] = EndpointRecord(address.ip, address.hostname.lower() or address.ip.replace(".", "-"),
                                               (old.ports if old else ()) + ports)
    return tuple(found.values())


class Zone:
    def __init__(self, domain: str = DEFAULT_DOMAIN, *, ttl: int = DEFAULT_TTL):
        self.domain = DNSLabel(domain.strip(".").lower())
        self.ttl = ttl
        self._services: dict[Key, ServiceRecord] = {}
        self._endpoints: dict[Key, tuple[EndpointRecord, ...]] = {}
        self._namespaces: dict[str, int] = {}    # namespace -> how many Services it has
        self._soa = RR(self.domain, QTYPE.SOA, ttl=ttl, rdata=SOA(
            f"ns.dns.{domain}", f"hostmaster.{domain}", (1, 7200, 1800, 86400, ttl)))

    # -- updates, one object's share at a time

    def set_service(self, key: Key, record: ServiceRecord | None) -> None:
        had = key in self._services
        if record is None:
            self._services.pop(key, None)
        else:
            self._services[key] = record
        has = record is not None
        if has != had:
            count = self._namespaces.get(key[0], 0) + (1 if has else -1)
            if count:
                self._namespaces[key[0]] = count
            else:
                self._namespaces.pop(key[0], None)

    def set_endpoints(self, key: Key, records: tuple[EndpointRecord, ...] | None) -> None:
        if records:
            self._endpoints[key] = records
        else:
            self._endpoints.pop(key, None)

    # -- answers

    def answer(self, request: DNSRecord) -> DNSRecord | None:
        """The reply to a query, or None when it is not ours to answer (forward it)."""
        question = request.q
        qname = DNSLabel(str(question.qname).lower())
        reply = request.reply(ra=1, aa=1)
        if qname.matchSuffix(self.domain):
            labels = [label.decode() for label in qname.stripSuffix(self.domain).label]
            records = self._lookup(labels, question.qtype)
        elif question.qtype == QTYPE.PTR and qname.matchSuffix("in-addr.arpa"):
            records = self._reverse(qname)
            if records is None:
                return None
        else:
            return None
        if records is None:
            reply.header.rcode = RCODE.NXDOMAIN
        for section, rr in records or ():
            (reply.add_answer if section == "an" else reply.add_ar)(rr)
        if not reply.rr:
            reply.add_auth(self._soa)
        return reply

    def _lookup(self, labels: list[str], qtype: int, *, follow: bool = True) -> list[tuple[str, RR]] | None:
        """The records at a name (section, RR); [] if it exists without records of qtype; None: NXDOMAIN."""
        if not labels:
            return [("an", self._soa)] if qtype in (QTYPE.SOA, QTYPE.ANY) else []
        *head, kind = labels
        if kind == "svc":
            return self._service_name(head, qtype, follow=follow)
        if kind == "pod":
            return self._pod_name(head, qtype)
        return None

    def _service_name(self, head: list[str], qtype: int, *, follow: bool) -> list[tuple[str, RR]] | None:
        if not head:
            return []
        namespace = head[-1]
        if len(head) == 1:
            return [] if namespace in self._namespaces else None
        key = (namespace, head[-2])
        service = self._services.get(key)
        if service is None:
            return None
        name = f"{key[1]}.{key[0]}.svc.{self.domain}"
        endpoints = self._endpoints.get(key, ())
        rest = head[:-2]
        if service.external_name:
            return None if rest else self._alias(name, service.external_name, qtype, follow=follow)
        if not rest:
            if qtype in (QTYPE.A, QTYPE.ANY):
                ips = [service.cluster_ip] if service.cluster_ip else [e.ip for e in endpoints]
                return [("an", self._a(name, ip)) for ip in _shuffled(ips)]
            if qtype == QTYPE.SRV:
                return self._srv(name, service, endpoints, lambda p: bool(p.name))
            return []
        if len(rest) == 1 and not service.cluster_ip:   # <host>.<svc>: one endpoint of a headless Service
            if rest[0] in ("_tcp", "_udp"):
                return []
            for endpoint in endpoints:
                if endpoint.hostname == rest[0]:
                    return [("an", self._a(f"{rest[0]}.{name}", endpoint.ip))] if qtype in (QTYPE.A, QTYPE.ANY) \
                        else []
            return None
        if len(rest) == 1 and rest[0] in ("_tcp", "_udp"):
            return []
        if len(rest) == 2 and rest[0].startswith("_") and rest[1] in ("_tcp", "_udp"):
            wanted = (rest[0][1:], rest[1][1:])
            records = self._srv(name, service, endpoints, lambda p: (p.name, p.protocol) == wanted, owner=rest)
            if not records:
                return None
            return records if qtype in (QTYPE.SRV, QTYPE.ANY) else []
        return None

    def _srv(self, name: str, service: ServiceRecord, endpoints: tuple[EndpointRecord, ...], wanted,
             owner: list[str] | None = None) -> list[tuple[str, RR]]:
        """SRV records of the ports `wanted` picks, with the targets' A records as additional records."""
        records: list[tuple[str, RR]] = []
        extra: dict[str, RR] = {}
        for port in service.ports:
            if not wanted(port):
                continue
            owner_name = ".".join(owner) + f".{name}" if owner else name
            if service.cluster_ip:
                records.append(("an", RR(owner_name, QTYPE.SRV, ttl=self.ttl,
                                         rdata=SRV(0, 100, port.port, name))))
                extra[name] = self._a(name, service.cluster_ip)
                continue
            for endpoint in endpoints:
                match = [p for p in endpoint.ports if p.name == port.name and p.protocol == port.protocol]
                if match:
                    target = f"{endpoint.hostname}.{name}"
                    records.append(("an", RR(owner_name, QTYPE.SRV, ttl=self.ttl,
                                             rdata=SRV(0, 100, match[0].port, target))))
                    extra[target] = self._a(target, endpoint.ip)
        return records + [("ar", rr) for rr in extra.values()]

    def _alias(self, name: str, target: str, qtype: int, *, follow: bool) -> list[tuple[str, RR]]:
        """An ExternalName: the CNAME, whatever was asked (as CoreDNS answers), followed once when
        the target is in the domain (the client's resolver follows one outside it); an alias of an
        alias is not followed further, so two that name each other cannot loop."""
        records = [("an", RR(name, QTYPE.CNAME, ttl=self.ttl, rdata=CNAME(target)))]
        label = DNSLabel(target)
        if follow and qtype != QTYPE.CNAME and label.matchSuffix(self.domain):
            labels = [part.decode() for part in label.stripSuffix(self.domain).label]
            records += self._lookup(labels, qtype, follow=False) or []
        return records

    def _pod_name(self, head: list[str], qtype: int) -> list[tuple[str, RR]] | None:
        if len(head) != 2:
            return [] if len(head) < 2 else None
        ip = head[0].replace("-", ".")
        if not is_ipv4(ip) or head[0].count("-") != 3:
            return None
        return [("an", self._a(f"{head[0]}.{head[1]}.pod.{self.domain}", ip))] if qtype in (QTYPE.A, QTYPE.ANY) \
            else []

    def _reverse(self, qname: DNSLabel) -> list[tuple[str, RR]] | None:
        octets = [label.decode() for label in qname.stripSuffix("in-addr.arpa").label]
        ip = ".".join(reversed(octets))
        names = []
        for (namespace, name), service in self._services.items():
            svc = f"{name}.{namespace}.svc.{self.domain}"
            if service.cluster_ip == ip:
                names.append(svc)
            elif not service.cluster_ip and not service.external_name:
                names += [f"{e.hostname}.{svc}" for e in self._endpoints.get((namespace, name), ()) if e.ip == ip]
        if not names:
            return None
        return [("an", RR(qname, QTYPE.PTR, ttl=self.ttl, rdata=PTR(n))) for n in sorted(names)]

    def _a(self, name: str, ip: str) -> RR:
        return RR(name, QTYPE.A, ttl=self.ttl, rdata=A(ip))


def _shuffled(items: list[str]) -> list[str]:
    """Round-robin by chance: clients take the first address, so spread which one that is."""
    items = list(items)
    random.shuffle(items)
    return items

