"""The Service variables every container gets, as Kubernetes (and Docker links before it) names them.

For each Service a pod sees, with NAME its name upper-cased and dashes made
underscores, IP its ClusterIP and the first port's number and protocol:

    NAME_SERVICE_HOST=IP                      NAME_PORT=tcp://IP:PORT
    NAME_SERVICE_PORT=PORT                    NAME_PORT_<port>_TCP=tcp://IP:<port>
    NAME_SERVICE_PORT_<PORTNAME>=<port>       NAME_PORT_<port>_TCP_PROTO=tcp
      (each named port)                       NAME_PORT_<port>_TCP_PORT=<port>
                                              NAME_PORT_<port>_TCP_ADDR=IP   (each port)

A pod sees the Services of its own namespace when spec.enableServiceLinks is
true (the default), and always `default/kubernetes`, so it can find the API
(one of its own namespace named `kubernetes` takes its place). Services
without a ClusterIP (headless, ExternalName) give nothing. The container's
own env wins over these (envvars.py).
"""
from collections.abc import Iterable

from google.protobuf.message import Message

MASTER_NAMESPACE = "default"
MASTER_SERVICES = frozenset({"kubernetes"})


def visible_services(services: Iterable[Message], namespace: str, *, links: bool) -> list[Message]:
    """The Services a pod of `namespace` gets variables for (links: its enableServiceLinks)."""
    chosen: dict[str, Message] = {}
    for service in services:
        if service.spec.cluster_ip in ("", "None"):
            continue
        name = service.metadata.name
        if service.metadata.namespace == namespace and links:
            chosen[name] = service
        elif service.metadata.namespace == MASTER_NAMESPACE and name in MASTER_SERVICES:
            chosen.setdefault(name, service)
    return list(chosen.values())


def variable_name(text: str) -> str:
    return text.upper().replace("-", "_")


def service_env(services: Iterable[Message]) -> dict[str, str]:
    env: dict[str, str] = {}
    for service in services:
        spec = service.spec
        if not spec.ports:
            continue
        name, ip = variable_name(service.metadata.name), spec.cluster_ip
        host = f"[{ip}]" if ":" in ip else ip
        first = spec.ports[0]
        env[f"{name}_SERVICE_HOST"] = ip
        env[f"{name}_SERVICE_PORT"] = str(first.port)
        for port in spec.ports:
            if port.name:
                env[f"{name}_SERVICE_PORT_{variable_name(port.name)}"] = str(port.port)
        env[f"{name}_PORT"] = f"{(first.protocol or 'TCP').lower()}://{host}:{first.port}"
        for port in spec.ports:
            protocol = port.protocol or "TCP"
            prefix = f"{name}_PORT_{port.port}_{protocol.upper()}"
            env[prefix] = f"{protocol.lower()}://{host}:{port.port}"
            env[f"{prefix}_PROTO"] = protocol.lower()
            env[f"{prefix}_PORT"] = str(port.port)
            env[f"{prefix}_ADDR"] = ip
    return env
