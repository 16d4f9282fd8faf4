"""Waiting for a condition in tests, without sleeping longer than needed."""
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 20.0,
                     interval: float = 0.05, what: str = "condition") -> T:
    """Await `probe()` until it returns something truthy; its last value is returned.

    Fails with the last value seen (or the last exception) after `timeout`.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = await probe()
            if last:
                return last
        except AssertionError as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        await asyncio.sleep(interval)
