"""A kubeconfig for kubectl and the Kubernetes client libraries: pure, no I/O but the write.

`cox server` writes the admin's beside admin.yaml (DATA/kubeconfig.yaml);
`cox config kubeconfig` prints one for any coxswain client config.
"""
import base64
import os
import pathlib

import yaml

from controlplane.apiserver.rest.names import REST_PORT_OFFSET

FILE_NAME = "kubeconfig.yaml"
_CONTEXT = "coxswain"


def kubeconfig(*, server: str, ca_pem: str, token: str, user: str = "admin") -> dict:
    """One cluster, one user, one context, current."""
    return {"apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": _CONTEXT, "cluster": {
                "server": server, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": _CONTEXT, "context": {"cluster": _CONTEXT, "user": user}}],
            "current-context": _CONTEXT, "preferences": {}}


def rest_server_for(grpc_server: str) -> str:
    """The REST URL beside a client config's gRPC host:port, by the default port offset."""
    host, _, port = grpc_server.rpartition(":")
    return f"https://{host}:{int(port) + REST_PORT_OFFSET}"


def dumps(config: dict) -> str:
    return yaml.safe_dump(config, sort_keys=False)


def write(path: pathlib.Path, config: dict) -> None:
    """Owner-only: it holds a bearer token."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(dumps(config))
