"""One connection to one Docker Engine, and the threads its blocking calls run in.

The Docker client (dockerapi.py) is synchronous; the agent is asyncio. Every Docker call goes
through `Engine.call`, which runs it on this engine's own thread pool, so a
slow daemon never blocks the event loop and never starves other executors.
Tearing down (kill, which for SIGKILL waits for the exit; remove; Docker's
own stop, which waits out a grace period) goes through
`Engine.call_teardown` on threads of its own: a burst of deletions then
never delays a pod's start, which is what users wait for. Each thread
keeps its own keep-alive connection to the daemon's socket. The pools'
threads end after IDLE_SECONDS without work (elastic.py), and their
connections with them, so a burst does not leave them all resident.

Each call is timed (kubelet_runtime_operations_duration_seconds, by the
client method's name) on the thread that makes it.
"""
import asyncio
import functools
import time
from collections.abc import Callable
from typing import TypeVar

from agent.runtime.dockerapi import DockerAPI
from agent.runtime.elastic import ElasticThreadPool
from agent.runtime.errors import translate
from controlplane.metrics import kubelet as metrics

T = TypeVar("T")

DEFAULT_WORKERS = 16
TEARDOWN_WORKERS = 16
IDLE_SECONDS = 10.0


def _timed(fn: Callable[..., T], /, *args, **kwargs) -> T:
    started = time.perf_counter()
    failed = True
    try:
        result = translate(fn, *args, **kwargs)
        failed = False
        return result
    finally:
        metrics.runtime_operation(getattr(fn, "__name__", "call"), time.perf_counter() - started, failed=failed)


class Engine:
    """A Docker API client bound to one daemon, used from asyncio."""

    def __init__(self, api: DockerAPI, *, workers: int = DEFAULT_WORKERS) -> None:
        self.api = api
        self._pool = ElasticThreadPool(workers, thread_name_prefix="docker", idle_seconds=IDLE_SECONDS)
        self._teardown = ElasticThreadPool(TEARDOWN_WORKERS, thread_name_prefix="docker-teardown",
                                           idle_seconds=IDLE_SECONDS)

    @classmethod
    async def connect(cls, base_url: str, *, workers: int = DEFAULT_WORKERS,
                      timeout: float = 60.0) -> "Engine":
        """Connect and negotiate the API version (one round trip, off the loop)."""
        api = DockerAPI(base_url, timeout=timeout)
        await asyncio.to_thread(translate, api.api_version)
        return cls(api, workers=workers)

    async def call(self, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """Run one blocking Docker call on a worker thread; Docker errors become runtime errors."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(_timed, fn, *args, **kwargs))

    async def call_teardown(self, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """As `call`, for stopping and removing: on threads that starting never waits for."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._teardown, functools.partial(_timed, fn, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._teardown.shutdown(wait=False, cancel_futures=True)
        self.api.close()
