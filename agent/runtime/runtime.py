"""The container runtime the kubelet holds: one Docker Engine, split by concern."""
from agent.runtime.containers import Containers
from agent.runtime.engine import DEFAULT_WORKERS, Engine
from agent.runtime.events import ACTIONS, container_events
from agent.runtime.images import Images
from agent.runtime.pause import PAUSE_IMAGE
from agent.runtime.sandbox import Sandboxes
from agent.runtime.stats import Stats
from agent.runtime.streams import Streams


class Runtime:
    """images, sandboxes, containers, streams (logs/exec), stats and events of one daemon."""

    def __init__(self, engine: Engine, *, pause_image: str = PAUSE_IMAGE, pod_network: str = "bridge") -> None:
        self.engine = engine
        self.images = Images(engine)
        self.sandboxes = Sandboxes(engine, image=pause_image, network=pod_network)
        self.containers = Containers(engine)
        self.streams = Streams(engine)
        self.stats = Stats(engine)

    @classmethod
    async def connect(cls, base_url: str, *, workers: int = DEFAULT_WORKERS,
                      pause_image: str = PAUSE_IMAGE, pod_network: str = "bridge") -> "Runtime":
        return cls(await Engine.connect(base_url, workers=workers), pause_image=pause_image,
                   pod_network=pod_network)

    def events(self, actions: tuple[str, ...] = ACTIONS):
        """Docker's events about our containers (create, start, die, ...), as they happen."""
        return container_events(self.engine, actions)

    async def version(self) -> str:
        return (await self.engine.call(self.engine.api.version))["Version"]

    def close(self) -> None:
        self.engine.close()
