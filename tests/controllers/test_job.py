"""The Job controller against a real API server, with hollow nodes that finish pods."""
from controlplane.api.kinds import KINDS
from controlplane.client.informer import Informer
from controlplane.controllers import job as jobs
from controlplane.controllers import pods as podutil
from agent.runtime.hollow import Program
from tests.controllers.support import eventually, hollow_nodes, template


def job(name, *, command="ok", restart="Never", **spec):
    t = template({"task": name}, image="busybox", restart_policy=restart)
    t["spec"]["containers"][0]["command"] = [command]
    t["metadata"] = {}
    return KINDS["Job"].new(metadata={"name": name, "namespace": "default"}, spec={"template": t, **spec})


def by_command(config):
    """A hollow node program: the command "fail" exits 1, "hang" runs forever, the rest exit 0, after a moment."""
    command = config.command[0]
    if command == "hang":
        return Program()
    return Program(exit_code=1 if command == "fail" else 0, run_seconds=0.1)


async def finished(api, name):
    current = await api.get(name)
    return jobs.finished_condition(current) is not None and current


async def test_completions_five_parallelism_two(client, manager):
    api = client.resource("Job")
    pods = Informer(client.resource("Pod"))
    most_running = 0

    def count(*_):
        nonlocal most_running
        most_running = max(most_running, sum(1 for p in pods.list()
                                             if podutil.is_active(p) and p.metadata.labels.get("task") == "five"))
    pods.add_handler(on_add=count, on_update=count)
    pods.start()
    try:
        async with hollow_nodes(client, ["node-a"], program=by_command):
            created = await api.create(job("five", completions=5, parallelism=2))
            done = await eventually(lambda: finished(api, "five"))
    finally:
        await pods.stop()
    assert [(c.type, c.status) for c in done.status.conditions] == [("Complete", "True")]
    assert (done.status.succeeded, done.status.failed, done.status.active) == (5, 0, 0)
    assert done.status.completion_time.seconds >= done.status.start_time.seconds > 0
    assert most_running <= 2
    listing = await client.resource("Pod").list(namespace="default",
                                                label_selector=f"batch.kubernetes.io/controller-uid={created.metadata.uid}")
    assert len(listing.items) == 5 and all(p.status.phase == "Succeeded" for p in listing.items)


async def test_a_failing_job_stops_at_its_backoff_limit(client, manager):
    api = client.resource("Job")
    async with hollow_nodes(client, ["node-a"], program=by_command):
        await api.create(job("bad", command="fail", completions=1, backoff_limit=2))
        done = await eventually(lambda: finished(api, "bad"), timeout=30)
    assert [(c.type, c.reason) for c in done.status.conditions] == [("Failed", "BackoffLimitExceeded")]
    assert done.status.failed == 3 and done.status.succeeded == 0
    events = (await client.resource("Event").list(namespace="default")).items
    assert any(e.reason == "BackoffLimitExceeded" and e.involved_object.name == "bad" for e in events)


async def test_active_deadline_stops_a_job_and_its_pods(client, manager):
    api = client.resource("Job")
    async with hollow_nodes(client, ["node-a"], program=by_command):
        await api.create(job("slow", command="hang", parallelism=2, completions=2, active_deadline_seconds=1))
        done = await eventually(lambda: finished(api, "slow"), timeout=15)

        async def no_pods_left():
            listing = await client.resource("Pod").list(namespace="default", label_selector="task=slow")
            return not [p for p in listing.items if podutil.is_active(p)]
        await eventually(no_pods_left)
    assert [(c.type, c.reason) for c in done.status.conditions] == [("Failed", "DeadlineExceeded")]


async def test_a_finished_job_is_deleted_after_its_ttl(client, manager):
    api = client.resource("Job")
    async with hollow_nodes(client, ["node-a"], program=by_command):
        await api.create(job("brief", completions=1, ttl_seconds_after_finished=1))

        async def gone():
            return not (await api.list(namespace="default")).items
        await eventually(gone, timeout=15)

        async def pods_gone():
            return not (await client.resource("Pod").list(namespace="default", label_selector="task=brief")).items
        await eventually(pods_gone, timeout=15)
