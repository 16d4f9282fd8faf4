"""Pod fields on the session's real dockerd, through a kubelet joined to a real API server: downwardAPI
volumes (refreshed when the labels change), hostAliases, shareProcessNamespace, fsGroup, and the
credentials an imagePullSecret gives a pull."""
import base64
import contextlib
import json
import os
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent.kubelet.ownership import set_ownership
from agent.kubelet.pullsecrets import for_image, split_image
from tests.kubelet.conftest import running_kubelet
from tests.kubelet.test_api_pods import api_status, pod
from tests.kubelet.test_config_and_volumes import manifest, run_and_read
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"


def sleeper(name: str = "c", **fields) -> dict:
    return {"name": name, "image": IMAGE, "command": ["sleep", "3600"], **fields}


@pytest.fixture
async def unhurried(kubelet_config, runtime, node_client, dockerd, tmp_path):
    """A joined kubelet that re-projects volumes only once an hour on its own: a downwardAPI file that
    changes within the test changed because the pod did."""
    config = replace(kubelet_config, node_ip=dockerd.gateway, heartbeat_seconds=1.0, volume_refresh_seconds=3600.0,
                     listen=f"{dockerd.gateway}:0")
    async with running_kubelet(config, runtime, node_client, dockerd.gateway, tmp_path) as k:
        yield k


async def exec_in(client, runtime, name: str, container: str, command: str) -> str:
    found = await client.resource("Pod").get(name, namespace="default")
    status = next(c for c in found.status.container_statuses if c.name == container)
    result = await runtime.streams.exec(status.container_id.removeprefix("docker://"), ["sh", "-c", command],
                                        timeout=10)
    assert result.exit_code == 0, result.output
    return result.output.decode()


async def test_downward_api_volume_follows_the_pods_labels(unhurried, client, runtime):
    spec = {"volumes": [{"name": "info", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
                {"path": "meta/name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o600},
                {"path": "tier", "fieldRef": {"fieldPath": "metadata.labels['tier']"}},
                {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory",
                                                     "divisor": "1Mi"}}]}}],
            "containers": [sleeper(volumeMounts=[{"name": "info", "mountPath": "/info"}],
                                   resources={"limits": {"memory": "32Mi"}})]}
    await client.resource("Pod").create(pod("described", spec, labels={"app": "web", "tier": "front"},
                                            annotations={"owner": "team-a"}))
    await api_status(client, "described", lambda s: s.phase == "Running", what="described Running")
    out = await exec_in(client, runtime, "described", "c",
                        "cat /info/labels; echo; cat /info/annotations; echo; cat /info/meta/name; echo; "
                        "cat /info/tier; echo; cat /info/mem; echo; stat -c %a /info/..data/meta/name")
    assert out.splitlines() == ['app="web"', 'tier="front"', 'owner="team-a"', "described", "front", "32", "600"]

    current = await client.resource("Pod").get("described", namespace="default")
    current.metadata.labels["tier"] = "back"
    await client.resource("Pod").update(current)

    async def refreshed():
        return await exec_in(client, runtime, "described", "c", "cat /info/tier; echo; cat /info/labels")
    text = await eventually(lambda: _when(refreshed, lambda t: t.startswith("back")), timeout=15,
                            what="the new label in the downwardAPI files")
    assert text.splitlines() == ["back", 'app="web"', 'tier="back"']


async def _when(probe, check):
    value = await probe()
    return value if check(value) else None


async def test_host_aliases_and_a_shared_process_namespace(joined, client, runtime):
    find_sleeper = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done | grep -c '^sleep 3601 '"
    spec = {"hostAliases": [{"ip": "198.18.7.7", "hostnames": ["db.internal", "db"]}],
            "shareProcessNamespace": True,
            "containers": [sleeper("looker"), {**sleeper("target"), "command": ["sleep", "3601"]}]}
    await client.resource("Pod").create(pod("shared", spec))
    await api_status(client, "shared", lambda s: s.phase == "Running", what="shared Running")
    hosts = await exec_in(client, runtime, "shared", "looker", "cat /etc/hosts")
    assert {"198.18.7.7 db.internal", "198.18.7.7 db"} <= {" ".join(line.split()) for line in hosts.splitlines()}
    assert (await exec_in(client, runtime, "shared", "looker", find_sleeper)).strip() == "1"
    pid_one = await exec_in(client, runtime, "shared", "looker", "tr '\\0' ' ' < /proc/1/cmdline")
    assert "sleep 3600" not in pid_one and "sleep 3601" not in pid_one   # PID 1 is the pause, not an app

    await client.resource("Pod").create(pod("on-host", {"hostNetwork": True, "containers": [sleeper("looker")],
                                                        "hostAliases": spec["hostAliases"]}))
    await api_status(client, "on-host", lambda s: s.phase == "Running", what="on-host Running")
    hosts = await exec_in(client, runtime, "on-host", "looker", "cat /etc/hosts")
    assert "198.18.7.7 db.internal" in {" ".join(line.split()) for line in hosts.splitlines()}

    await client.resource("Pod").create(pod("apart", {"containers": [sleeper("looker"), {
        **sleeper("target"), "command": ["sleep", "3601"]}]}))
    await api_status(client, "apart", lambda s: s.phase == "Running", what="apart Running")
    assert (await exec_in(client, runtime, "apart", "looker", find_sleeper + " || true")).strip() == "0"


