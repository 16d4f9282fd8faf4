"""`cox expose KIND/NAME --port=PORT`: a Service in front of a pod, workload or service, as `kubectl expose`.

The Service selects what the object selects (a workload's matchLabels, a
service's selector, a pod's labels) and is named after it (or --name). With
no --port, the ports are the containers' declared ports (a service's ports).
"""
from controlplane.api import convert, kinds
from controlplane.cli import common, generated
from controlplane.cli.common import CommandError


def register(sub) -> None:
    p = sub.add_parser("expose", help="make a Service for a pod, workload or service")
    p.add_argument("words", nargs="+", metavar="KIND NAME", help="KIND NAME or KIND/NAME")
    p.add_argument("--port", type=int, default=None, help="the Service's port")
    p.add_argument("--target-port", default=None, help="the pods' port (a number or a port name; default --port)")
    p.add_argument("--protocol", choices=("TCP", "UDP", "SCTP"), default=None)
    p.add_argument("--name", default=None, help="the Service's name (default: the object's)")
    p.add_argument("--type", choices=("ClusterIP", "NodePort"), default=None, dest="service_type")
    p.add_argument("--selector", default=None, help="the Service's selector, a=b,c=d (default: the object's)")
    p.add_argument("-l", "--labels", default=None, help="the Service's labels (default: the object's)")
    generated.add_options(p)
    p.set_defaults(free_words="words", func=run)


def selector_of(data: dict) -> dict:
    """What a Service in front of this object selects."""
    kind, spec = data.get("kind"), data.get("spec") or {}
    if kind == "Pod":
        selector = (data.get("metadata") or {}).get("labels") or {}
    elif kind == "Service":
        selector = spec.get("selector") or {}
    else:
        chosen = spec.get("selector") or {}
        if chosen.get("matchExpressions"):
            raise CommandError(f"cannot expose a {kind} whose selector has matchExpressions; give --selector")
        selector = chosen.get("matchLabels") or {}
    if not selector:
        raise CommandError(f"couldn't find a selector for {kind} {data['metadata']['name']}: give --selector")
    return selector


def declared_ports(data: dict) -> list[dict]:
    """The ports the object's pods declare, as Service ports."""
    if data.get("kind") == "Service":
        return [{k: p[k] for k in ("name", "port", "protocol", "targetPort") if k in p}
                for p in data["spec"].get("ports") or []]
    spec = data.get("spec") or {}
    pod_spec = spec if data.get("kind") == "Pod" else ((spec.get("template") or {}).get("spec") or {})
    ports = [p for c in pod_spec.get("containers") or [] for p in c.get("ports") or []]
    out = []
    for index, port in enumerate(ports):
        entry = {"port": port["containerPort"], "targetPort": port["containerPort"],
                 "protocol": port.get("protocol", "TCP")}
        if len(ports) > 1:
            entry["name"] = port.get("name") or f"port-{index + 1}"
        out.append(entry)
    return out


def service(args, data: dict) -> dict:
    meta = data["metadata"]
    selector = (generated.pairs(args.selector.split(","), what="selector") if args.selector
                else selector_of(data))
    if args.port is not None:
        target = args.target_port or args.port
        port = {"port": args.port, "targetPort": int(target) if str(target).isdigit() else target,
                "protocol": args.protocol or "TCP"}
        ports = [port]
    else:
        ports = declared_ports(data)
        if not ports:
            raise CommandError(f"couldn't find port via --port flag or introspection of {data['kind']} "
                               f"{meta['name']}")
    labels = (generated.pairs(args.labels.split(","), what="label") if args.labels
              else meta.get("labels") or {})
    spec = {"selector": selector, "ports": ports}
    if args.service_type:
        spec["type"] = args.service_type
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": args.name or meta["name"], "namespace": meta.get("namespace", ""),
                         **({"labels": labels} if labels else {})},
            "spec": spec}


async def run(args) -> int:
    async with common.connect(args) as client:
        targets = await common.objects_named(client, args.words, args)
        for kind, namespace, name in targets:
            data = convert.to_dict(await common.get_object(client, kind, namespace, name))
            await generated.create(client, args, kinds.by_name("Service"), service(args, data), done="exposed")
    return 0
