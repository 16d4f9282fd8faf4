"""Scheduler benchmark (the scheduler_perf idea): hollow nodes, a burst of pending pods.

    python bench/scheduler_bench.py                         # all cases, prints a table
    python bench/scheduler_bench.py --cases basic-5000 --profile /tmp/prof

Per case, three processes besides this one: `cox server` (fresh SQLite
store; API server only, as in scheduler_perf: a controller manager would
start tainting hollow nodes run without heartbeats a minute in, and its
writes would land in the middle of some runs and not others), the hollow nodes (tests/support/hollow.py: the kubelet's own node
registration and Lease heartbeats, every --heartbeat seconds, spread over
the period; with run_pods off nothing "runs" the pods, as in
scheduler_perf), and the scheduler. The pods are all created *before* the
scheduler starts, so the API server's create rate does not limit the
measurement. Numbers are the scheduler's own view (controlplane/scheduler/
metrics.py):

    pods/s      bound pods / time from the first to the last confirmed bind
    p50, p99    per pod, popped from the queue -> bind confirmed by the API
                server (Kubernetes' scheduling_attempt_duration)
    cpu         CPU seconds the scheduler process used while binding
    RSS         the scheduler process's peak resident memory (VmHWM)

The pods name a scheduler profile of their own (bench-scheduler). Each pod is checked bound
at the end; none may be left pending. Shapes:
basic (requests only), anti-affinity (groups of 20 replicas, required
anti-affinity on the hostname within each group) and spread (groups of 100
replicas, DoNotSchedule maxSkew 1 over 10 zones).
"""
import argparse
import asyncio
import collections
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.client import Client, errors, load_config  # noqa: E402
from tests.support.control_plane import ServerProcess  # noqa: E402

CASES = {
    "basic-500": ("basic", 500, 5000),
    "basic-5000": ("basic", 5000, 10000),
    "anti-500": ("anti", 500, 5000),
    "anti-5000": ("anti", 5000, 10000),
    "spread-500": ("spread", 500, 5000),
    "spread-5000": ("spread", 5000, 10000),
}
ZONES = 10
ANTI_GROUP = 20
SPREAD_GROUP = 100
ZONE_KEY = "topology.kubernetes.io/zone"
# The benchmark's scheduler has a profile (and a lease) of its own, so that a scheduler running
# inside `cox server` leaves the benchmark's pods alone.
SCHEDULER_NAME = "bench-scheduler"


