"""Lines for tests/vagrant/checks.sh from `cox get nodes|pods -o json` on stdin.

    python3 query.py nodes    NAME READY-STATUS INTERNAL-IP     (one line per node)
    python3 query.py pods     NAME NODE POD-IP READY live|terminating

Runs on the host with only the standard library, so the checks need nothing
else installed there.
"""
import json
import sys


def _condition(obj: dict, kind: str) -> str:
    for condition in obj.get("status", {}).get("conditions", []):
        if condition.get("type") == kind:
            return condition.get("status", "Unknown")
    return "None"


def nodes(items: list) -> None:
    for node in items:
        ips = [a["address"] for a in node.get("status", {}).get("addresses", []) if a.get("type") == "InternalIP"]
        print(node["metadata"]["name"], _condition(node, "Ready"), ips[0] if ips else "-")


def pods(items: list) -> None:
    for pod in items:
        meta, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
        print(meta["name"], spec.get("nodeName") or "-", status.get("podIP") or "-", _condition(pod, "Ready"),
              "terminating" if meta.get("deletionTimestamp") else "live")


if __name__ == "__main__":
    {"nodes": nodes, "pods": pods}[sys.argv[1]](json.load(sys.stdin).get("items", []))