async def test_fs_group_owns_the_volumes_and_joins_the_processes(joined, client, runtime):
    await client.resource("ConfigMap").create(manifest("ConfigMap", "settings", data={"k": "v"}))
    spec = {"securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000,
                                "supplementalGroups": [4000]},
            "volumes": [{"name": "scratch", "emptyDir": {}},
                        {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 0o400}}],
            "containers": [sleeper(volumeMounts=[{"name": "scratch", "mountPath": "/scratch"},
                                                 {"name": "cfg", "mountPath": "/cfg"}])]}
    out = await run_and_read(client, runtime, "grouped", spec,
                             "id -u; id -g; id -G | tr ' ' '\\n' | sort -n | tr '\\n' ' '; echo; "
                             "mkdir /scratch/sub && touch /scratch/sub/made && stat -c '%u %g' /scratch/sub/made; "
                             "stat -c '%g %a' /cfg/..data/k; cat /cfg/k")
    assert out.splitlines() == ["1000", "3000", "2000 3000 4000 ", "1000 2000", "2000 440", "v"]


async def test_without_fs_group_a_non_root_user_still_writes_an_empty_dir(joined, client, runtime):
    spec = {"securityContext": {"runAsUser": 1000},
            "volumes": [{"name": "scratch", "emptyDir": {}}],
            "containers": [sleeper(volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}])]}
    out = await run_and_read(client, runtime, "plain", spec, "touch /scratch/f && stat -c '%u %g' /scratch/f")
    assert out.split() == ["1000", "0"]


def test_on_root_mismatch_skips_a_volume_whose_root_already_matches(tmp_path):
    root = tmp_path / "vol"
    (root / "deep").mkdir(parents=True)
    (root / "deep" / "file").write_text("x")
    set_ownership(root, 2000, policy="OnRootMismatch")   # the root does not match: walked
    assert (root / "deep" / "file").stat().st_gid == 2000 and (root / "deep").stat().st_mode & 0o2000
    os.chown(root / "deep" / "file", -1, 0)
    set_ownership(root, 2000, policy="OnRootMismatch")   # the root matches: left alone
    assert (root / "deep" / "file").stat().st_gid == 0
    set_ownership(root, 2000)                              # Always: walked again
    assert (root / "deep" / "file").stat().st_gid == 2000
    assert (root / "deep" / "file").stat().st_mode & 0o777 == 0o664


# ---------------------------------------------------------------- imagePullSecrets

class FakeRegistry:
    """A TEST DOUBLE of an image registry on loopback. Why: no registry is reachable from tests and there
    is no registry image to run; what is under test is which credentials the real dockerd presents when
    the kubelet pulls (Docker treats 127.0.0.0/8 as an insecure registry, so plain HTTP does). It asks for
    Basic auth, accepts `accepted` (user, password), and has no images: every pull fails after the login."""

    def __init__(self, accepted: tuple[str, str]) -> None:
        self.seen: list[str] = []   # the user of every Authorization header, in order
        accepted_header = "Basic " + base64.b64encode(":".join(accepted).encode()).decode()
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    registry.seen.append(base64.b64decode(header[6:]).decode().partition(":")[0])
                if header != accepted_header:
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "login"}]},
                                challenge='Basic realm="cox-test"')
                elif self.path.rstrip("/") == "/v2":
                    self._reply(200, {})
                else:
                    self._reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "no such image"}]})

            do_HEAD = do_GET

            def _reply(self, code, body, challenge=""):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                if challenge:
                    self.send_header("WWW-Authenticate", challenge)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    @contextlib.contextmanager
    def running(self):
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join()


