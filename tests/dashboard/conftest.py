"""`server`: tests/rest's `cox server` with its REST port, where the dashboard is served; `rest`: HTTPS
calls to it as a browser makes them, with a bearer token, trusting the cluster's CA."""
import base64
import json
import ssl
import time
from dataclasses import dataclass

import aiohttp
import pytest
import yaml

from tests.rest.conftest import server  # noqa: F401 (a fixture: `cox server` with its REST port)


@dataclass
class Rest:
    """The server's REST port: base URL, CA, the admin's token."""
    base: str
    ca_pem: str
    admin_token: str

    def session(self, token: str | None = "admin") -> aiohttp.ClientSession:
        context = ssl.create_default_context(cadata=self.ca_pem)
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {self.admin_token if token == 'admin' else token}"
        return aiohttp.ClientSession(self.base, headers=headers, connector=aiohttp.TCPConnector(ssl=context))

    async def call(self, method: str, path: str, body: dict | None = None, *, token: str = "admin",
                   ok: bool = True) -> tuple[int, dict]:
        async with self.session(token) as session:
            async with session.request(method, path, data=json.dumps(body) if body is not None else None,
                                       headers={"Content-Type": "application/json"}) as response:
                data = await response.json(content_type=None)
                if ok:
                    assert response.status < 300, f"{method} {path}: {response.status} {data}"
                return response.status, data


@pytest.fixture(scope="module")
def rest(server) -> Rest:
    kubeconfig = server.data_dir / "kubeconfig.yaml"
    deadline = time.monotonic() + 20
    config = None
    while not (isinstance(config, dict) and config.get("users")):  # written once the REST port is up
        assert time.monotonic() < deadline, f"no kubeconfig at {kubeconfig}"
        time.sleep(0.05)
        config = yaml.safe_load(kubeconfig.read_text()) if kubeconfig.exists() else None
    cluster = config["clusters"][0]["cluster"]
    return Rest(cluster["server"], base64.b64decode(cluster["certificate-authority-data"]).decode(),
                config["users"][0]["user"]["token"])


def pod_manifest(name: str, namespace: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]}}
