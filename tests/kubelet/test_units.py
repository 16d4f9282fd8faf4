"""The kubelet's pure pieces, without Docker: phase rules, back-off, env expansion, spec translation."""
from pathlib import Path

import pytest

from agent.kubelet import podspec, projection, static
from agent.kubelet.backoff import BackOff
from agent.kubelet.envvars import expand
from agent.kubelet.nodeinfo import parse_taint
from agent.kubelet.status import phase
from agent.runtime.types import Kind
from controlplane.api import convert, defaults
from controlplane.api.v1 import core_pb2


def state(kind: str, exit_code: int = 0, *, restarted: bool = False):
    status = core_pb2.ContainerStatus(name="c")
    if kind == "running":
        status.state.running.SetInParent()
    elif kind == "terminated":
        status.state.terminated.exit_code = exit_code
    else:
        status.state.waiting.reason = kind
    if restarted:
        status.last_state.terminated.exit_code = 1
    return status


@pytest.mark.parametrize("policy, init, app, expected", [
    ("Always", [], [state("running")], "Running"),
    ("Always", [], [state("ContainerCreating")], "Pending"),
    ("Always", [], [state("CrashLoopBackOff", restarted=True)], "Running"),
    ("Never", [], [state("terminated", 3)], "Failed"),
    ("Never", [], [state("terminated", 0), state("terminated", 0)], "Succeeded"),
    ("OnFailure", [], [state("terminated", 0)], "Succeeded"),
    ("OnFailure", [], [state("terminated", 1)], "Running"),
    ("Never", [], [state("running"), state("terminated", 1)], "Running"),
    ("Always", [state("running")], [state("PodInitializing")], "Pending"),
    ("Never", [state("terminated", 2)], [state("PodInitializing")], "Failed"),
    ("OnFailure", [state("terminated", 2)], [state("PodInitializing")], "Pending"),
    ("Always", [state("terminated", 0)], [state("running")], "Running"),
])
def test_phase_follows_kubernetes(policy, init, app, expected):
    assert phase(policy, init, app) == expected


def test_back_off_retries_once_at_once_then_doubles_to_the_cap():
    backoff = BackOff(initial=10, maximum=40, reset_after=600)
    key = ("uid", "c")
    waits = [backoff.step(key, f"container{i}") for i in range(5)]
    assert waits == [0, 10, 20, 40, 40]
    assert backoff.step(key, "container4") == 40, "the same failure gets the same answer"
    assert backoff.step(key, "long-runner", ran_for=601) == 0, "a container that ran 10 min starts over"


def test_env_expansion():
    env = {"A": "1", "B": "two"}
    assert expand("$(A)-$(B)", env) == "1-two"
    assert expand("$$(A) $(MISSING) $A $", env) == "$(A) $(MISSING) $A $"
    assert expand("$(A", env) == "$(A"


def pod(spec: dict, **metadata):
    obj = convert.from_manifest({"apiVersion": "v1", "kind": "Pod",
                                 "metadata": {"name": "p", "namespace": "ns", "uid": "u1", **metadata},
                                 "spec": spec})
    defaults.apply_defaults(obj)
    return obj


def test_dns_config_by_policy():
    cluster = podspec.DnsSettings(nameservers=("198.19.128.10",), domain="cluster.local")
    first = podspec.dns_config(pod({"containers": [{"name": "c", "image": "i"}]}), cluster)
    assert first.nameservers == ("198.19.128.10",)
    assert first.searches == ("ns.svc.cluster.local", "svc.cluster.local", "cluster.local")
    assert first.options == ("ndots:5",)
    assert podspec.dns_config(pod({"containers": [{"name": "c", "image": "i"}]}), podspec.DnsSettings()) is None
    host = pod({"hostNetwork": True, "containers": [{"name": "c", "image": "i"}]})
    assert podspec.dns_config(host, cluster) is None
    none = pod({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.2.3.4"], "options": [{"name": "ndots",
                                                                                             "value": "2"}]},
                "containers": [{"name": "c", "image": "i"}]})
    assert podspec.dns_config(none, cluster).nameservers == ("1.2.3.4",)
    assert podspec.dns_config(none, cluster).options == ("ndots:2",)


def test_container_config_from_spec():
    p = pod({"volumes": [{"name": "v", "emptyDir": {}}], "terminationGracePeriodSeconds": 7,
             "containers": [{"name": "c", "image": "img:1", "command": ["sh", "-c"], "args": ["echo $(X)"],
                             "workingDir": "/w", "volumeMounts": [{"name": "v", "mountPath": "/m", "subPath": "s",
                                                                   "readOnly": True}],
                             "resources": {"limits": {"cpu": "1500m", "memory": "64Mi"},
                                           "requests": {"cpu": "250m"}}}]})
    config = podspec.container_config(p, p.spec.containers[0], kind=Kind.APP, attempt=2, env={"X": "x"},
                                      volume_paths={"v": "/var/lib/v"})
    assert config.command == ("sh", "-c") and config.args == ("echo x",)
    assert config.mounts[0].source == "/var/lib/v/s" and config.mounts[0].read_only
    assert (config.cpu_limit_millis, config.cpu_request_millis, config.memory_limit) == (1500, 250, 64 << 20)
    assert config.memory_request == 64 << 20, "requests default to limits"
    assert config.grace_seconds == 7 and config.attempt == 2 and config.working_dir == "/w"
    assert config.spec_hash == podspec.spec_hash(p.spec.containers[0])


def test_sandbox_publishes_host_ports():
    p = pod({"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "hostPort": 8080}]}]})
    sandbox = podspec.sandbox_config(p, attempt=1, dns=podspec.DnsSettings())
    assert [(m.container_port, m.host_port, m.protocol) for m in sandbox.ports] == [(80, 8080, "TCP")]
    assert sandbox.hostname == "p" and sandbox.attempt == 1


def test_static_manifests_are_named_per_node_and_broken_ones_skipped(tmp_path: Path):
    (tmp_path / "good.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
                                        "spec: {containers: [{name: c, image: 'i:1'}]}\n")
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {bogus: 1}\n")
    (tmp_path / ".hidden.yaml").write_text("not: read")
    pods = static.read_manifests(tmp_path, "n1")
    assert [p.metadata.name for p in pods.values()] == ["web-n1"]
    again = static.read_manifests(tmp_path, "n1")
    assert set(again) == set(pods), "the same file is the same pod (uid)"
    assert set(static.read_manifests(tmp_path, "n2")).isdisjoint(pods), "another node, another uid"


def test_projection_swaps_atomically(tmp_path: Path):
    target = tmp_path / "vol"
    assert projection.project(target, {"a": (b"1", 0o644), "d/b": (b"2", 0o600)})
    assert (target / "a").read_bytes() == b"1" and (target / "d" / "b").read_bytes() == b"2"
    assert not projection.project(target, {"a": (b"1", 0o644), "d/b": (b"2", 0o600)}), "unchanged: no write"
    assert projection.project(target, {"a": (b"3", 0o644)})
    assert (target / "a").read_bytes() == b"3" and not (target / "d").exists()
    assert len([p for p in target.iterdir() if p.is_dir() and not p.is_symlink()]) == 1, "old data removed"


def test_taints_from_the_command_line():
    assert parse_taint("dedicated=gpu:NoSchedule") == {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    assert parse_taint("maintenance:NoExecute") == {"key": "maintenance", "value": "", "effect": "NoExecute"}
    with pytest.raises(ValueError):
        parse_taint("nokey=1:Sometimes")
