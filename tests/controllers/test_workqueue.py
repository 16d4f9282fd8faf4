"""The work queue: de-duplication, one worker per key, delayed and rate-limited adds."""
import asyncio

import pytest

from controlplane.controllers.workqueue import ShutDown, WorkQueue


async def test_a_key_added_twice_is_handed_out_once():
    queue = WorkQueue()
    queue.add("a")
    queue.add("b")
    queue.add("a")
    assert [await queue.get(), await queue.get()] == ["a", "b"]
    assert len(queue) == 0


async def test_a_key_added_while_processing_waits_until_done():
    queue = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")                      # changed again while a worker has it
    assert len(queue) == 0              # not handed to a second worker meanwhile
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not second.done()
    queue.done(key)
    assert await asyncio.wait_for(second, 1) == "a"


async def test_done_without_a_new_add_does_not_requeue():
    queue = WorkQueue()
    queue.add("a")
    queue.done(await queue.get())
    assert len(queue) == 0


async def test_add_after_delays_and_the_earliest_pending_add_wins():
    queue = WorkQueue()
    loop = asyncio.get_running_loop()
    start = loop.time()
    queue.add_after("a", 0.5)
    queue.add_after("a", 0.05)          # earlier: replaces
    queue.add_after("a", 1.0)           # later: ignored
    assert await asyncio.wait_for(queue.get(), 2) == "a"
    assert 0.04 <= loop.time() - start < 0.4
    queue.done("a")
    await asyncio.sleep(0.6)
    assert len(queue) == 0              # the replaced 0.5 s add did not fire


async def test_rate_limited_adds_back_off_exponentially_until_forgotten():
    queue = WorkQueue(base_delay=0.01, max_delay=0.08)
    assert [queue.backoff(n) for n in range(5)] == [0.01, 0.02, 0.04, 0.08, 0.08]
    loop = asyncio.get_running_loop()
    for expected in (0.01, 0.02, 0.04):
        start = loop.time()
        queue.add_rate_limited("k")
        key = await asyncio.wait_for(queue.get(), 1)
        assert loop.time() - start >= expected * 0.9
        queue.done(key)
    assert queue.failures("k") == 3
    queue.forget("k")
    assert queue.failures("k") == 0


async def test_shut_down_releases_idle_workers_and_refuses_new_keys():
    queue = WorkQueue()
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    queue.shut_down()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(waiting, 1)
    queue.add("late")
    assert len(queue) == 0
