"""pods/<name>/proxyrules as JSON, and back: pure, no I/O.

Kubernetes has no such subresource; the shape is ours and small, so a plain
HTTP client (the dashboard, curl, `kubectl get --raw`) reads what `cox trace`
reads over gRPC (PodService/ProxyRules, a PodProxyRules message):

    {"kind": "PodProxyRules", "apiVersion": "v1",
     "metadata": {"namespace": "default", "name": "web-1", "uid": "..."},
     "nodes": [{"node": "node1", "reached": true,
                "ports": [{"namespace": "default", "service": "web", "portName": "http", "port": 80,
                           "programmedAt": "2026-12-05T14:27:00.123456Z"}]},
               {"node": "node2", "reached": false, "error": "UNAVAILABLE: ..."}]}

One entry per Node, by name. `reached: false` with `error`: that node's
agent could not be asked; `reached: true` with no `ports`: its proxy has
not programmed the pod as a ready backend of any Service. `programmedAt`
is the node's clock, to the microsecond (RFC 3339); `port` is the Service
port's number, 0 once the Service is gone.
"""
import datetime

from google.protobuf.message import Message

from controlplane.api.v1 import node_agent_pb2 as pb

KIND = "PodProxyRules"
API_VERSION = "v1"


class ProxyRulesError(ValueError):
    """A PodProxyRules document that is not one: the message names the field."""


def _time(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds(text, field: str) -> float:
    try:
        return datetime.datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        raise ProxyRulesError(f'{field}: "{text}" is not an RFC 3339 time') from None


def _object(value, field: str) -> None:
    if not isinstance(value, dict):
        raise ProxyRulesError(f"{field}: must be an object")


def to_json(rules: Message) -> dict:
    """The JSON answer for a PodProxyRules message."""
    nodes = []
    for node in rules.nodes:
        entry = {"node": node.node, "reached": node.reached}
        if node.error:
            entry["error"] = node.error
        if node.ports:
            entry["ports"] = [{"namespace": p.namespace, "service": p.service, "portName": p.port,
                               "port": p.number, "programmedAt": _time(p.programmed_at)} for p in node.ports]
        nodes.append(entry)
    return {"kind": KIND, "apiVersion": API_VERSION,
            "metadata": {"namespace": rules.namespace, "name": rules.name, "uid": rules.uid}, "nodes": nodes}


def from_json(data) -> pb.PodProxyRules:
    """The PodProxyRules message of a JSON answer (what the dashboard hands to cox trace's steps)."""
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise ProxyRulesError(f"kind: not a {KIND}")
    meta = data.get("metadata") or {}
    rules = pb.PodProxyRules(namespace=meta.get("namespace", ""), name=meta.get("name", ""),
                             uid=meta.get("uid", ""))
    for i, node in enumerate(data.get("nodes") or []):
        _object(node, f"nodes[{i}]")
        entry = rules.nodes.add(node=node.get("node", ""), reached=bool(node.get("reached")),
                                error=node.get("error", ""))
        for j, port in enumerate(node.get("ports") or []):
            _object(port, f"nodes[{i}].ports[{j}]")
            entry.ports.add(namespace=port.get("namespace", ""), service=port.get("service", ""),
                            port=port.get("portName", ""), number=int(port.get("port") or 0),
                            programmed_at=_seconds(port.get("programmedAt"), f"nodes[{i}].ports[{j}].programmedAt"))
    return rules
