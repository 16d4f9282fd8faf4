"""Starting one new attempt of one of a pod's containers: image, environment, create, start, postStart.

What can go wrong on the way becomes the container's waiting reason, as in Kubernetes (ErrImagePull and
ImagePullBackOff from the puller, CreateContainerConfigError, CreateContainerError, RunContainerError),
written into the worker's `waiting` map, which the pod's status reports. A container's postStart hook
runs as soon as it has started, before the worker reports or probes it; if the hook fails, the container
is killed (stopping.py) and restarted as its policy says.
"""
from pathlib import Path

from google.protobuf.message import Message

from agent.kubelet import hooks, podspec
from agent.kubelet.envvars import ConfigError, container_env
from agent.kubelet.objects import ObjectSource
from agent.kubelet.pleg import ContainerCache
from agent.kubelet.podplan import Start
from agent.kubelet.pullsecrets import NodeKeyring, pull_credentials
from agent.kubelet.recorder import NORMAL, WARNING, Recorder
from agent.kubelet.security import non_root_problem
from agent.kubelet.stopping import Stopper
from agent.kubelet.volumes import PodVolumes
from agent.runtime import Runtime
from agent.runtime.containers import cannot_run
from agent.runtime.errors import RuntimeFailure
from agent.runtime.pulls import Puller
from agent.runtime.types import ContainerStatus, Mount

Waiting = dict[str, tuple[str, str]]   # container name → (reason, message)


def message_file(volumes: PodVolumes, uid: str, name: str, attempt: int) -> Path:
    """The host file bind-mounted at one attempt's terminationMessagePath, read back when it ends."""
    return volumes.pod_dir(uid) / "containers" / name / str(attempt)


class Starter:
    """Starts the containers of one pod (its uid), saying in `waiting` why one could not start."""

    def __init__(self, *, uid: str, runtime: Runtime, cache: ContainerCache, recorder: Recorder,
                 objects: ObjectSource, volumes: PodVolumes, host_ip: str, stopper: Stopper,
                 waiting: Waiting, keyring: NodeKeyring | None = None) -> None:
        self.uid = uid
        self._runtime = runtime
        self._cache = cache
        self._recorder = recorder
        self._objects = objects
        self._volumes = volumes
        self._host_ip = host_ip
        self._stopper = stopper
        self._waiting = waiting
        self._keyring = keyring
        self._puller = Puller(runtime.images)

    def pull_wait_left(self, container: str) -> float:
        """Seconds of the container's image pull back-off still to wait (0: may pull now)."""
        return self._puller.wait_left((self.uid, container))

    async def start(self, pod: Message, start: Start, sandbox: ContainerStatus, *,
                    volume_paths: dict[str, str]) -> bool:
        """Pull if needed, create and start one new attempt; failures become waiting reasons.
        True once a container was created (the pod changed)."""
        container = start.container
        record, where = self._recorder.record, podspec.field_path(pod, container.name)
        if not await self._image(pod, container):
            return False
        try:
            env = await container_env(pod, container, self._objects, pod_ip=sandbox.ip or self._host_ip,
                                      host_ip=self._host_ip)
            if (problem := await non_root_problem(pod, container, self._runtime.images.image_user)) is not None:
                raise ConfigError(problem)
        except ConfigError as e:
            record(pod, WARNING, "Failed", f"Error: {e}", field_path=where)
            self._waiting[container.name] = ("CreateContainerConfigError", str(e))
            return False
        config = podspec.container_config(
            pod, container, kind=start.kind, attempt=start.attempt, env=env, volume_paths=volume_paths,
            extra_mounts=self._termination_log(container, start.attempt))
        try:
            for mount in config.mounts:
                if mount.source.startswith(str(self._volumes.root)) and not Path(mount.source).exists():
                    Path(mount.source).mkdir(parents=True, exist_ok=True)   # a subPath, made as Kubernetes does
            container_id = await self._runtime.containers.create(config, sandbox_id=sandbox.id)
        except (RuntimeFailure, OSError) as e:
            record(pod, WARNING, "Failed", f"Error: {e}", field_path=where)
            self._waiting[container.name] = ("CreateContainerError", str(e))
            return False
        record(pod, NORMAL, "Created", f"Created container {container.name}", field_path=where)
        with self._cache.operating(container_id):
            try:
                await self._runtime.containers.start(container_id)
                failure = None
            except RuntimeFailure as e:
                failure = e
            started = await self._cache.inspect(container_id)
        self._waiting.pop(container.name, None)
        if failure is None:
            record(pod, NORMAL, "Started", f"Started container {container.name}", field_path=where)
            if container.lifecycle.HasField("post_start") and started is not None:
                await self._post_start(pod, container, started)
        else:
            record(pod, WARNING, "Failed", f"Error: {failure}", field_path=where)
            if started is None or not cannot_run(started):   # else its status says ContainerCannotRun
                self._waiting[container.name] = ("RunContainerError", str(failure))
        return True

    async def _post_start(self, pod: Message, container: Message, status: ContainerStatus) -> None:
        """Run the container's postStart hook; when it fails the container is killed (its preStop hook
        included, as Kubernetes does) and restarted as its policy says."""
        handler = container.lifecycle.post_start
        problem = await hooks.run(self._runtime, handler, container_id=status.id, host=self._stopper.hook_host(),
                                  named_ports=hooks.named_ports(container), timeout=hooks.POST_START_TIMEOUT)
        if problem is None:
            return
        where = podspec.field_path(pod, container.name)
        self._recorder.record(pod, WARNING, "FailedPostStartHook",
                              hooks.failure(handler, pod, container.name, problem), field_path=where)
        self._recorder.record(pod, NORMAL, "Killing", f"FailedPostStartHook: stopping container {container.name}",
                              field_path=where)
        await self._stopper.stop(status, podspec.grace_seconds(pod), pod=pod)

    async def _image(self, pod: Message, container: Message) -> bool:
        """The container's image is present (pulled now if the policy says so); False while it is not."""
        record, where = self._recorder.record, podspec.field_path(pod, container.name)
        auths = await pull_credentials(self._objects, pod, container.image, node=self._keyring)
        outcome = await self._puller.ensure((self.uid, container.name), container.image,
                                            policy=container.image_pull_policy, auths=auths)
        if outcome.pulling:
            record(pod, NORMAL, "Pulling", f'Pulling image "{container.image}"', field_path=where)
        if outcome.ready:
            if self._waiting.get(container.name, ("",))[0] in ("ErrImagePull", "ImagePullBackOff"):
                self._waiting.pop(container.name)
            record(pod, NORMAL, "Pulled", outcome.message, field_path=where)
            return True
        if outcome.reason == "ErrImagePull":
            record(pod, WARNING, "Failed", f'Failed to pull image "{container.image}": {outcome.message}',
                   field_path=where)
        else:
            record(pod, WARNING, outcome.reason, outcome.message, field_path=where)
        self._waiting[container.name] = (outcome.reason, outcome.message)
        return False

    def _termination_log(self, container: Message, attempt: int) -> tuple[Mount, ...]:
        """A host file bind-mounted at terminationMessagePath, read back when the container ends."""
        if not container.termination_message_path:
            return ()
        path = message_file(self._volumes, self.uid, container.name, attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return (Mount(source=str(path), target=container.termination_message_path),)
