"""kubectl logs and exec against pods a real kubelet (on the session's private dockerd) runs."""
import asyncio

import pytest

from tests.kubelet.conftest import joined, kubelet_config, manifests, node_client  # noqa: F401  (fixtures)
from tests.kubelet.test_api_pods import api_status, pod
from tests.rest.conftest import MACHINE_KUBECTL, NEWER_KUBECTL, Kubectl

IMAGE = "coxswain-test/busybox:1"


async def run(kubectl: Kubectl, *args, stdin: bytes = b"", timeout: float = 60):
    proc = await asyncio.create_subprocess_exec(
        *kubectl.command(*args), env=kubectl.env(), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    return proc.returncode, out, err


@pytest.mark.parametrize("binary", [MACHINE_KUBECTL, NEWER_KUBECTL], ids=["machine", "newer"])
async def test_kubectl_logs_and_exec(joined, client, apiserver, tmp_path, binary):
    """Both kubectls: 1.32 and 1.37 speak the WebSocket exec protocol (v5.channel.k8s.io) first."""
    kubectl = Kubectl(apiserver.options.data_dir / "kubeconfig.yaml", tmp_path, binary)
    await client.resource("Pod").create(pod("talker", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "echo one; echo two; exec sleep 3600"]}]}))
    await api_status(client, "talker", lambda s: s.phase == "Running")

    assert await run(kubectl, "logs", "talker") == (0, b"one\ntwo\n", b"")
    assert await run(kubectl, "logs", "pod/talker", "--tail=1", "-c", "c") == (0, b"two\n", b"")
    code, out, err = await run(kubectl, "exec", "talker", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (code, out) == (3, b"out\n") and err.startswith(b"err\n")
    code, out, _ = await run(kubectl, "exec", "-i", "talker", "--", "tr", "a-z", "A-Z", stdin=b"piped\n")
    assert (code, out) == (0, b"PIPED\n")
    code, _, err = await run(kubectl, "logs", "nobody")
    assert code == 1 and b'pods "nobody" not found' in err
    code, _, err = await run(kubectl, "exec", "nobody", "--", "true")
    assert code == 1 and b'pods "nobody" not found' in err


async def test_kubectl_logs_follow_sees_new_lines(joined, client, apiserver, tmp_path):
    kubectl = Kubectl(apiserver.options.data_dir / "kubeconfig.yaml", tmp_path)
    await client.resource("Pod").create(pod("ticker", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "echo start; sleep 2; echo later; exec sleep 3600"]}]}))
    await api_status(client, "ticker", lambda s: s.phase == "Running")
    proc = await asyncio.create_subprocess_exec(*kubectl.command("logs", "-f", "ticker"), env=kubectl.env(),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert await asyncio.wait_for(proc.stdout.readline(), 20) == b"start\n"
        assert await asyncio.wait_for(proc.stdout.readline(), 20) == b"later\n"
    finally:
        proc.kill()
        await proc.wait()


async def test_kubectl_eviction_answers_429_while_a_budget_forbids_it(joined, client, apiserver, tmp_path):
    """pods/eviction as kubectl drain posts it: refused (429) while a PodDisruptionBudget selects the pod and
    allows nothing (here: no disruption controller runs, so the budget was never counted), done once not."""
    kubectl = Kubectl(apiserver.options.data_dir / "kubeconfig.yaml", tmp_path)
    await client.resource("Pod").create(pod("guarded", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "exec sleep 3600"]}]}))
    await api_status(client, "guarded", lambda s: s.phase == "Running")
    budgets = client.resource("PodDisruptionBudget")
    await budgets.create(budgets.kind.new(metadata={"name": "guard", "namespace": "default"},
                                          spec={"min_available": {"number_value": 1}, "selector": {}}))
    eviction = (b'{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "guarded"}, '
                b'"deleteOptions": {"gracePeriodSeconds": 0}}')
    path = "/api/v1/namespaces/default/pods/guarded/eviction"
    code, _, err = await run(kubectl, "create", "--raw", path, "-f", "-", stdin=eviction)
    assert code == 1 and b"disruption budget is still being processed" in err, err
    assert not (await client.resource("Pod").get("guarded")).metadata.HasField("deletion_timestamp")
    await budgets.delete("guard", namespace="default")
    code, _, err = await run(kubectl, "create", "--raw", path, "-f", "-", stdin=eviction)
    assert code == 0, err
