"""`cox logs` and `cox exec` as a user runs them: the command line, stdin, exit codes."""
import asyncio

from controlplane.api import convert
from controlplane.client import ClientConfig
from tests.kubelet.test_api_pods import api_status, pod
from tests.support.control_plane import cox_command, cox_env

IMAGE = "coxswain-test/busybox:1"


async def cox(config, home, *args, stdin: bytes = b""):
    proc = await asyncio.create_subprocess_exec(
        *cox_command(args[0], "--config", str(config), *args[1:]), env=cox_env(home), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    return proc.returncode, out, err


async def test_cox_logs_and_exec(joined, client, apiserver, tmp_path):
    config = tmp_path / "admin.yaml"
    ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(),
                 token=apiserver.credentials.admin_token).write(config)
    await client.resource("Pod").create(pod("talker", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "echo one; echo two; exec sleep 3600"]}]}))
    await api_status(client, "talker", lambda s: s.phase == "Running")

    assert await cox(config, tmp_path, "logs", "talker") == (0, b"one\ntwo\n", b"")
    assert await cox(config, tmp_path, "logs", "pod/talker", "--tail", "1") == (0, b"two\n", b"")
    code, out, err = await cox(config, tmp_path, "exec", "talker", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (code, out, err) == (3, b"out\n", b"err\n")
    code, out, _ = await cox(config, tmp_path, "exec", "-i", "talker", "--", "tr", "a-z", "A-Z", stdin=b"piped\n")
    assert (code, out) == (0, b"PIPED\n")
    code, _, err = await cox(config, tmp_path, "logs", "nobody")
    assert code == 1 and err == b'error: pods "nobody" not found\n'


async def test_cox_logs_exec_and_cp_through_a_workload(joined, client, apiserver, tmp_path):
    """`logs deploy/x` and `exec deploy/x` pick one of the Deployment's pods (no controller runs here: the
    Deployment only selects the pods the test made); `logs -l` reads every selected pod; cp goes both ways."""
    config = tmp_path / "admin.yaml"
    ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(),
                 token=apiserver.credentials.admin_token).write(config)
    for name in ("w1", "w2"):
        await client.resource("Pod").create(pod(name, {"containers": [{
            "name": "c", "image": IMAGE, "command": ["sh", "-c", f"echo I am {name}; exec sleep 3600"]}]},
            labels={"app": "w"}))
    await client.resource("Deployment").create(convert.from_manifest({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "w"}}, "template": {
            "metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "c", "image": IMAGE}]}}}}))
    for name in ("w1", "w2"):
        await api_status(client, name, lambda s: s.phase == "Running")

    code, out, err = await cox(config, tmp_path, "logs", "deploy/w")
    assert code == 0 and out in (b"I am w1\n", b"I am w2\n") and err.startswith(b"Found 2 pods, using pod/w")
    code, out, _ = await cox(config, tmp_path, "exec", "deployment/w", "--", "sh", "-c", "exit 4")
    assert code == 4
    code, out, _ = await cox(config, tmp_path, "logs", "-l", "app=w", "--prefix", "--since=1h")
    assert (code, out) == (0, b"[pod/w1/c] I am w1\n[pod/w2/c] I am w2\n")
    code, _, err = await cox(config, tmp_path, "logs", "job/none")
    assert (code, err) == (1, b'error: jobs "none" not found\n')

    local = tmp_path / "to-pod"
    (local / "sub").mkdir(parents=True)
    (local / "sub" / "f.txt").write_text("hello pod\n")
    assert (await cox(config, tmp_path, "cp", str(local), "w1:/tmp/copied"))[0] == 0
    code, out, _ = await cox(config, tmp_path, "exec", "w1", "--", "cat", "/tmp/copied/sub/f.txt")
    assert (code, out) == (0, b"hello pod\n")
    assert (await cox(config, tmp_path, "cp", "default/w1:/tmp/copied/sub/f.txt", str(tmp_path / "back.txt")))[0] == 0
    assert (tmp_path / "back.txt").read_text() == "hello pod\n"
    code, _, err = await cox(config, tmp_path, "cp", "w1:/no/such", str(tmp_path / "x"))
    assert code == 1 and b"exited 1" in err


async def test_cox_port_forward_reaches_a_port_bound_to_the_pods_loopback(joined, client, apiserver, tmp_path):
    """A web server listening on the pod's 127.0.0.1 only, reached from this host's loopback through
    `cox port-forward` (one `nc` exec in the container per connection)."""
    config = tmp_path / "admin.yaml"
    ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(),
                 token=apiserver.credentials.admin_token).write(config)
    await client.resource("Pod").create(pod("web", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "mkdir /www && echo hello through nc > /www/index.html"
                                                 " && exec httpd -f -p 127.0.0.1:8080 -h /www"]}]}))
    await api_status(client, "web", lambda s: s.phase == "Running")
    forward = await asyncio.create_subprocess_exec(
        *cox_command("port-forward", "--config", str(config), "pod/web", ":8080"), env=cox_env(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(forward.stdout.readline(), 30)).decode()
        assert line.startswith("Forwarding from 127.0.0.1:") and line.endswith(" -> 8080\n"), line
        port = int(line.split(":")[1].split()[0])
        for _ in range(2):  # each connection is its own exec
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            await writer.drain()
            reply = await asyncio.wait_for(reader.read(), 30)
            writer.close()
            assert reply.startswith(b"HTTP/1.") and reply.endswith(b"hello through nc\n"), reply
    finally:
        forward.terminate()
        await forward.wait()
