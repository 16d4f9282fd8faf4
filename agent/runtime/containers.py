"""Creating, starting, stopping, inspecting and listing the kubelet's containers.

App and init containers join their pod's sandbox: its network namespace
(`network_mode=container:<sandbox>`, so localhost is shared and the pod has
one IP) and its IPC namespace, and its PID namespace when the pod shares one. Every container is labelled (see labels.py)
and only labelled containers are ever listed, so the kubelet cannot touch a
container it did not make.
"""
import re
from datetime import datetime, timezone

from agent.runtime import labels
from agent.runtime.engine import Engine
from agent.runtime.errors import RuntimeFailure
from agent.runtime.types import ContainerConfig, ContainerStatus, ContainerSummary, Kind, Security, State

# Container logs are bounded on disk, as the kubelet's containerLogMaxSize/MaxFiles do.
LOG_CONFIG = {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}

_STATES = {"created": State.CREATED, "running": State.RUNNING, "paused": State.RUNNING,
           "restarting": State.RUNNING, "removing": State.EXITED, "exited": State.EXITED,
           "dead": State.EXITED}


_NANOS = re.compile(r"(\.\d{6})\d+")  # Python parses at most microseconds


class Containers:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def create(self, config: ContainerConfig, *, sandbox_id: str) -> str:
        """Create (not start) one container in the sandbox's namespaces; returns its id."""
        created = await self._engine.call(
            self._engine.api.create_container, container_body(config, sandbox_id=sandbox_id),
            name=labels.docker_name(config.pod, config.name, config.attempt))
        return created["Id"]

    async def start(self, container_id: str) -> None:
        await self._engine.call(self._engine.api.start, container_id)

    async def stop(self, container_id: str, *, grace_seconds: int) -> None:
        """SIGTERM (or the image's STOPSIGNAL), then SIGKILL once grace_seconds have passed.

        Docker's own stop: it holds a thread (of the engine's teardown pool) for
        up to the grace period. The kubelet, which hears about deaths from
        Docker's events anyway, stops containers with kill() and waits for the
        event instead (agent/kubelet/podworker.py).
        """
        await self._engine.call_teardown(self._engine.api.stop, container_id, timeout=max(0, grace_seconds))

    async def kill(self, container_id: str, *, signal: str = "SIGKILL") -> bool:
        """Send a signal; False if the container was not running (nothing to signal)."""
        try:
            await self._engine.call_teardown(self._engine.api.kill, container_id, signal=signal)
        except RuntimeFailure as e:
            if "is not running" in str(e):
                return False
            raise
        return True

    async def remove(self, container_id: str) -> None:
        """Remove a container (killing it if it still runs) and its anonymous volumes."""
        await self._engine.call_teardown(self._engine.api.remove_container, container_id, force=True, v=True)

    async def inspect(self, container_id: str) -> ContainerStatus:
        return status_from_inspect(await self._engine.call(self._engine.api.inspect_container, container_id))

    async def list(self, *, pod_uid: str | None = None) -> list[ContainerSummary]:
        """Every container this kubelet made (of one pod, if pod_uid is given), any state."""
        wanted = labels.pod_filter(pod_uid) if pod_uid else labels.managed_filter()
        rows = await self._engine.call(self._engine.api.containers, all=True, filters={"label": wanted})
        return [summary_from_list(row) for row in rows]


def container_body(config: ContainerConfig, *, sandbox_id: str) -> dict:
    """Docker's container Config for an app or init container (what `docker create` would send).
    Docker reads an absent field as its default: only what is set is sent. Output is attached
    (AttachStdout/AttachStderr) and stdin, when open, is attached once (StdinOnce), as `docker run -i`."""
    host_config = {
        "NetworkMode": f"container:{sandbox_id}",
        "IpcMode": f"container:{sandbox_id}",
        "PidMode": f"container:{sandbox_id}" if config.share_process_namespace else None,
        "Binds": [f"{m.source}:{m.target}:{'ro' if m.read_only else 'rw'}" for m in config.mounts],
        "NanoCpus": config.cpu_limit_millis * 1_000_000 or None,
        "CpuShares": _cpu_shares(config.cpu_request_millis),
        "Memory": config.memory_limit or None,
        "MemorySwap": config.memory_limit or None,   # no swap beyond the limit, as Kubernetes
        "MemoryReservation": config.memory_request or None,
        "LogConfig": LOG_CONFIG,
        **_security(config.security),
    }
    body = {
        "User": config.security.user or None,
        "Image": config.image,
        "Cmd": list(config.args) if config.args is not None else None,
        "Entrypoint": list(config.command) if config.command is not None else None,
        "Env": [f"{k}={v}" for k, v in config.env],
        "WorkingDir": config.working_dir or None,
        "OpenStdin": config.stdin, "StdinOnce": config.stdin, "AttachStdin": config.stdin,
        "AttachStdout": True, "AttachStderr": True, "Tty": config.tty,
        "Labels": labels.for_container(config),
        "HostConfig": only_set(host_config),
    }
    return only_set(body)


