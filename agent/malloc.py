"""glibc malloc, tuned for a process that mostly waits: fewer arenas, free pages handed back.

Each thread that allocates may get an arena of its own (up to 8 per core),
and freed memory stays in the arenas, resident, until malloc itself decides
to give it back, which it does only from the top of a heap. The agent's
bursts (30 pods started, their Docker calls on a pool of threads) leave
such holes; malloc_trim returns every whole free page to the kernel. What
each saves is measured by bench/agent_memory_bench.py. Not glibc: nothing
to tune, and both are no-ops.
"""
import asyncio
import ctypes
import functools

M_ARENA_MAX = -8   # mallopt parameter (glibc malloc.h)
TRIM_SECONDS = 15.0


@functools.cache   # loaded once: trim() runs every TRIM_SECONDS for the agent's life
def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def fewer_arenas(arenas: int = 2) -> None:
    """Cap the arenas (before threads start): two are plenty for the agent."""
    if (libc := _libc()) is not None:
        libc.mallopt(M_ARENA_MAX, arenas)


def trim() -> None:
    if (libc := _libc()) is not None:
        libc.malloc_trim(0)


async def trim_periodically(period: float = TRIM_SECONDS) -> None:
    """Hand free pages back every `period` seconds, for as long as the agent runs (about a millisecond each,
    on a worker thread: malloc_trim walks the heaps)."""
    while True:
        await asyncio.sleep(period)
        await asyncio.to_thread(trim)
