"""Our Docker Engine API client (agent/runtime/dockerapi.py) against the session's real dockerd."""
import base64
import contextlib
import http.server
import io
import socket
import tarfile
import threading
import time
import uuid

import pytest

from agent.runtime import labels
from agent.runtime.dockerapi import MAXIMUM_VERSION, DockerAPI
from agent.runtime.dockerhttp import DockerError, DockerUnreachable
from agent.runtime.dockerstream import STDERR, STDOUT, split_frames
from agent.runtime.errors import EngineUnavailable, NotFound, RuntimeFailure, translate
from tests.support.dockerd import PrivateDockerd


@pytest.fixture
def client(dockerd):
    with DockerAPI(dockerd.base_url, timeout=30) as api:
        yield api


@pytest.fixture
def run(client, api, image):
    """Start a labelled busybox container running `script`; removed after the test."""
    made = []

    def start(script: str, **config) -> str:
        body = {"Image": image, "Cmd": ["sh", "-c", script], "Labels": {labels.MANAGED_BY: labels.MANAGER},
                "HostConfig": {"NetworkMode": "none"}, **config}
        container_id = client.create_container(body, name=f"dockerapi-{uuid.uuid4().hex[:8]}")["Id"]
        made.append(container_id)
        client.start(container_id)
        return container_id

    yield start
    for container_id in made:
        with contextlib.suppress(Exception):
            api.remove_container(container_id, force=True)


def read_all(sock: socket.socket) -> bytes:
    sock.settimeout(20)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return data


def test_the_api_version_is_the_daemons_capped_to_ours(client, api):
    daemon = api.version(api_version=False)["ApiVersion"]
    major, minor = (int(part) for part in daemon.split("."))
    assert client.api_version() == "%d.%d" % min((major, minor), MAXIMUM_VERSION)
    assert client.version()["Version"] == api.version()["Version"]


def test_a_container_from_create_to_remove(client, run):
    container_id = run("sleep 1000", Env=["A=1"], WorkingDir="/tmp")
    client.start(container_id)   # already running: Docker answers 304, which is no error
    inspected = client.inspect_container(container_id)
    assert inspected["State"]["Running"] and inspected["Config"]["Env"][0] == "A=1"
    listed = client.containers(all=True, filters={"label": [f"{labels.MANAGED_BY}={labels.MANAGER}"],
                                                  "id": container_id})
    assert [row["Id"] for row in listed] == [container_id]
    sample = client.stats(container_id)
    assert sample["memory_stats"]["usage"] > 0 and sample["cpu_stats"]["cpu_usage"]["total_usage"] > 0
    client.kill(container_id, signal="SIGKILL")
    assert not client.inspect_container(container_id)["State"]["Running"]
    client.stop(container_id, timeout=1)   # stopped already: 304 again
    client.remove_container(container_id, force=True, v=True)
    with pytest.raises(DockerError) as gone:
        client.inspect_container(container_id)
    assert gone.value.status == 404 and container_id in gone.value.message


def test_docker_errors_become_runtime_errors_with_dockers_message(client, run):
    with pytest.raises(NotFound, match="No such container: nothing-here"):
        translate(client.inspect_container, "nothing-here")
    with pytest.raises(NotFound, match="No such image"):
        translate(client.inspect_image, "no/such-image:1")
    container_id = run("exit 0")
    inspected = client.inspect_container(container_id)
    with pytest.raises(DockerError) as conflict:   # 409: the name is taken
        client.create_container({"Image": inspected["Image"]}, name=inspected["Name"].lstrip("/"))
    assert conflict.value.status == 409
    with pytest.raises(RuntimeFailure, match="Conflict") as conflict:
        translate(client.create_container, {"Image": inspected["Image"]}, name=inspected["Name"].lstrip("/"))
    assert not isinstance(conflict.value, NotFound)
    client_wait(client, container_id)
    with pytest.raises(RuntimeFailure, match="is not running"):
        translate(client.kill, container_id)


def test_a_missing_or_vanished_daemon_is_engine_unavailable_not_a_traceback(tmp_path):
    with DockerAPI(f"unix://{tmp_path}/no.sock") as missing:
        with pytest.raises(DockerUnreachable):
            missing.inspect_container("any")
        with pytest.raises(EngineUnavailable, match="no.sock"):
            translate(missing.version)
    with DockerAPI("tcp://127.0.0.1:1") as refused, pytest.raises(EngineUnavailable, match="refused"):
        translate(refused.version)
    with PrivateDockerd(prefix="coxgone") as daemon, DockerAPI(daemon.base_url, timeout=10) as client:
        assert client.version()["Version"]   # a kept-alive connection now
        daemon.stop()
        with pytest.raises(EngineUnavailable):
            translate(client.version)


def test_each_thread_keeps_one_connection(client):
    def connection():
        client.version()
        return client._http._local.conn.sock

    first = connection()
    assert connection() is first and first is not None
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(connection()))
    thread.start()
    thread.join()
    assert elsewhere[0] is not first


def test_logs_of_a_container_without_tty_are_demultiplexed(client, run):
    container_id = run("echo one; sleep 0.1; echo two >&2; sleep 0.1; printf 'three'")
    client_wait(client, container_id)
    with client.logs(container_id) as stream:
        assert list(stream) == [b"one\n", b"two\n", b"three"]   # one frame per write, headers gone
    with client.logs(container_id, tail=1, timestamps=True) as stream:
        assert b"".join(stream).endswith(b" three")