def only_set(fields: dict) -> dict:
    """The fields that have a value (None: leave it to Docker's default)."""
    return {key: value for key, value in fields.items() if value is not None}


def _cpu_shares(millis: int) -> int | None:
    """Kubernetes' mapping of a CPU request to cgroup shares (1 CPU = 1024, at least 2)."""
    return max(2, millis * 1024 // 1000) if millis else None


def _identity(container_id: str, found: dict[str, str], docker_state: str) -> dict:
    """The ContainerSummary fields, read from a container's labels and Docker state."""
    return dict(id=container_id, pod=labels.pod_of(found), name=found.get(labels.CONTAINER_NAME, ""),
                kind=labels.kind_of(found), attempt=labels.attempt_of(found),
                state=_STATES.get(docker_state, State.UNKNOWN), labels=found)


def cannot_run(status: ContainerStatus) -> bool:
    """A container whose start failed: listed as created, inspected as exited, never started."""
    return status.state is State.EXITED and status.started_at is None and bool(status.error)


def summary_from_list(row: dict) -> ContainerSummary:
    return ContainerSummary(**_identity(row["Id"], row.get("Labels") or {}, row.get("State", "")))


def status_from_inspect(data: dict) -> ContainerStatus:
    found = data["Config"].get("Labels") or {}
    state = data["State"]
    identity = _identity(data["Id"], found, state.get("Status", ""))
    if identity["state"] is State.CREATED and state.get("Error"):
        identity["state"] = State.EXITED   # its start failed: it is over without having run (cannot_run)
    exited = identity["state"] is State.EXITED
    network_mode = data["HostConfig"].get("NetworkMode", "")
    return ContainerStatus(
        **identity,
        image=data["Config"].get("Image", ""), image_id=data.get("Image", ""),
        spec_hash=found.get(labels.SPEC_HASH, ""), grace_seconds=labels.grace_of(found),
        created_at=parse_time(data.get("Created")),
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")) if exited else None,
        exit_code=state.get("ExitCode") if exited else None,
        oom_killed=bool(state.get("OOMKilled")),
        error=state.get("Error") or "",
        ip=(_ip(data) or found.get(labels.POD_IP, "")) if identity["kind"] is Kind.SANDBOX else "",
        host_network=network_mode == "host",
        sandbox_id=network_mode.removeprefix("container:") if network_mode.startswith("container:") else "",
        stop_signal=data["Config"].get("StopSignal") or "SIGTERM",
        resolv_conf_path=data.get("ResolvConfPath") or "",
        pid=state.get("Pid") or 0,
    )


def _ip(data: dict) -> str:
    settings = data.get("NetworkSettings") or {}
    if settings.get("IPAddress"):
        return settings["IPAddress"]
    for network in (settings.get("Networks") or {}).values():
        if network.get("IPAddress"):
            return network["IPAddress"]
    return ""


def parse_time(text: str | None) -> datetime | None:
    """Docker's RFC 3339 time (nanoseconds, UTC); its zero time ("0001-...") means never."""
    if not text or text.startswith("0001-"):
        return None
    return datetime.fromisoformat(_NANOS.sub(r"\1", text)).astimezone(timezone.utc)


def _security(security: Security) -> dict:
    """HostConfig settings for a container's securityContext (only those it sets)."""
    options = []
    if security.no_new_privileges:
        options.append("no-new-privileges")
    if security.seccomp_unconfined:
        options.append("seccomp=unconfined")
    settings = {"Privileged": security.privileged, "ReadonlyRootfs": security.read_only_root,
                "CapAdd": list(security.cap_add), "CapDrop": list(security.cap_drop), "SecurityOpt": options,
                "GroupAdd": [str(group) for group in security.groups]}
    return {key: value for key, value in settings.items() if value}
