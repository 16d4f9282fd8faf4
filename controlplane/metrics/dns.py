"""The node's cluster DNS series, as CoreDNS names them.

Each answered query is counted by transport, query type and zone (the
cluster domain, or "." for a name forwarded upstream), its answer by rcode
and zone, and its time from query to answer (forwarding included) observed.
Query types outside the common ones count as "other", as CoreDNS keeps the
label set small. Malformed messages are answered (FORMERR) but not counted.
"""
from __future__ import annotations

from prometheus_client.metrics import Counter, Histogram

# CoreDNS's: 0.25 ms doubling, 16 buckets.
_BUCKETS = tuple(0.00025 * 2 ** i for i in range(16))
_TYPES = frozenset({"A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "MX", "NS", "SOA", "ANY"})
FORWARDED_ZONE = "."

REQUESTS = Counter("coredns_dns_requests_total", "DNS queries answered, by transport, query type and zone",
                   ["proto", "type", "zone"])
RESPONSES = Counter("coredns_dns_responses_total", "DNS answers, by rcode and zone", ["rcode", "zone"])
DURATION = Histogram("coredns_dns_request_duration_seconds", "Time from a DNS query to its answer, by zone",
                     ["type", "zone"], buckets=_BUCKETS)


def answered(*, tcp: bool, qtype: str, zone: str, rcode: str, seconds: float) -> None:
    qtype = qtype if qtype in _TYPES else "other"
    REQUESTS.labels("tcp" if tcp else "udp", qtype, zone).inc()
    RESPONSES.labels(rcode, zone).inc()
    DURATION.labels(qtype, zone).observe(seconds)
