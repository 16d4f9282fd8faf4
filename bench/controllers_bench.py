"""Controller manager benchmark: a 1,000-replica Deployment on 100 hollow nodes, apply to all available.

    python bench/controllers_bench.py [--replicas 1000] [--nodes 100]

Three processes, as deployed: `cox server` (the API server and the
scheduler; its own controller manager disabled), `cox controller-manager`
(measured: time and RSS), and this one, which creates the Deployment and
runs the hollow nodes (tests/support/hollow.py: real kubelets over the
in-memory runtime; they register, renew their Leases, and run their pods
through the kubelet's own sync and status path). Prints when the pods were
created, bound, ready, and when the Deployment reported all of them
available, then the controller manager's RSS.
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
from tests.controllers.support import deployment  # noqa: E402
from tests.support.control_plane import ServerProcess, cox_command, cox_env  # noqa: E402
from tests.support.hollow import HollowNodes  # noqa: E402


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process, KiB."""
    fields = dict(line.split(":", 1) for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class Milestones:
    """First times (since apply) at which N pods existed, were bound, were ready."""

    def __init__(self, client: Client, target: int):
        self.target = target
        self.pods = Informer(client.resource("Pod"), namespace="default")
        self.start = 0.0
        self.at: dict[str, float] = {}
        self.pods.add_handler(on_add=self._look, on_update=lambda _o, p: self._look(p))
        self._counts = {"created": set(), "bound": set(), "ready": set()}

    def _look(self, pod) -> None:
        name = pod.metadata.name
        for what, holds in (("created", True), ("bound", bool(pod.spec.node_name)),
                            ("ready", podutil.is_ready(pod))):
            if holds:
                self._counts[what].add(name)
                if len(self._counts[what]) >= self.target and what not in self.at:
                    self.at[what] = time.perf_counter() - self.start


async def run(config_path: pathlib.Path, *, replicas: int, nodes: int) -> dict:
    client = Client(load_config(config_path))
    milestones = Milestones(client, replicas)
    milestones.pods.start()
    await milestones.pods.wait_synced(30)
    hollow = HollowNodes(client, [f"hollow-{i:03d}" for i in range(nodes)])
    await hollow.start()
    api = client.resource("Deployment")
    try:
        milestones.start = time.perf_counter()
        created = await api.create(deployment("bench", replicas))
        async for event in api.watch(namespace="default", field_selector="metadata.name=bench",
                                     resource_version=created.metadata.resource_version):
            if event.object.status.available_replicas >= replicas:
                milestones.at["available"] = time.perf_counter() - milestones.start
                break
    finally:
        await hollow.stop()
        await milestones.pods.stop()
        await client.close()
    return milestones.at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=100)
    args = parser.parse_args()
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
            at = asyncio.run(run(server.config_path, replicas=args.replicas, nodes=args.nodes))
            rss, peak = rss_kib(manager.pid)
        finally:
            manager.terminate()
            manager.wait(10)
            server.stop()
    print(f"{args.replicas}-replica Deployment on {args.nodes} hollow nodes (pods bound by the scheduler)")
    print(f"{'milestone':<44}{'seconds':>10}")
    for what, label in (("created", f"all {args.replicas} pods created"),
                        ("bound", "all pods bound to a node"),
                        ("ready", "all pods Running and Ready"),
                        ("available", "Deployment reports all available")):
        value = at.get(what)
        print(f"{label:<44}{value if value is None else f'{value:.2f}':>10}")
    print(f"{'controller manager RSS idle / after (MiB)':<44}{idle_rss / 1024:>5.0f} / {rss / 1024:.0f}")
    print(f"{'controller manager peak RSS (MiB)':<44}{peak / 1024:>10.0f}")
    print(f"target: all available <= 10 s: {'met' if at.get('available', 1e9) <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
