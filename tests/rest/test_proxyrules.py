"""GET pods/<name>/proxyrules over HTTPS with the real kubectl (`get --raw`, `--as`): the JSON shape of
rest/proxyrules.py from a real agent endpoint, the same authorization as gRPC (view and up; a node never),
404 for a missing pod, 405 for anything but GET, and the subresource in discovery.

The node's kubelet (on the session's dockerd) serves NodeAgent/ProxyProgrammed from a real
ProgrammedRecord; the record is noted directly with a ProxyState, as the proxier notes it after a sync,
because running the proxy itself needs nftables in a network namespace that this room's tests do not make
(tests/e2e/test_trace_proxy.py runs the whole path on a local cluster).
"""
import datetime
import json
import time
from dataclasses import replace

import pytest

from agent.kubelet.kubelet import Kubelet
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName
from agent.proxy.programmed import ProgrammedRecord
from controlplane.api.kinds import KINDS
from controlplane.apiserver.rest import proxyrules
from localcluster.leftovers import unmount_under
from tests.kubelet.conftest import NODE, kubelet_config, manifests, node_client  # noqa: F401
from tests.rest.conftest import Kubectl
from tests.rest.test_kubectl_pods import run
from tests.support.polling import eventually

WEB = ServicePortName("default", "web", "http")


@pytest.fixture
async def record(kubelet_config, runtime, node_client, dockerd, tmp_path):  # noqa: F811
    """A joined kubelet whose agent endpoint answers from this record."""
    programmed = ProgrammedRecord()
    config = replace(kubelet_config, node_ip=dockerd.gateway, heartbeat_seconds=1.0, listen=f"{dockerd.gateway}:0")
    kubelet = Kubelet(config, runtime, node_client, host_ip=dockerd.gateway, proxy_programmed=programmed)
    await kubelet.start()
    try:
        yield programmed
    finally:
        await kubelet.stop()
        unmount_under(tmp_path)


async def raw(kubectl: Kubectl, path: str, *args: str) -> tuple[int, str, str]:
    """kubectl get --raw, without blocking the loop the API server runs in: (exit code, stdout, stderr)."""
    code, out, err = await run(kubectl, "get", "--raw", path, *args)
    return code, out.decode(), err.decode()


async def test_proxyrules_over_rest(record, client, apiserver, tmp_path):
    kubectl = Kubectl(apiserver.options.data_dir / "kubeconfig.yaml", tmp_path)
    pod = await client.resource("Pod").create(KINDS["Pod"].new(
        metadata={"name": "web-1", "namespace": "default"},
        spec={"containers": [{"name": "c", "image": "busybox"}], "node_name": "elsewhere"}))
    uid = pod.metadata.uid
    path = "/api/v1/namespaces/default/pods/web-1/proxyrules"

    async def reached():
        code, out, err = await raw(kubectl, path)
        answer = json.loads(out or "{}")
        assert answer.get("nodes") and answer["nodes"][0]["reached"], (code, out, err)
        return answer
    answer = await eventually(reached, timeout=30, what="the node's agent endpoint answering")
    assert answer == {"kind": "PodProxyRules", "apiVersion": "v1",
                      "metadata": {"namespace": "default", "name": "web-1", "uid": uid},
                      "nodes": [{"node": NODE, "reached": True}]}      # reached, nothing programmed yet

    at = time.time()
    record.note(ProxyState(services={WEB: ServicePortInfo("198.18.128.10", 80)},
                           endpoints={WEB: (Endpoint("198.19.0.5", 8080, uid=uid),)}), changed=None, at=at)
    answer = json.loads((await raw(kubectl, path))[1])
    port, = answer["nodes"][0]["ports"]
    assert port == {"namespace": "default", "service": "web", "portName": "http", "port": 80,
                    "programmedAt": datetime.datetime.fromtimestamp(at, datetime.timezone.utc)
                    .strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    # What the dashboard reads back is cox trace's message, to the microsecond.
    assert abs(proxyrules.from_json(answer).nodes[0].ports[0].programmed_at - at) < 1e-6

    code, _, err = await raw(kubectl, "/api/v1/namespaces/default/pods/nobody/proxyrules")
    assert code != 0 and "(NotFound)" in err and '"nobody" not found' in err, err

    # Authorization is gRPC's: a node's identity never, a user with no role no, `view` yes.
    code, _, err = await raw(kubectl, path, f"--as=system:node:{NODE}", "--as-group=system:nodes")
    assert code != 0 and "(Forbidden)" in err and "proxyrules" in err, err
    code, _, err = await raw(kubectl, path, "--as=stranger")
    assert code != 0 and "(Forbidden)" in err, err
    code, _, err = await run(kubectl, "create", "rolebinding", "viewer", "--clusterrole=view", "--user=viewer",
                             "-n", "default")
    assert code == 0, err

    async def viewed():
        code, out, _ = await raw(kubectl, path, "--as=viewer")
        return out if code == 0 else None
    assert json.loads(await eventually(viewed, timeout=10, what="view's binding"))["nodes"][0]["ports"][0][
        "service"] == "web"

    code, _, err = await run(kubectl, "create", "--raw", path, "-f", "-", stdin=b"{}")
    assert code != 0 and b"(MethodNotAllowed)" in err, err

    listed = json.loads((await raw(kubectl, "/api/v1"))[1])
    entry = next(r for r in listed["resources"] if r["name"] == "pods/proxyrules")
    assert (entry["kind"], entry["verbs"], entry["namespaced"]) == ("PodProxyRules", ["get"], True)

