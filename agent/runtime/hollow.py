"""HollowRuntime: a TEST DOUBLE of the container runtime, for hollow nodes in tests and benchmarks.

Why it exists: to run thousands of real kubelets in one process (Kubernetes'
kubemark idea, tests/support/hollow.py), everything but Docker is real, and
Docker is this. It has the Docker runtime's interface (runtime.py: images,
sandboxes, containers, streams, events, version), and keeps each container as
the record Docker's inspect would return, read back through the same parsers
(containers.py), so the kubelet sees what it would see from Docker. Nothing
runs: a container is a state, a few timestamps and an exit code.

What a container does is its `Program`, chosen per container by the
`program` function the runtime is given (from the container's config: name,
image, command):

- it starts after `start_seconds` (0: at once, as a pull-free Docker start);
- it runs until killed, or exits with `exit_code` after `run_seconds`;
- any signal ends it at once with 128 + the signal's number, as a process
  that does not trap it (SIGTERM: 143, SIGKILL: 137);
- an exec in it (an exec probe) exits with `exec_exit_code`.

Every image is present. A sandbox gets the next address of the pool it is
given (hollow nodes use the RFC 2544 benchmarking range, which is never
routed here). Docker's "die" events are reported, so the PLEG hears of exits
as it would. Logs are empty and nothing can be attached to: hollow nodes run
no agent endpoint.
"""
import asyncio
import hashlib
import ipaddress
import os
import signal as signals
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from agent.runtime import labels
from agent.runtime.containers import status_from_inspect, summary_from_list
from agent.runtime.errors import NotFound, RuntimeFailure
from agent.runtime.events import ACTIONS, ContainerEvent
from agent.runtime.images import default_policy
from agent.runtime.pause import PAUSE_IMAGE
from agent.runtime.types import ContainerConfig, ContainerStatus, ContainerSummary, DnsConfig, ExecResult, \
    SandboxConfig

VERSION = "20.10.24+hollow"   # what a hollow node reports as its Docker version
_NEVER = "0001-01-01T00:00:00Z"   # Docker's zero time


@dataclass(frozen=True)
class Program:
    """What a hollow container does (see the module docstring)."""
    exit_code: int | None = None      # None: runs until killed
    run_seconds: float = 0.0
    start_seconds: float = 0.0
    exec_exit_code: int = 0


def run_forever(_config: ContainerConfig) -> Program:
    return Program()