def bench_pod(shape: str, i: int):
    spec = {"scheduler_name": SCHEDULER_NAME,
            "containers": [{"name": "pause", "image": "pause",
                            "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}]}
    labels = {}
    if shape == "anti":
        labels["group"] = f"g{i // ANTI_GROUP}"
        spec["affinity"] = {"pod_anti_affinity": {"required_during_scheduling_ignored_during_execution": [
            {"label_selector": {"match_labels": labels}, "topology_key": "kubernetes.io/hostname"}]}}
    elif shape == "spread":
        labels["group"] = f"g{i // SPREAD_GROUP}"
        spec["topology_spread_constraints"] = [{"max_skew": 1, "topology_key": ZONE_KEY,
                                                "when_unsatisfiable": "DoNotSchedule",
                                                "label_selector": {"match_labels": labels}}]
    return KINDS["Pod"].new(metadata={"name": f"pod-{i}", "namespace": "default", "labels": labels}, spec=spec)


# ---------------------------------------------------------------- child processes

async def hollow_main(config_path: str, nodes: int, heartbeat: float) -> None:
    from tests.support.hollow import HollowNodes
    async with Client(load_config(config_path)) as client:
        async with HollowNodes(client, nodes, zones=ZONES, heartbeat_seconds=heartbeat, run_pods=False):
            print("READY", flush=True)
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            await stop.wait()


async def scheduler_main(config_path: str, expect: int, bind_concurrency: int) -> None:
    from controlplane.scheduler.config import LeaderElection, Profile, SchedulerConfig
    from controlplane.scheduler.scheduler import Scheduler
    config = SchedulerConfig(bind_concurrency=bind_concurrency, profiles=(Profile(scheduler_name=SCHEDULER_NAME),),
                             leader_election=LeaderElection(resource_name=SCHEDULER_NAME))
    async with Client(load_config(config_path)) as client:
        scheduler = Scheduler(client, config)
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run(stop))
        cpu_at_first_bind = None
        while scheduler.metrics.results["scheduled"] < expect and not task.done():
            await asyncio.sleep(0.05)
            if cpu_at_first_bind is None and scheduler.metrics.first_bound_at:
                cpu_at_first_bind = _cpu_seconds()
        snapshot = scheduler.metrics.snapshot()
        snapshot["cpu_seconds"] = _cpu_seconds() - (cpu_at_first_bind or 0)
        stop.set()
        await task
        print("RESULT " + json.dumps(snapshot), flush=True)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


# ---------------------------------------------------------------- the driver

async def create_pods(config_path, shape: str, count: int, *, clients: int = 8, concurrency: int = 64) -> float:
    channels = [Client(load_config(config_path)) for _ in range(clients)]
    await asyncio.gather(*(c.version() for c in channels))
    numbers = iter(range(count))
    started = time.perf_counter()

    async def worker(client):
        pods = client.resource("Pod")
        for i in numbers:
            await create_once(pods, bench_pod(shape, i))
    await asyncio.gather(*(worker(channels[k % clients]) for k in range(concurrency)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in channels))
    return count / elapsed


async def create_once(pods, pod, attempts: int = 5) -> None:
    """Create `pod`, again if a busy API server dropped the call (it may have made it: then it exists)."""
    for attempt in range(attempts):
        try:
            await pods.create(pod)
            return
        except errors.AlreadyExists:
            if attempt:
                return
            raise
        except errors.ApiError as e:
            if attempt == attempts - 1 or e.code not in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE):
                raise
            await asyncio.sleep(0.5 * 2 ** attempt)


def child(role: str, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(pathlib.Path(__file__).resolve()), "--role", role, *args],
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), text=True, **popen)


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run_case(name: str, *, heartbeat: float, bind_concurrency: int, profile: pathlib.Path | None,
                   workdir: pathlib.Path) -> dict:
    shape, nodes, pods = CASES[name]
    server = ServerProcess(workdir / name / "data",
                           extra_args=["--disable-controller-manager", "--disable-scheduler"]).start()
    hollow = scheduler = None
    try:
        config = str(server.config_path)
        started = time.perf_counter()
        hollow = child("hollow", config, str(nodes), str(heartbeat), stdout=subprocess.PIPE)
        if hollow.stdout.readline().strip() != "READY":
            raise RuntimeError("hollow nodes did not start")
        register_s = time.perf_counter() - started
        create_rate = await create_pods(config, shape, pods)
        others_before = {"server": cpu_seconds_of(server.proc.pid), "hollow": cpu_seconds_of(hollow.pid)}
        scheduler = child("scheduler", config, str(pods), str(bind_concurrency), stdout=subprocess.PIPE)
        spies = []
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            spies = [_record(scheduler.pid, profile / f"{name}.txt"),
                     _record(server.proc.pid, profile / f"{name}-apiserver.txt")]
        rss = 0.0
        result = None
        while result is None:
            line = await asyncio.to_thread(scheduler.stdout.readline)
            if not line:
                raise RuntimeError(f"scheduler exited {scheduler.wait()} without a result")
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
            try:
                rss = max(rss, peak_rss_mb(scheduler.pid))
            except FileNotFoundError:
                pass
        others = {f"{k}_cpu_seconds": cpu_seconds_of(p) - others_before[k]
                  for k, p in (("server", server.proc.pid), ("hollow", hollow.pid))}
        rss = max(rss, _final_rss(scheduler))
        scheduler.wait(30)
        for spy in spies:
            spy.send_signal(signal.SIGINT)   # the server lives on: stop recording it now
            spy.wait(30)
        async with Client(load_config(config)) as client:
            listing = await client.resource("Pod").list(namespace="default")
            pending = sum(1 for p in listing.items if not p.spec.node_name)
            per_node = collections.Counter(p.spec.node_name for p in listing.items)
        return {"case": name, "nodes": nodes, "pods": pods, "register_s": register_s, "create_per_s": create_rate,
                "pending": pending, "busiest_node": max(per_node.values()), "rss_mb": rss, **others, **result}
    finally:
        for process in (scheduler, hollow):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        server.stop()


