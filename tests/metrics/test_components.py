"""Each control plane process serves /metrics at its --metrics-bind-address, and its series move
when it works: `cox server` (API server alone), `cox scheduler`, `cox controller-manager`."""

import pytest

from controlplane.api.kinds import KINDS
from tests.metrics.scrape import fetch, scrape
from tests.support.child import ChildProcess
from tests.support.control_plane import ServerProcess, cox_command, cox_env
from tests.support.polling import eventually
from tests.support.ports import free_port


class Component(ChildProcess):
    def __init__(self, tmp_path, name: str, *args: str):
        super().__init__(tmp_path / f"{name}.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        home = tmp_path / f"{name}-home"
        home.mkdir()
        self.argv = cox_command(*args, "--metrics-bind-address", f"127.0.0.1:{self.port}")
        self.env = cox_env(home)

    def start(self, config) -> "Component":
        self.spawn(self.argv, env=dict(self.env, COX_CONFIG=str(config)))
        return self


@pytest.fixture
def server(tmp_path):
    port = free_port()
    process = ServerProcess(tmp_path / "data", extra_args=[
        "--disable-scheduler", "--disable-controller-manager", "--metrics-bind-address", f"127.0.0.1:{port}"])
    process.metrics_url = f"http://127.0.0.1:{port}/metrics"
    yield process.start()
    process.stop()


@pytest.fixture
def components(tmp_path, server):
    started = [Component(tmp_path, "scheduler", "scheduler").start(server.config_path),
               Component(tmp_path, "controller-manager", "controller-manager").start(server.config_path)]
    yield started
    for component in started:
        component.stop()


async def test_each_process_counts_its_own_work(server, components):
    scheduler, controller_manager = components

    async def up(url):
        try:
            code, _ = await fetch(url)
        except OSError:   # not listening yet
            return False
        return code == 200
    for component in components:
        await eventually(lambda: up(component.url), timeout=30, what=f"{component.url} ({component.log()})")

    async with server.client() as client:
        await client.resource("ReplicaSet").create(KINDS["ReplicaSet"].new(
            metadata={"name": "web", "namespace": "default"},
            spec={"replicas": 2, "selector": {"match_labels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}))

        async def controllers_worked():
            page = await scrape(controller_manager.url)
            return (page.value("workqueue_adds_total", name="replicaset") >= 1
                    and page.value("workqueue_work_duration_seconds_count", name="replicaset") >= 1) and page
        await eventually(controllers_worked, timeout=30, what="the replicaset queue's adds and work")

        async def scheduler_tried():
            # No nodes: each of the two pods is found unschedulable.
            page = await scrape(scheduler.url)
            return page.value("scheduler_schedule_attempts_total", result="unschedulable") >= 2 and page
        page = await eventually(scheduler_tried, timeout=30, what="two unschedulable attempts")
        assert page.value("scheduler_scheduling_attempt_duration_seconds_count", result="unschedulable") >= 2
        assert page.value("scheduler_pending_pods") == 2   # backoff or unschedulable, as events came

    api = await scrape(server.metrics_url)
    assert api.value("apiserver_request_total", verb="POST", resource="replicasets", code="201") == 1
    assert api.value("apiserver_request_total", verb="POST", resource="pods", code="201") == 2
    assert api.value("apiserver_request_total", verb="WATCH", resource="pods") == 0   # still open...
    assert api.value("apiserver_longrunning_requests", verb="WATCH", resource="pods") >= 2   # ...two informers
    # Each process serves only its own series.
    assert api.value("workqueue_adds_total") == 0 and page.value("apiserver_request_total") == 0


def test_an_address_that_cannot_be_served_is_an_error(tmp_path, server):
    taken = Component(tmp_path, "taken", "scheduler")
    taken.argv[-1] = server.metrics_url.removeprefix("http://").removesuffix("/metrics")   # the server's
    taken.start(server.config_path)
    try:
        assert taken.proc.wait(timeout=30) == 1
        assert f"--metrics-bind-address: cannot bind {taken.argv[-1]}" in taken.log()
        assert "Traceback" not in taken.log()
    finally:
        taken.stop()
    bad = Component(tmp_path, "bad", "controller-manager")
    bad.argv[-1] = "localhost:http"
    bad.start(server.config_path)
    try:
        assert bad.proc.wait(timeout=30) == 1
        assert '--metrics-bind-address: "localhost:http" is not IP:PORT' in bad.log()
    finally:
        bad.stop()
