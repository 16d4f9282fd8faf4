"""Controller manager benchmark: a 1,000-replica Deployment on 100 hollow nodes, a DaemonSet on
1,000 hollow nodes, or a 100-replica Parallel StatefulSet with a local-path claim per pod on 100
hollow nodes, from apply to all available.

    python bench/controllers_bench.py [--replicas 1000] [--nodes 100]
    python bench/controllers_bench.py --daemonset [--nodes 1000]
    python bench/controllers_bench.py --statefulset [--replicas 100] [--nodes 100]

Three processes, as deployed: `cox server` (the API server and the
scheduler; its own controller manager disabled), `cox controller-manager`
(measured: time and RSS), and this one, which creates the Deployment and
runs the hollow nodes (tests/support/hollow.py: real kubelets over the
in-memory runtime; they register, renew their Leases, and run their pods
through the kubelet's own sync and status path). Prints when the pods were
created, bound, ready, and when the workload reported all of them
available, each pod's creation-to-Ready latency (p50/p99) beside
Kubernetes' pod startup SLO (p99 <= 5 s, clusterloader2's density test),
then the controller manager's RSS.
"""
import argparse
import asyncio
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from controlplane.client import Client, load_config  # noqa: E402
from controlplane.client.informer import Informer  # noqa: E402
from controlplane.controllers import pods as podutil  # noqa: E402
from controlplane.api.kinds import KINDS  # noqa: E402
from tests.controllers.support import deployment, template  # noqa: E402
from tests.support.control_plane import ServerProcess, cox_command, cox_env  # noqa: E402
from tests.support.hollow import HollowNodes  # noqa: E402


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process, KiB."""
    fields = dict(line.split(":", 1) for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class Milestones:
    """First times (since apply) at which N pods existed, were bound, were ready; each pod's
    seconds from creation to Ready."""

    def __init__(self, client: Client, target: int):
        self.target = target
        self.pods = Informer(client.resource("Pod"), namespace="default")
        self.start = 0.0
        self.at: dict[str, float] = {}
        self.pods.add_handler(on_add=self._look, on_update=lambda _o, p: self._look(p))
        self._counts = {"created": set(), "bound": set(), "ready": set()}
        self._seen: dict[str, float] = {}
        self.startup: dict[str, float] = {}

    def _look(self, pod) -> None:
        name = pod.metadata.name
        now = time.perf_counter()
        self._seen.setdefault(name, now)
        if podutil.is_ready(pod) and name not in self.startup:
            self.startup[name] = now - self._seen[name]
        for what, holds in (("created", True), ("bound", bool(pod.spec.node_name)),
                            ("ready", podutil.is_ready(pod))):
            if holds:
                self._counts[what].add(name)
                if len(self._counts[what]) >= self.target and what not in self.at:
                    self.at[what] = time.perf_counter() - self.start


def stateful_set(name: str, replicas: int):
    """Parallel, one claim per pod: the volume controller provisions and binds a volume for each."""
    tpl = template({"app": name})
    tpl["spec"]["containers"][0]["volume_mounts"] = [{"name": "data", "mount_path": "/data"}]
    return KINDS["StatefulSet"].new(metadata={"name": name, "namespace": "default"}, spec={
        "replicas": replicas, "selector": {"match_labels": {"app": name}}, "service_name": name,
        "pod_management_policy": "Parallel", "template": tpl,
        "volume_claim_templates": [{"metadata": {"name": "data"}, "spec": {
            "access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]})


def workload(kind: str, replicas: int):
    if kind == "DaemonSet":
        return daemon_set("bench")
    return stateful_set("bench", replicas) if kind == "StatefulSet" else deployment("bench", replicas)


def available(kind: str, status) -> int:
    return {"DaemonSet": lambda: status.number_available}.get(kind, lambda: status.available_replicas)()


def daemon_set(name: str):
    return KINDS["DaemonSet"].new(metadata={"name": name, "namespace": "default"},
                                  spec={"selector": {"match_labels": {"app": name}},
                                        "template": template({"app": name})})


async def run(config_path: pathlib.Path, *, replicas: int, nodes: int, kind: str) -> Milestones:
    client = Client(load_config(config_path))
    target = nodes if kind == "DaemonSet" else replicas
    milestones = Milestones(client, target)
    milestones.pods.start()
    await milestones.pods.wait_synced(30)
    hollow = HollowNodes(client, [f"hollow-{i:04d}" for i in range(nodes)])
    await hollow.start()
    api = client.resource(kind)
    try:
        milestones.start = time.perf_counter()
        created = await api.create(workload(kind, replicas))
        async for event in api.watch(namespace="default", field_selector="metadata.name=bench",
                                     resource_version=created.metadata.resource_version):
            if available(kind, event.object.status) >= target:
                milestones.at["available"] = time.perf_counter() - milestones.start
                break
    finally:
        await hollow.stop()
        await milestones.pods.stop()
        await client.close()
    return milestones


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int)
    parser.add_argument("--nodes", type=int)
    parser.add_argument("--daemonset", action="store_true", help="a DaemonSet (one pod per node) instead")
    parser.add_argument("--statefulset", action="store_true", help="a Parallel StatefulSet with claims instead")
    args = parser.parse_args()
    kind = "DaemonSet" if args.daemonset else "StatefulSet" if args.statefulset else "Deployment"
    nodes = args.nodes or (1000 if args.daemonset else 100)
    args.replicas = args.replicas or (100 if args.statefulset else 1000)
    with tempfile.TemporaryDirectory(prefix="cox-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        server = ServerProcess(tmp / "data", extra_args=["--disable-controller-manager"]).start()
        log = open(tmp / "controller-manager.log", "wb")
        manager = subprocess.Popen(cox_command("controller-manager", "--config", str(server.config_path),
                                               "--leader-elect=false"),
                                   env=cox_env(server.home), stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(1.0)  # let it sync its (empty) caches
            idle_rss, _ = rss_kib(manager.pid)
            milestones = asyncio.run(run(server.config_path, replicas=args.replicas, nodes=nodes,
                                         kind=kind))
            rss, peak = rss_kib(manager.pid)
        finally:
            manager.terminate()
            manager.wait(10)
            server.stop()
    at, pods = milestones.at, milestones.target
    name = "DaemonSet" if args.daemonset else f"{args.replicas}-replica {kind}"
    print(f"{name} on {nodes} hollow nodes (pods bound by the scheduler)")
    print(f"{'milestone':<44}{'seconds':>10}")
    for what, label in (("created", f"all {pods} pods created"),
                        ("bound", "all pods bound to a node"),
                        ("ready", "all pods Running and Ready"),
                        ("available", f"{kind} reports all available")):
        value = at.get(what)
        print(f"{label:<44}{value if value is None else f'{value:.2f}':>10}")
    startup = list(milestones.startup.values())
    print(f"{'pod startup, created to Ready':<44}{'p50':>10}{'p99':>10}{'Kubernetes SLO p99':>20}")
    p50, p99 = percentile(startup, 0.5), percentile(startup, 0.99)
    print(f"{'':<44}{p50 or 0:>10.2f}{p99 or 0:>10.2f}{'5.00':>20}")
    print(f"{'controller manager RSS idle / after (MiB)':<44}{idle_rss / 1024:>5.0f} / {rss / 1024:.0f}")
    print(f"{'controller manager peak RSS (MiB)':<44}{peak / 1024:>10.0f}")
    print(f"target: all available <= 10 s: {'met' if at.get('available', 1e9) <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