def test_logs_of_a_tty_container_are_raw(client, run):
    container_id = run("echo hello; echo oops >&2", Tty=True)
    client_wait(client, container_id)
    with client.logs(container_id) as stream:
        assert b"".join(stream) == b"hello\r\noops\r\n"   # one stream: the terminal's own line endings


def test_following_logs_ends_when_closed_from_another_thread(client, run):
    container_id = run("echo first; sleep 1000")
    stream = client.logs(container_id, follow=True)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(stream))
    reader.start()
    deadline = time.monotonic() + 20
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    stream.close()
    reader.join(5)
    assert seen == [b"first\n"] and not reader.is_alive()


def test_exec_through_the_hijacked_socket(client, run):
    container_id = run("sleep 1000")
    exec_id = client.exec_create(container_id, ["sh", "-c", "cat; echo err >&2; exit 3"], stdin=True)["Id"]
    sock = client.exec_start(exec_id)
    sock.sendall(b"to stdin and back\n")
    sock.shutdown(socket.SHUT_WR)
    frames, rest = split_frames(read_all(sock))
    assert rest == b"" and frames == [(STDOUT, b"to stdin and back\n"), (STDERR, b"err\n")]
    deadline = time.monotonic() + 10
    while (info := client.exec_inspect(exec_id))["Running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert info["ExitCode"] == 3


def test_a_tty_exec_is_raw_and_resizable(client, run):
    container_id = run("sleep 1000")
    exec_id = client.exec_create(container_id, ["sh", "-c", "sleep 0.5; stty size"], tty=True)["Id"]
    sock = client.exec_start(exec_id, tty=True)
    client.exec_resize(exec_id, height=33, width=111)
    assert read_all(sock) == b"33 111\r\n"


def test_attach_socket_carries_stdin_and_output(client, run):
    container_id = run("read line; echo got $line", OpenStdin=True)
    sock = client.attach_socket(container_id, stdin=True)
    sock.sendall(b"hello\n")
    frames, _ = split_frames(read_all(sock))
    assert frames == [(STDOUT, b"got hello\n")]
    with pytest.raises(DockerError) as done:   # it exited: nothing to resize
        client.resize(container_id, height=10, width=10)
    assert done.value.status >= 400


def test_events_stream_as_they_happen(client, run):
    mark = uuid.uuid4().hex
    stream = client.events(filters={"type": "container", "label": [f"mark={mark}"], "event": ["start", "die"]})
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(stream))
    reader.start()
    container_id = run("exit 0", Labels={"mark": mark})
    deadline = time.monotonic() + 20
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stream.close()
    reader.join(5)
    assert [(e["Action"], e["id"]) for e in seen] == [("start", container_id), ("die", container_id)]
    assert not reader.is_alive()


def test_import_and_an_import_failing_after_docker_said_200(client):
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    tag = uuid.uuid4().hex[:8]
    client.import_image_from_data(tar.getvalue(), repository="coxswain-test/imported", tag=tag,
                                  changes=['CMD ["/hello.txt"]', 'ENV A=1'])
    config = client.inspect_image(f"coxswain-test/imported:{tag}")["Config"]
    assert config["Cmd"] == ["/hello.txt"] and config["Env"] == ["A=1"]
    with pytest.raises(DockerError, match="invalid|unexpected|archive|tar"):
        client.import_image_from_data(b"not a tar at all" * 100, repository="coxswain-test/broken", tag=tag)


class _Registry(http.server.BaseHTTPRequestHandler):
    """A registry that asks for Basic credentials, records them, then has no such image: enough to see
    the X-Registry-Auth credentials arrive where Docker sends them (no real registry is reachable)."""
    seen: list = []

    def do_GET(self):
        self.seen.append(self.headers.get("Authorization"))
        if not self.headers.get("Authorization"):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


def test_pull_sends_the_credentials_and_raises_dockers_error(client):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        repository = f"127.0.0.1:{server.server_address[1]}/nothing"
        with pytest.raises(DockerError) as failed:
            client.pull(repository, tag="1", auth_config={"username": "alice", "password": "s3cret",
                                                          "serveraddress": repository.split("/")[0]})
        assert failed.value.message
        assert f"Basic {base64.b64encode(b'alice:s3cret').decode()}" in _Registry.seen
    finally:
        server.shutdown()
        server.server_close()


def test_networks_create_inspect_remove(client):
    name = f"coxt-{uuid.uuid4().hex[:8]}"
    created = client.create_network(name, driver="bridge", options={"com.docker.network.bridge.name": name[:15]},
                                    labels={"purpose": "test"},
                                    ipam={"Driver": "default", "Config": [{"Subnet": "198.19.250.0/24",
                                                                           "Gateway": "198.19.250.1",
                                                                           "IPRange": "198.19.250.128/25"}]})
    try:
        network = client.inspect_network(name)
        assert network["Id"] == created["Id"] and network["Labels"] == {"purpose": "test"}
        assert network["IPAM"]["Config"] == [{"Subnet": "198.19.250.0/24", "Gateway": "198.19.250.1",
                                              "IPRange": "198.19.250.128/25"}]
    finally:
        client.remove_network(created["Id"])
    with pytest.raises(NotFound):
        translate(client.inspect_network, name)


def client_wait(client, container_id: str) -> None:
    deadline = time.monotonic() + 20
    while client.inspect_container(container_id)["State"]["Running"] and time.monotonic() < deadline:
        time.sleep(0.05)
