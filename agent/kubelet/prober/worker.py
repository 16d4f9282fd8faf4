"""One probe of one container instance, run every periodSeconds until it no longer matters.

Verdicts start as Kubernetes' do: liveness succeeds until proven otherwise;
readiness and startup have none (not ready, not started) until proven. Liveness and readiness wait for a
startup probe to pass. A verdict flips after successThreshold successes or
failureThreshold failures in a row. Once liveness or startup has failed the
worker stops: the container is going to be replaced, and the replacement
gets a new worker.
"""
import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from google.protobuf.message import Message

from agent.kubelet.prober import runners
from agent.kubelet.prober.results import LIVENESS, READINESS, STARTUP, Key, Results
from agent.runtime import Runtime

log = logging.getLogger(__name__)


def port_number(value: Message, named: dict[str, int]) -> int:
    """An IntOrString port: a number, or the name of one of the container's ports."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return int(value.number_value)
    if kind == "string_value":
        text = value.string_value
        if text.isdigit():
            return int(text)
        if text in named:
            return named[text]
        raise ValueError(f'port "{text}" is not one of the container\'s named ports')
    raise ValueError("probe port is required")


class ProbeWorker:
    def __init__(self, *, runtime: Runtime, results: Results, key: Key, probe: Message, container_id: str,
                 started_at: datetime | None, pod_ip: Callable[[], str], named_ports: dict[str, int],
                 startup_passed: Callable[[], bool], on_failure: Callable[[str, str], Awaitable[None]]) -> None:
        self.key, self.container_id, self.probe = key, container_id, probe
        self._runtime, self._results = runtime, results
        self._started_at = started_at or datetime.now(timezone.utc)
        self._pod_ip, self._named_ports = pod_ip, named_ports
        self._startup_passed, self._on_failure = startup_passed, on_failure
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"probe-{self.key.kind}-{self.key.container}")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _run(self) -> None:
        probe = self.probe
        if self.key.kind == LIVENESS:
            self._results.set(self.key, self.container_id, True)
        since_start = (datetime.now(timezone.utc) - self._started_at).total_seconds()
        await asyncio.sleep(max(0.0, probe.initial_delay_seconds - since_start))
        period = max(probe.period_seconds, 1)
        successes = failures = 0
        while True:
            if self.key.kind == STARTUP or self._startup_passed():
                result = await self.attempt()
                if result.success:
                    successes, failures = successes + 1, 0
                    if successes >= max(probe.success_threshold, 1):
                        self._results.set(self.key, self.container_id, True)
                        if self.key.kind == STARTUP:
                            return
                else:
                    successes, failures = 0, failures + 1
                    await self._on_failure(self.key.kind, result.message)
                    if failures >= max(probe.failure_threshold, 1):
                        self._results.set(self.key, self.container_id, False)
                        if self.key.kind != READINESS:
                            return
            await asyncio.sleep(period)

    async def attempt(self) -> runners.Result:
        probe = self.probe
        timeout = float(max(probe.timeout_seconds, 1))
        try:
            if probe.HasField("exec"):
                return await runners.exec_probe(self._runtime, self.container_id, list(probe.exec.command),
                                                timeout=timeout)
            host = self._pod_ip() or "127.0.0.1"
            if probe.HasField("http_get"):
                action = probe.http_get
                return await runners.http_probe(
                    action.host or host, port_number(action.port, self._named_ports), action.path or "/",
                    scheme=action.scheme or "HTTP", headers={h.name: h.value for h in action.http_headers},
                    timeout=timeout)
            if probe.HasField("tcp_socket"):
                action = probe.tcp_socket
                return await runners.tcp_probe(action.host or host, port_number(action.port, self._named_ports),
                                               timeout=timeout)
        except ValueError as e:
            return runners.Result(False, str(e))
        return runners.Result(False, "probe has no handler (exec, httpGet or tcpSocket)")