def _record(pid: int, output: pathlib.Path) -> subprocess.Popen:
    """py-spy sampling `pid` into `output` (collapsed stacks) until it exits or is interrupted."""
    py_spy = shutil.which("py-spy") or str(pathlib.Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
                             "--output", str(output), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _final_rss(process: subprocess.Popen) -> float:
    try:
        return peak_rss_mb(process.pid)
    except FileNotFoundError:
        return 0.0


def print_table(rows: list[dict]) -> None:
    header = ("case", "nodes", "pods", "pods/s", "p50 ms", "p99 ms", "cpu s", "pods/cpu-s", "RSS MB", "pending")
    print(" | ".join(f"{h:>10}" for h in header))
    for r in rows:
        attempt = r["attempt"]
        scheduled = r["results"].get("scheduled", 0)
        values = (r["case"], r["nodes"], r["pods"], f"{r['pods_per_second']:.0f}", f"{attempt['p50'] * 1e3:.1f}",
                  f"{attempt['p99'] * 1e3:.1f}", f"{r['cpu_seconds']:.1f}",
                  f"{scheduled / r['cpu_seconds']:.0f}" if r["cpu_seconds"] else "-", f"{r['rss_mb']:.0f}",
                  r["pending"])
        print(" | ".join(f"{v:>10}" for v in values))


def summarize_profile(path: pathlib.Path, top: int = 25) -> None:
    """py-spy raw output (collapsed stacks): the functions with the most samples, self and total."""
    own, total = collections.Counter(), collections.Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        samples += count
        frames = stack.split(";")
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            total[frame] += count
    print(f"\n{path.name}: {samples} samples; most time, inclusive:")
    for frame, count in total.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("self:")
    for frame, count in own.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")


def _short(frame: str) -> str:
    """'fn (path/to/file.py:12)' -> 'fn (file.py)'."""
    name, _, where = frame.partition(" (")
    return f"{name} ({pathlib.Path(where.rstrip(')').split(':')[0]).name})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--heartbeat", type=float, default=10.0,
                        help="hollow node lease renewal period in seconds, 0 for none (default 10, as a kubelet)")
    parser.add_argument("--bind-concurrency", type=int, default=16, help="the scheduler's binds in flight")
    parser.add_argument("--profile", type=pathlib.Path, help="record the scheduler with py-spy into this folder")
    parser.add_argument("--json", type=pathlib.Path, help="also write the results here")
    args = parser.parse_args()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="scheduler-bench-"))
    before_load = f"{os.getloadavg()[0]:.2f}"
    rows = []
    try:
        for name in args.cases.split(","):
            row = await run_case(name, heartbeat=args.heartbeat, bind_concurrency=args.bind_concurrency,
                                 profile=args.profile, workdir=workdir)
            rows.append(row)
            print(f"{name}: {row['pods_per_second']:.0f} pods/s, p99 {row['attempt']['p99'] * 1e3:.1f} ms, "
                  f"nodes registered in {row['register_s']:.1f}s, pods created at {row['create_per_s']:.0f}/s; "
                  f"CPU s while scheduling: scheduler {row['cpu_seconds']:.1f} (from its first bind), "
                  f"API server {row['server_cpu_seconds']:.1f}, hollow nodes {row['hollow_cpu_seconds']:.1f}",
                  file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"hollow node heartbeats: {f'every {args.heartbeat:g} s' if args.heartbeat else 'none'}; "
          f"binds in flight: {args.bind_concurrency}; "
          f"load average before: {before_load}, after: {os.getloadavg()[0]:.2f}")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if args.profile:
        for name in args.cases.split(","):
            for suffix in ("", "-apiserver"):
                if (args.profile / f"{name}{suffix}.txt").exists():
                    summarize_profile(args.profile / f"{name}{suffix}.txt")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        role, rest = sys.argv[2], sys.argv[3:]
        if role == "hollow":
            asyncio.run(hollow_main(rest[0], int(rest[1]), float(rest[2])))
        else:
            asyncio.run(scheduler_main(rest[0], int(rest[1]), int(rest[2])))
    else:
        asyncio.run(main())
