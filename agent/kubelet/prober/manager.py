"""Keeps one probe worker per running container and probe, and answers the pod worker's questions."""
import logging
from collections.abc import Awaitable, Callable

from google.protobuf.message import Message

from agent.kubelet import sidecars
from agent.kubelet.prober.results import LIVENESS, READINESS, STARTUP, Key, Results
from agent.kubelet.prober.worker import ProbeWorker
from agent.runtime import Runtime
from agent.runtime.types import ContainerStatus

log = logging.getLogger(__name__)

_FIELDS = {LIVENESS: "liveness_probe", READINESS: "readiness_probe", STARTUP: "startup_probe"}

# Called with (pod, container name, probe kind, message) when an attempt fails: an Unhealthy event.
FailureHook = Callable[[Message, str, str, str], Awaitable[None]]


class ProbeManager:
    def __init__(self, runtime: Runtime, *, on_change: Callable[[str], None], on_failure: FailureHook) -> None:
        self._runtime = runtime
        self.results = Results(on_change)
        self._on_failure = on_failure
        self._workers: dict[Key, ProbeWorker] = {}
        self._pod_ips: dict[str, str] = {}

    def sync(self, pod: Message, running: dict[str, ContainerStatus], *, pod_ip: str) -> None:
        """Probe exactly the running containers of `pod` (name → its running instance), sidecars included."""
        uid = pod.metadata.uid
        self._pod_ips[uid] = pod_ip
        wanted: set[Key] = set()
        for container in _probed(pod):
            instance = running.get(container.name)
            if instance is None:
                continue
            for kind, field in _FIELDS.items():
                if not container.HasField(field):
                    continue
                key = Key(uid, container.name, kind)
                wanted.add(key)
                worker = self._workers.get(key)
                if worker is not None and worker.container_id == instance.id:
                    continue
                if worker is not None:
                    worker.stop()
                self._workers[key] = self._new_worker(pod, container, key, getattr(container, field), instance)
                self._workers[key].start()
        for key in [k for k in self._workers if k.pod_uid == uid and k not in wanted]:
            self._workers.pop(key).stop()

    def _new_worker(self, pod: Message, container: Message, key: Key, probe: Message,
                    instance: ContainerStatus) -> ProbeWorker:
        uid = pod.metadata.uid

        async def failed(kind: str, message: str) -> None:
            await self._on_failure(pod, container.name, kind, message)

        return ProbeWorker(
            runtime=self._runtime, results=self.results, key=key, probe=probe, container_id=instance.id,
            started_at=instance.started_at, pod_ip=lambda: self._pod_ips.get(uid, ""),
            named_ports={p.name: p.container_port for p in container.ports if p.name},
            startup_passed=lambda: not container.HasField("startup_probe")
            or bool(self.results.get(Key(uid, container.name, STARTUP), instance.id)),
            on_failure=failed)

    def _verdict(self, pod: Message, name: str, kind: str, container_id: str, *, without_probe: bool) -> bool:
        container = next((c for c in _probed(pod) if c.name == name), None)
        if container is None or not container.HasField(_FIELDS[kind]):
            return without_probe
        return bool(self.results.get(Key(pod.metadata.uid, name, kind), container_id))

    def ready(self, pod: Message, name: str, container_id: str) -> bool:
        return self._verdict(pod, name, READINESS, container_id, without_probe=True)

    def started(self, pod: Message, name: str, container_id: str) -> bool:
        return self._verdict(pod, name, STARTUP, container_id, without_probe=True)

    def failed(self, pod: Message, name: str, container_id: str) -> str | None:
        """"liveness" or "startup" if that probe has failed this container instance (restart it)."""
        for kind in (LIVENESS, STARTUP):
            if self.results.get(Key(pod.metadata.uid, name, kind), container_id) is False:
                return kind
        return None

    def remove_pod(self, uid: str) -> None:
        for key in [k for k in self._workers if k.pod_uid == uid]:
            self._workers.pop(key).stop()
            self.results.forget(key)
        self._pod_ips.pop(uid, None)

    def stop(self) -> None:
        for worker in self._workers.values():
            worker.stop()
        self._workers.clear()


def _probed(pod: Message) -> list[Message]:
    """The containers that may have probes: the main ones and the sidecars (names are unique across both)."""
    return [*(c for c in pod.spec.init_containers if sidecars.is_sidecar(c)), *pod.spec.containers]
