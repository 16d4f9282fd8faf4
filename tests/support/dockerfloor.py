"""What Docker alone takes to start containers, the floor that pod-start benches compare with.

Two shapes, started directly with docker-py on as many threads as the agent uses for Docker calls:

- a pod as the agent makes it: a pause container with network_mode=none (the agent wires its network
  namespace itself) and IPC shareable, then the app container joining both;
- a task as Docker Swarm makes it: one container on Docker's default bridge network.

Their ratio is the price of the pod model on this engine, whatever orchestrator drives it. On Docker
20.10 a network_mode=none start costs about twice a default-bridge one: libnetwork re-executes
dockerd (`set-ipv6`) for every sandbox it is handed by an external key.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker

from agent.runtime.containers import LOG_CONFIG as AGENT_LOG_CONFIG
from agent.runtime.engine import DEFAULT_WORKERS
from agent.runtime.pause import PAUSE_IMAGE, pause_rootfs

COMMAND = ["sleep", "3600"]
LOG_CONFIG = {"type": AGENT_LOG_CONFIG["Type"], "config": AGENT_LOG_CONFIG["Config"]}   # the agent's, in docker-py's terms
LABEL = "coxswain.bench.floor"


class DockerFloor:
    """Pods (pause + app) or Swarm-like tasks (one container) started on one daemon by docker-py alone."""

    def __init__(self, api: docker.APIClient, *, image: str, threads: int = DEFAULT_WORKERS) -> None:
        self.api = api
        self.image = image   # the app's: present on the daemon already
        self.threads = threads
        try:
            api.inspect_image(PAUSE_IMAGE)
        except docker.errors.ImageNotFound:   # not there yet: import it as the agent would
            repository, _, tag = PAUSE_IMAGE.rpartition(":")
            api.import_image_from_data(pause_rootfs(), repository=repository, tag=tag,
                                       changes=['ENTRYPOINT ["/pause"]'])

    def pod(self, name: str) -> tuple[str, ...]:
        """A sandbox as the agent creates one to wire itself, and the app in it; (app, pause) ids."""
        api = self.api
        pause = api.create_container(PAUSE_IMAGE, name=f"{name}-pause", hostname=name, labels={LABEL: name},
                                     host_config=api.create_host_config(network_mode="none", ipc_mode="shareable",
                                                                        log_config=LOG_CONFIG))
        api.start(pause)
        joined = f"container:{pause['Id']}"
        app = api.create_container(self.image, COMMAND, name=f"{name}-app", labels={LABEL: name},
                                   host_config=api.create_host_config(network_mode=joined, ipc_mode=joined,
                                                                      log_config=LOG_CONFIG))
        api.start(app)
        return app["Id"], pause["Id"]

    def task(self, name: str) -> tuple[str, ...]:
        """One container on the default bridge, as a Swarm task of a service with no network of its own."""
        api = self.api
        app = api.create_container(self.image, COMMAND, name=name, labels={LABEL: name},
                                   host_config=api.create_host_config(log_config=LOG_CONFIG))
        api.start(app)
        return (app["Id"],)

    def remove(self, ids: tuple[str, ...]) -> None:
        for container_id in ids:
            self.api.remove_container(container_id, force=True)

    def burst(self, make: Callable[[str], tuple[str, ...]], count: int, *, prefix: str = "floor-burst") -> float:
        """Seconds until `count` of `make` (self.pod or self.task) run, all asked for at once; then removed."""
        began = time.perf_counter()
        with ThreadPoolExecutor(self.threads) as pool:
            made = list(pool.map(make, (f"{prefix}-{i}" for i in range(count))))
        took = time.perf_counter() - began
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self.remove, made))
        return took

    def steady(self, rate: float, duration: float, *, lifetime: float) -> list[tuple[float, float]]:
        """(sent, running) times of pods started at `rate` per second, each removed `lifetime` s after it runs."""
        times: list[tuple[float, float]] = []
        timers: list[threading.Timer] = []

        def one(i: int, sent: float) -> None:
            ids = self.pod(f"floor-steady-{i}")
            times.append((sent, time.perf_counter()))
            timer = threading.Timer(lifetime, lambda: pool.submit(self.remove, ids))
            timers.append(timer)
            timer.start()

        with ThreadPoolExecutor(self.threads) as pool:
            began = time.perf_counter()
            for i in range(int(rate * duration)):
                time.sleep(max(0.0, began + i / rate - time.perf_counter()))
                pool.submit(one, i, time.perf_counter())
            while len(timers) < int(rate * duration):
                time.sleep(0.1)
            for timer in timers:
                timer.join()
        return times
