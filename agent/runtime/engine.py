"""One connection to one Docker Engine, and the threads its blocking calls run in.

docker-py is synchronous; the agent is asyncio. Every Docker call goes
through `Engine.call`, which runs it on this engine's own thread pool, so a
slow daemon never blocks the event loop and never starves other executors.
Calls that mostly wait (Docker's own stop, which waits out the grace
period) go through `Engine.call_waiting` on threads of their own, so they
cannot hold up other calls. The HTTP connection pool is as large as both pools: each
thread keeps its own keep-alive connection to the daemon's socket.

Only the low-level `docker.APIClient` is used: the model layer re-inspects
objects behind the caller's back, which costs a round trip per call.
"""
import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import docker

from agent.runtime.errors import translate

T = TypeVar("T")

DEFAULT_WORKERS = 16
WAITING_WORKERS = 16


class Engine:
    """A docker-py APIClient bound to one daemon, used from asyncio."""

    def __init__(self, api: docker.APIClient, *, workers: int = DEFAULT_WORKERS) -> None:
        self.api = api
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="docker")
        self._waiting = ThreadPoolExecutor(max_workers=WAITING_WORKERS, thread_name_prefix="docker-wait")

    @classmethod
    async def connect(cls, base_url: str, *, workers: int = DEFAULT_WORKERS,
                      timeout: float = 60.0) -> "Engine":
        """Connect and negotiate the API version (one round trip, off the loop)."""
        api = await asyncio.to_thread(
            docker.APIClient, base_url=base_url, version="auto", timeout=timeout,
            max_pool_size=workers + WAITING_WORKERS)
        return cls(api, workers=workers)

    async def call(self, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """Run one blocking docker-py call on a worker thread; Docker errors become runtime errors."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(translate, fn, *args, **kwargs))

    async def call_waiting(self, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """As `call`, for a call that may wait for a long time (a stop with a grace period)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._waiting, functools.partial(translate, fn, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._waiting.shutdown(wait=False, cancel_futures=True)
        self.api.close()