def docker_config_secret(name: str, auths: dict[str, tuple[str, str]], *, legacy: bool = False):
    entries = {key: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
               for key, (user, password) in auths.items()}
    kind, key, body = ("kubernetes.io/dockercfg", ".dockercfg", entries) if legacy else \
        ("kubernetes.io/dockerconfigjson", ".dockerconfigjson", {"auths": entries})
    return manifest("Secret", name, type=kind, data={key: base64.b64encode(json.dumps(body).encode()).decode()})


async def test_a_pull_presents_the_matching_pull_secrets_most_specific_first(joined, client):
    with FakeRegistry(("alice", "right")).running() as registry:
        host = registry.address
        await client.resource("Secret").create(docker_config_secret("team", {f"http://{host}/team": ("alice", "right")}))
        await client.resource("Secret").create(docker_config_secret("whole", {host: ("bob", "wrong")}, legacy=True))
        await client.resource("Secret").create(docker_config_secret("others", {
            f"{host}/elsewhere": ("mallory", "x"), "registry.example": ("eve", "y")}))
        await client.resource("Secret").create(manifest("Secret", "opaque", data={"k": "dg=="}))
        spec = {"imagePullSecrets": [{"name": "whole"}, {"name": "others"}, {"name": "opaque"}, {"name": "absent"},
                                     {"name": "team"}],
                "containers": [{"name": "c", "image": f"{host}/team/app:1"}]}
        await client.resource("Pod").create(pod("private", spec))
        found = await api_status(client, "private", lambda s: any(
            c.state.waiting.reason in ("ErrImagePull", "ImagePullBackOff") for c in s.container_statuses),
            timeout=60, what="the pull to fail after the login")
    # alice (the key naming the repository's path) first, then bob (the whole registry); never mallory or eve
    assert list(dict.fromkeys(registry.seen)) == ["alice", "bob"], registry.seen
    waiting = found.status.container_statuses[0].state.waiting
    assert waiting.reason == "ImagePullBackOff" or "unauthorized" in waiting.message   # bob's, the last tried


async def test_the_nodes_own_credentials_come_after_the_pods(joined, client):
    """A `docker login` on the node (here: a config.json in the agent's root directory) lets a pod pull
    without pull secrets, and is tried after the pod's own, as Kubernetes' keyring does."""
    with FakeRegistry(("carol", "node")).running() as registry:
        host = registry.address
        keyring = joined.config.root_dir / "config.json"
        keyring.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(b"carol:node").decode()}}}))
        await client.resource("Secret").create(docker_config_secret("mine", {host: ("alice", "wrong")}))
        await client.resource("Pod").create(pod("both", {"imagePullSecrets": [{"name": "mine"}],
                                                         "containers": [{"name": "c", "image": f"{host}/app:1"}]}))
        await api_status(client, "both", lambda s: any(
            c.state.waiting.reason in ("ErrImagePull", "ImagePullBackOff") for c in s.container_statuses),
            timeout=60, what="the pull to fail after the login")
        assert list(dict.fromkeys(registry.seen)) == ["alice", "carol"], registry.seen
        registry.seen.clear()
        keyring.write_text("{not json")   # a broken file gives no credentials, and no error
        await client.resource("Pod").create(pod("none", {"containers": [{"name": "c", "image": f"{host}/app:2"}]}))
        await api_status(client, "none", lambda s: any(
            c.state.waiting.reason in ("ErrImagePull", "ImagePullBackOff") for c in s.container_statuses),
            timeout=60, what="the anonymous pull to fail")
        assert "carol" not in registry.seen, registry.seen   # nor in the first pod's retries


def test_registry_keys_match_as_the_kubelet_matches_them():
    assert split_image("nginx") == ("docker.io", "library/nginx")
    assert split_image("me/app:2") == ("docker.io", "me/app")
    assert split_image("localhost:5000/a/b@sha256:00") == ("localhost:5000", "a/b")
    hub = [("https://index.docker.io/v1/", {"username": "u", "password": "p"})]
    assert for_image(hub, "nginx:1") == ({"serveraddress": "docker.io", "username": "u", "password": "p"},)
    wildcard = [("*.example.com", {"auth": base64.b64encode(b"w:x").decode()})]
    assert for_image(wildcard, "r.example.com/app") and not for_image(wildcard, "a.r.example.com/app")
    assert not for_image([("example.com/team", {"username": "u"})], "example.com/teamster/app")
