"""Issue 3's first demonstration, with real processes: `cox server`, `cox agent`, `cox apply -f`.

A two-container pod (one writes a file into a shared emptyDir, the other
serves it with busybox httpd on 8080) goes Running with a pod IP, and a wget
from inside the writer on localhost:8080, run through the API server's exec,
returns the file.
"""
import subprocess

import yaml

from tests.kubelet.test_logs_exec import exec_all
from tests.kubelet.test_static_pods import WEB_POD, running
from tests.support.control_plane import cox_command, cox_env
from tests.support.polling import eventually


async def test_apply_a_two_container_pod_and_fetch_the_file(server, agent, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                                        "spec": {"nodeName": "node1", **WEB_POD}}))
    applied = subprocess.run(cox_command("apply", "-f", str(manifest), "--config", str(server.config_path)),
                             env=cox_env(server.home), capture_output=True, text=True, timeout=60)
    assert applied.returncode == 0, applied.stderr

    async with server.client() as client:
        async def is_running():
            found = await client.resource("Pod").get("web", namespace="default")
            return found if running(found.status) else None
        found = await eventually(is_running, timeout=60, what="web Running with a pod IP")
        assert found.status.pod_ip

        out, _, code = await exec_all(await client.resource("Pod").exec(
            "web", ["wget", "-q", "-O", "-", "http://localhost:8080/index.html"], container="writer"))
        assert (out, code) == (b"hello from web\n", 0)

        # `cox server` runs the controllers, so the service account token admission mounted is there.
        out, _, code = await exec_all(await client.resource("Pod").exec(
            "web", ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"], container="server"))
        assert code == 0 and out.startswith(b"cox-sa:default:default-token:")

    listed = subprocess.run(cox_command("get", "pods", "--config", str(server.config_path)),
                            env=cox_env(server.home), capture_output=True, text=True, timeout=60)
    assert "web" in listed.stdout and "Running" in listed.stdout and "2/2" in listed.stdout, listed.stdout
