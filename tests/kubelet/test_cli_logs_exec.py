"""`cox logs` and `cox exec` as a user runs them: the command line, stdin, exit codes."""
import asyncio

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
