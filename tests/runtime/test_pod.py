"""A pod on the real Docker Engine: one sandbox, containers sharing its network and a volume."""
import ipaddress

from agent.runtime import Runtime, labels
from agent.runtime.types import ContainerConfig, DnsConfig, Kind, Mount, SandboxConfig, State
from tests.runtime.helpers import run_sandbox
from tests.support.polling import eventually


async def start_web_pod(runtime, pod, image, shared_dir):
    """Writer puts index.html into the shared dir; server serves that dir on :8080."""
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod, hostname=pod.name))
    mount = Mount(source=str(shared_dir), target="/data")
    writer = ContainerConfig(pod=pod, name="writer", image=image, mounts=(mount,),
                             command=("sh", "-c", "echo hello from $POD > /data/index.html; exec sleep 1000"),
                             env=(("POD", pod.name),), spec_hash="w1")
    server = ContainerConfig(pod=pod, name="server", image=image, mounts=(mount,),
                             command=("httpd", "-f", "-p", "8080", "-h", "/data"), spec_hash="s1")
    ids = {}
    for config in (writer, server):
        ids[config.name] = await runtime.containers.create(config, sandbox_id=sandbox_id)
        await runtime.containers.start(ids[config.name])
    return sandbox_id, ids


async def test_containers_share_network_namespace_and_volume(runtime, pod, image, tmp_path, dockerd):
    sandbox_id, ids = await start_web_pod(runtime, pod, image, tmp_path)

    sandbox = await runtime.containers.inspect(sandbox_id)
    assert sandbox.kind is Kind.SANDBOX and sandbox.state is State.RUNNING
    assert ipaddress.ip_address(sandbox.ip) in dockerd.subnet

    async def fetched():
        result = await runtime.streams.exec(ids["writer"], ["wget", "-q", "-O", "-", "http://localhost:8080/index.html"],
                                            timeout=5)
        return result.output if result.exit_code == 0 else None

    body = await eventually(fetched, what="httpd answering on the pod's localhost")
    assert body == f"hello from {pod.name}\n".encode()
    assert (tmp_path / "index.html").read_text() == f"hello from {pod.name}\n"

    hostname = await runtime.streams.exec(ids["server"], ["hostname"], timeout=5)
    assert hostname.output.decode().strip() == pod.name


async def test_labels_identify_every_container_and_allow_adoption(runtime, pod, image, tmp_path, api, dockerd):
    sandbox_id, ids = await start_web_pod(runtime, pod, image, tmp_path)
    stranger = api.create_container(image, ["sleep", "1000"], labels={"app": "not-ours"})
    api.start(stranger)
    try:
        # A kubelet that just restarted knows nothing but the daemon: a new connection.
        adopter = await Runtime.connect(dockerd.base_url)
        try:
            found = await adopter.containers.list()
            mine = await adopter.containers.list(pod_uid=pod.uid)
        finally:
            adopter.close()
    finally:
        api.remove_container(stranger, force=True)

    assert stranger["Id"] not in {c.id for c in found}
    assert {c.id for c in mine} == {sandbox_id, *ids.values()}
    by_name = {c.name: c for c in mine}
    assert by_name[labels.SANDBOX_NAME].kind is Kind.SANDBOX
    assert by_name["writer"].kind is Kind.APP and by_name["server"].kind is Kind.APP
    assert all(c.pod == pod and c.attempt == 0 and c.state is State.RUNNING for c in mine)

    status = await runtime.containers.inspect(ids["server"])
    assert status.spec_hash == "s1" and status.grace_seconds == 30 and status.started_at is not None
    raw = api.inspect_container(ids["server"])
    assert raw["HostConfig"]["NetworkMode"] == f"container:{sandbox_id}"
    assert raw["Name"] == f"/cox_server_{pod.name}_default_{pod.uid}_0"


async def test_resources_become_cgroup_limits(runtime, pod, image):
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod))
    config = ContainerConfig(pod=pod, name="limited", image=image, command=("sleep", "1000"),
                             cpu_limit_millis=500, cpu_request_millis=250,
                             memory_limit=64 << 20, memory_request=32 << 20)
    container_id = await runtime.containers.create(config, sandbox_id=sandbox_id)
    host = (await runtime.engine.call(runtime.engine.api.inspect_container, container_id))["HostConfig"]
    assert host["NanoCpus"] == 500_000_000
    assert host["CpuShares"] == 256
    assert host["Memory"] == 64 << 20 and host["MemorySwap"] == 64 << 20
    assert host["MemoryReservation"] == 32 << 20


async def test_host_network_sandbox_has_no_pod_ip(runtime, pod):
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod, host_network=True))
    status = await runtime.containers.inspect(sandbox_id)
    assert status.host_network and status.ip == ""


async def test_a_sandbox_resolv_conf_is_rewritten_in_place_for_its_containers(runtime, pod, image):
    """From the path its inspect after start gave, before the app container (which bind-mounts it) starts."""
    dns = DnsConfig(nameservers=("192.0.2.53",), searches=("default.svc.cluster.local",), options=("ndots:5",))
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod, dns=dns))
    await runtime.sandboxes.write_resolv_conf(await runtime.containers.inspect(sandbox_id), dns)
    app = await runtime.containers.create(ContainerConfig(pod=pod, name="app", image=image, spec_hash="a1",
                                                          command=("sleep", "1000")), sandbox_id=sandbox_id)
    await runtime.containers.start(app)
    result = await runtime.streams.exec(app, ["cat", "/etc/resolv.conf"], timeout=5)
    assert result.output.decode().splitlines() == [
        "nameserver 192.0.2.53", "search default.svc.cluster.local", "options ndots:5"]
