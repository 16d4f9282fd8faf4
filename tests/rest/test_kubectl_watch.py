"""`kubectl get -w` follows changes; a watch from a compacted revision gets 410 Expired."""
import asyncio
import json
import subprocess
import time

from controlplane.api.kinds import KINDS
from tests.rest.conftest import Kubectl
from tests.support.control_plane import admin_client, running_apiserver


def _config_map(name: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})


def _read_until(proc: subprocess.Popen, needle: str, timeout: float = 15) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not seen in: {''.join(seen)!r}")


def test_get_watch_prints_a_row_per_change(kubectl, namespace):
    kubectl("create", "-n", namespace, "-f", "-", stdin=_config_map("before"))
    watch = kubectl.popen("get", "cm", "-n", namespace, "-w")
    try:
        _read_until(watch, "before")
        kubectl("create", "-n", namespace, "-f", "-", stdin=_config_map("during"))
        assert "during" in _read_until(watch, "during")
    finally:
        watch.kill()
        watch.wait()


def test_get_watch_json_events_carry_the_object(kubectl, namespace):
    watch = kubectl.popen("get", "cm", "-n", namespace, "-w", "--output-watch-events", "-o", "json")
    try:
        time.sleep(1)
        kubectl("create", "-n", namespace, "-f", "-", stdin=_config_map("evented"))
        kubectl("delete", "cm", "evented", "-n", namespace)
        text = _read_until(watch, '"DELETED"')
        assert '"ADDED"' in text and '"evented"' in text
    finally:
        watch.kill()
        watch.wait()


def test_raw_watch_streams_json_lines_and_times_out(kubectl, namespace):
    kubectl("create", "-n", namespace, "-f", "-", stdin=_config_map("raw"))
    out = kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=1").stdout
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "raw")]


async def test_watch_from_a_revision_past_the_window_is_expired(tmp_path):
    """A server keeping 3 events per kind: a watch from before them gets ERROR 410 Expired."""
    async with running_apiserver(tmp_path / "data", watch_history=3) as apiserver:
        client = admin_client(apiserver)
        try:
            kind = KINDS["ConfigMap"]
            first = await client.resource("ConfigMap").create(kind.new(metadata={"name": "c0", "namespace": "default"}))
            for n in range(1, 6):
                await client.resource("ConfigMap").create(kind.new(metadata={"name": f"c{n}", "namespace": "default"}))
        finally:
            await client.close()
        kubectl = Kubectl(tmp_path / "data" / "kubeconfig.yaml", tmp_path)
        raw = f"/api/v1/configmaps?watch=1&resourceVersion={first.metadata.resource_version}&timeoutSeconds=2"
        proc = await asyncio.create_subprocess_exec(
            *kubectl.command("get", "--raw", raw),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=kubectl.env())
        out, err = await proc.communicate()
    event = json.loads(out.decode().splitlines()[0])
    assert event["type"] == "ERROR", err
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