def pod_addresses() -> Iterator[str]:
    """Pod IPs from 198.19.0.0/16 (RFC 2544's benchmarking range: routed nowhere here)."""
    return (str(ip) for ip in ipaddress.ip_network("198.19.0.0/16").hosts())


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _image_id(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


class _Record:
    """One container as Docker's inspect shows it, plus its program."""

    def __init__(self, *, image: str, container_labels: dict[str, str], network_mode: str,
                 program: Program) -> None:
        self.id = os.urandom(32).hex()
        self.name = ""                 # its Docker name, set when added
        self.program = program
        self.exit_timer: asyncio.TimerHandle | None = None
        self.inspect = {
            "Id": self.id, "Created": _now(), "Image": _image_id(image),
            "Config": {"Image": image, "Labels": container_labels, "StopSignal": "SIGTERM"},
            "State": {"Status": "created", "StartedAt": _NEVER, "FinishedAt": _NEVER, "ExitCode": 0,
                      "OOMKilled": False, "Error": ""},
            "HostConfig": {"NetworkMode": network_mode},
            "NetworkSettings": {"IPAddress": ""},
        }

    @property
    def state(self) -> str:
        return self.inspect["State"]["Status"]


class HollowRuntime:
    """The runtime's interface over containers kept in memory (see the module docstring)."""

    def __init__(self, *, program: Callable[[ContainerConfig], Program] = run_forever,
                 addresses: Iterator[str] | None = None) -> None:
        """`addresses`: where sandboxes' IPs come from (share one among the runtimes of a process)."""
        self._records: dict[str, _Record] = {}
        self._names: dict[str, str] = {}           # Docker name → id
        self._listeners: set[asyncio.Queue] = set()
        self.images = _Images()
        self.sandboxes = _Sandboxes(self, addresses if addresses is not None else pod_addresses())
        self.containers = _Containers(self, program)
        self.streams = _Streams(self)

    async def events(self, actions: tuple[str, ...] = ACTIONS) -> AsyncIterator[ContainerEvent]:
        """Events of this runtime's containers from now on, as Docker's stream reports them."""
        queue: asyncio.Queue = asyncio.Queue()
        self._listeners.add(queue)
        try:
            while True:
                event = await queue.get()
                if event.action in actions:
                    yield event
        finally:
            self._listeners.discard(queue)

    async def version(self) -> str:
        return VERSION

    def close(self) -> None:
        for record in self._records.values():
            if record.exit_timer is not None:
                record.exit_timer.cancel()

    # -- shared by the parts

    def add(self, record: _Record, name: str) -> str:
        if name in self._names:
            raise RuntimeFailure(f'Conflict. The container name "/{name}" is already in use by container '
                                 f'"{self._names[name]}"')
        record.name = name
        self._records[record.id] = record
        self._names[name] = record.id
        return record.id

    def get(self, container_id: str) -> _Record:
        record = self._records.get(container_id)
        if record is None:
            raise NotFound(f"No such container: {container_id}")
        return record

    def remove(self, container_id: str) -> None:
        record = self.get(container_id)
        if record.state == "running":
            self.exit(record, 128 + signals.SIGKILL)
        del self._records[container_id]
        del self._names[record.name]
        self.emit("destroy", record)

    def exit(self, record: _Record, code: int) -> None:
        if record.exit_timer is not None:
            record.exit_timer.cancel()
            record.exit_timer = None
        record.inspect["State"].update(Status="exited", ExitCode=code, FinishedAt=_now())
        self.emit("die", record)

    def records(self) -> list[_Record]:
        return list(self._records.values())

    def emit(self, action: str, record: _Record) -> None:
        found = record.inspect["Config"]["Labels"]
        event = ContainerEvent(action=action, container_id=record.id, pod_uid=found.get(labels.POD_UID, ""),
                               container_name=found.get(labels.CONTAINER_NAME, ""))
        for queue in self._listeners:
            queue.put_nowait(event)


class _Images:
    """Every image is present; a pull always succeeds."""

    async def image_id(self, image: str) -> str | None:
        return _image_id(image)

    async def image_user(self, image: str) -> str:
        return ""

    async def ensure(self, image: str, *, policy: str = "", auths: tuple[dict, ...] = ()) -> tuple[str, bool]:
        return _image_id(image), (policy or default_policy(image)) == "Always"

    async def pull(self, image: str, *, auths: tuple[dict, ...] = ()) -> None:
        return None


class _Sandboxes:
    def __init__(self, runtime: HollowRuntime, addresses: Iterator[str]) -> None:
        self._runtime = runtime
        self.addresses = addresses
        self.image = PAUSE_IMAGE
        self.network = "bridge"

    async def create(self, config: SandboxConfig) -> str:
        record = _Record(image=self.image, container_labels=labels.for_sandbox(config),
                         network_mode="host" if config.host_network else self.network, program=Program())
        return self._runtime.add(record, labels.docker_name(config.pod, labels.SANDBOX_NAME, config.attempt))

    async def write_resolv_conf(self, sandbox: ContainerStatus, dns: DnsConfig) -> None:
        self._runtime.get(sandbox.id)


class _Containers:
    def __init__(self, runtime: HollowRuntime, program: Callable[[ContainerConfig], Program]) -> None:
        self._runtime = runtime
        self._program = program

    async def create(self, config: ContainerConfig, *, sandbox_id: str) -> str:
        self._runtime.get(sandbox_id)
        record = _Record(image=config.image, container_labels=labels.for_container(config),
                         network_mode=f"container:{sandbox_id}", program=self._program(config))
        return self._runtime.add(record, labels.docker_name(config.pod, config.name, config.attempt))

    async def start(self, container_id: str) -> None:
        record = self._runtime.get(container_id)
        if record.state == "running":
            return
        program = record.program
        if program.start_seconds > 0:
            await asyncio.sleep(program.start_seconds)
        if record.inspect["HostConfig"]["NetworkMode"] == self._runtime.sandboxes.network:
            record.inspect["NetworkSettings"]["IPAddress"] = next(self._runtime.sandboxes.addresses, "")
        record.inspect["State"].update(Status="running", StartedAt=_now(), FinishedAt=_NEVER, ExitCode=0)
        if program.exit_code is not None:
            record.exit_timer = asyncio.get_running_loop().call_later(
                program.run_seconds, self._runtime.exit, record, program.exit_code)
        self._runtime.emit("start", record)

    async def stop(self, container_id: str, *, grace_seconds: int) -> None:
        await self.kill(container_id, signal="SIGTERM")

    async def kill(self, container_id: str, *, signal: str = "SIGKILL") -> bool:
        record = self._runtime.get(container_id)
        if record.state != "running":
            return False
        self._runtime.exit(record, 128 + signals.Signals[signal])
        return True

    async def remove(self, container_id: str) -> None:
        self._runtime.remove(container_id)

    async def inspect(self, container_id: str) -> ContainerStatus:
        return status_from_inspect(self._runtime.get(container_id).inspect)

    async def list(self, *, pod_uid: str | None = None) -> list[ContainerSummary]:
        rows = [summary_from_list({"Id": r.id, "Labels": r.inspect["Config"]["Labels"], "State": r.state})
                for r in self._runtime.records()]
        return [row for row in rows if pod_uid is None or row.pod.uid == pod_uid]


class _Streams:
    def __init__(self, runtime: HollowRuntime) -> None:
        self._runtime = runtime

    async def logs(self, container_id: str, *, follow: bool = False, tail: int | None = None,
                   timestamps: bool = False, since: float | None = None) -> AsyncIterator[bytes]:
        self._runtime.get(container_id)
        return
        yield b""   # an async generator that yields nothing: hollow containers write no output

    async def exec(self, container_id: str, command: list[str], *, timeout: float | None = None) -> ExecResult:
        record = self._runtime.get(container_id)
        if record.state != "running":
            raise RuntimeFailure(f"Container {container_id} is not running")
        return ExecResult(exit_code=record.program.exec_exit_code, output=b"")

    async def exec_session(self, container_id: str, command: list[str], *, stdin: bool = False,
                           tty: bool = False):
        raise RuntimeFailure("a hollow container has no process to attach to")

    async def attach_session(self, container_id: str, *, stdin: bool = False, tty: bool = False):
        raise RuntimeFailure("a hollow container has no process to attach to")
