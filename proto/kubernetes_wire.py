"""Write the table of Kubernetes' protobuf field numbers the REST API decodes kubectl's protobuf bodies with.

kubectl (client-go ≥ 1.3x) sends its typed requests (`kubectl create
deployment`, `run`, `expose`, `auth can-i`, `drain`'s evictions) as
`application/vnd.kubernetes.protobuf`, whose field numbers are Kubernetes'
own, not those of proto/controlplane (which are ours). The façade turns such
a body into the Kubernetes JSON it already takes (apiserver/rest/k8sproto.py),
for which it needs, per message, each field's number, JSON name and type.

Run by hand, with checkouts of kubernetes/api and kubernetes/apimachinery:

    python proto/kubernetes_wire.py API_REPO APIMACHINERY_REPO

It reads their generated.proto files (at HEAD, through git) and writes
controlplane/apiserver/rest/kubernetes_wire.json: only numbers, names and
type names, nothing else of those files. Rerun it when a kind of another
API group is added (add the group's file to FILES).
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "controlplane/apiserver/rest/kubernetes_wire.json"
# (repository index, path): 0 is kubernetes/api, 1 is kubernetes/apimachinery.
FILES = [(0, f"{group}/v1/generated.proto") for group in
         ("core", "apps", "batch", "rbac", "coordination", "scheduling", "policy", "authorization", "authentication",
          "autoscaling")]
FILES += [(0, "autoscaling/v2/generated.proto")]   # the HorizontalPodAutoscaler version served
FILES += [(1, "pkg/apis/meta/v1/generated.proto"), (1, "pkg/util/intstr/generated.proto"),
          (1, "pkg/api/resource/generated.proto"), (1, "pkg/runtime/generated.proto")]
_SCALARS = {"string", "bytes", "bool", "int32", "int64", "double", "float", "uint32", "uint64", "fixed64"}
_FIELD = re.compile(r"^\s*(optional|repeated)?\s*(map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)")


def _show(repo: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"HEAD:{path}"], check=True, capture_output=True,
                          text=True).stdout


def _qualified(type_name: str, package: str) -> str:
    if type_name in _SCALARS or "." in type_name:
        return type_name.lstrip(".")
    return f"{package}.{type_name}"


def messages(text: str) -> dict[str, list]:
    """{package.Message: [[number, jsonName, type, "repeated"|"map"|""], ...]} of one generated.proto
    (a map's type is its values' type)."""
    package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    out, current, depth = {}, None, 0
    for line in text.splitlines():
        line = line.split("//")[0]
        if current is None:
            match = re.match(r"^message (\w+) \{", line)
            if match:
                current, depth = f"{package}.{match.group(1)}", 1
                out[current] = []
            continue
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            current = None
            continue
        field = _FIELD.match(line)
        if field and depth == 1:
            label, whole, key, value, name, number = field.groups()
            if key:
                out[current].append([int(number), name, _qualified(value, package), "map"])
            else:
                out[current].append([int(number), name, _qualified(whole, package),
                                     "repeated" if label == "repeated" else ""])
    return out


def main(api_repo: str, apimachinery_repo: str) -> None:
    table = {}
    for which, path in FILES:
        table |= messages(_show((api_repo, apimachinery_repo)[which], path))
    OUT.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(table)} messages, {sum(map(len, table.values()))} fields")


if __name__ == "__main__":
    main(*sys.argv[1:3])
