"""kubectl port-forward (SPDY/3.1 in WebSocket, kubectl 1.31+) and kubectl attach, to pods a real kubelet runs.

The pod's server listens on its own loopback only: reaching it proves the
agent connects from inside the pod's network namespace, as kubelet does.
"""
import asyncio
import urllib.request

import pytest

from controlplane.apiserver.rest import spdy
from tests.kubelet.conftest import joined, kubelet_config, manifests, node_client  # noqa: F401  (fixtures)
from tests.kubelet.test_api_pods import api_status, pod
from tests.rest.conftest import MACHINE_KUBECTL, NEWER_KUBECTL, Kubectl
from tests.rest.test_kubectl_pods import IMAGE, run
from tests.support.ports import free_port

SERVER = "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 127.0.0.1:80 -h /www"


def _fetch(port: int, path: str = "/index.html") -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return answer.read()


async def _forwarding(kubectl: Kubectl, *args: str) -> tuple[asyncio.subprocess.Process, int]:
    local = free_port()
    proc = await asyncio.create_subprocess_exec(
        *kubectl.command("port-forward", *args[:-1], f"{local}:{args[-1]}"), env=kubectl.env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line.startswith(b"Forwarding from 127.0.0.1:"), (line, await proc.stderr.read(2000))
    return proc, local


@pytest.mark.parametrize("binary", [MACHINE_KUBECTL, NEWER_KUBECTL], ids=["machine", "newer"])
async def test_kubectl_port_forward_reaches_the_pods_loopback(joined, client, apiserver, tmp_path, binary):
    kubectl = Kubectl(apiserver.options.data_dir / "kubeconfig.yaml", tmp_path, binary)
    await client.resource("Pod").create(pod("web", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", SERVER]}]}))
    await api_status(client, "web", lambda s: s.phase == "Running")
    proc, local = await _forwarding(kubectl, "pod/web", "80")
    try:
        for _ in range(3):   # one SPDY connection, a pair of streams per TCP connection
            assert await asyncio.to_thread(_fetch, local) == b"hello-from-pod\n"
        big = await asyncio.to_thread(_fetch, local, "/missing")
    except urllib.error.HTTPError as e:
        big = e.code
    finally:
        proc.terminate()
        await proc.wait()
    assert big == 404
    if binary == MACHINE_KUBECTL:   # authorized before the upgrade: reading the pod is not enough
        # (asyncio subprocesses: the API server runs in this test's event loop)
        assert (await run(kubectl, "create", "role", "pod-reader", "--verb=get,list", "--resource=pods"))[0] == 0
        assert (await run(kubectl, "create", "rolebinding", "eve-reads", "--role=pod-reader", "--user=eve"))[0] == 0
        code, _, err = await run(kubectl, "port-forward", "--as=eve", "pod/web", f"{free_port()}:80", timeout=30)
        assert code == 1 and b"eve" in err and b'cannot portforward resource' in err, err


async def test_a_closed_port_is_reported_by_kubectl(joined, client, apiserver, tmp_path):
    """The agent's refusal comes back on the error stream; kubectl prints it and, as against Kubernetes,
    ends (\"lost connection to pod\")."""
    kubectl = Kubectl(apiserver.options.data_dir / "kubeconfig.yaml", tmp_path)
    await client.resource("Pod").create(pod("quiet", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", SERVER]}]}))
    await api_status(client, "quiet", lambda s: s.phase == "Running")
    proc, local = await _forwarding(kubectl, "quiet", "81")
    try:
        with pytest.raises(OSError):
            await asyncio.to_thread(_fetch, local)
        errors = await asyncio.wait_for(proc.stderr.read(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert b"connecting to port 81" in errors and b"refused" in errors.lower(), errors


def test_spdy_header_blocks_share_one_compression_context_each_way():
    """Frames split anywhere are read whole, and header blocks decompress in the order they were written."""
    writer, reader = spdy.Writer(), spdy.Reader()
    wire = writer.syn_reply(1, {"port": "80"}) + spdy.data(1, b"abc", fin=True) + writer.syn_reply(3, {"x": "y"})
    frames = [f for i in range(0, len(wire), 5) for f in reader.feed(wire[i:i + 5])]
    assert [type(f) for f in frames] == [spdy.Control, spdy.Data, spdy.Control]
    assert reader.headers(spdy.header_block(frames[0])) == {"port": "80"}
    assert (frames[1].stream_id, frames[1].data, frames[1].flags) == (1, b"abc", spdy.FLAG_FIN)
    assert reader.headers(spdy.header_block(frames[2])) == {"x": "y"}
    with pytest.raises(spdy.ProtocolError):
        spdy.Reader().feed(b"\x80\x02\x00\x01\x00\x00\x00\x00")   # SPDY/2


def test_port_forward_is_its_own_rbac_right(kubectl, namespace):
    kubectl("create", "role", "forwarder", "--verb=create", "--resource=pods/portforward", "-n", namespace)
    kubectl("create", "rolebinding", "frank", "--role=forwarder", "--user=frank", "-n", namespace)
    assert kubectl("auth", "can-i", "create", "pods", "--subresource=portforward", "-n", namespace,
                   "--as=frank").stdout == "yes\n"
    assert kubectl("auth", "can-i", "create", "pods", "--subresource=exec", "-n", namespace, "--as=frank",
                   ok=False).stdout.startswith("no")


@pytest.mark.parametrize("binary", [MACHINE_KUBECTL, NEWER_KUBECTL], ids=["machine", "newer"])
async def test_kubectl_attach_reaches_the_containers_own_process(joined, client, apiserver, tmp_path, binary):
    """kubectl attach -i: stdin to the container's main process (spec stdin: true), its output back; the
    attach ends when the process does."""
    kubectl = Kubectl(apiserver.options.data_dir / "kubeconfig.yaml", tmp_path, binary)
    await client.resource("Pod").create(pod("reader", {"restartPolicy": "Never", "containers": [{
        "name": "c", "image": IMAGE, "stdin": True,
        "command": ["sh", "-c", "echo ready; read line; echo \"got $line\"; exit 3"]}]}))
    await api_status(client, "reader", lambda s: s.phase == "Running")
    proc = await asyncio.create_subprocess_exec(
        *kubectl.command("attach", "-i", "reader", "-c", "c"), env=kubectl.env(), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await asyncio.sleep(2)   # attached before the line is written (attach sees input from then on)
        proc.stdin.write(b"hello\n")
        await proc.stdin.drain()
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert b"got hello\n" in out, (out, err)
    assert proc.returncode == 0
