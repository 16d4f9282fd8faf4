"""The scheduling queue: order, back-off, parking and event-driven retries."""
import asyncio

import pytest

from controlplane.scheduler.framework import Action, ClusterEvent, EventInterest, Resource
from controlplane.scheduler.plugins.prioritysort import PrioritySort
from controlplane.scheduler.queue import ACTIVE, BACKOFF, UNSCHEDULABLE, SchedulingQueue
from tests.scheduler.builders import info, pod


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


INTERESTS = {
    "NodeResourcesFit": [EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_ALLOCATABLE),
                         EventInterest(Resource.ASSIGNED_POD, Action.DELETE)],
    "NodeAffinity": [EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_LABELS,
                                   hint=lambda p, e: e.new is None or e.new.get("zone") == "z2")],
}


def _queue(clock):
    return SchedulingQueue(PrioritySort().sort_key, interests=INTERESTS, clock=clock)


async def _pop(queue):
    return await asyncio.wait_for(queue.pop(), 1)


async def _parked(clock, plugin: str = "NodeResourcesFit") -> SchedulingQueue:
    """A queue holding pod "p", found unschedulable by `plugin`."""
    queue = _queue(clock)
    queue.add(info(pod("p")))
    queue.unschedulable(await _pop(queue), {plugin})
    return queue


async def test_higher_priority_first_then_first_come():
    clock = Clock()
    queue = _queue(clock)
    for name, priority in (("a", 0), ("b", 10), ("c", 0)):
        queue.add(info(pod(name), priority=priority))
        clock.now += 1
    assert [(await _pop(queue)).info.name for _ in range(3)] == ["b", "a", "c"]


async def test_pop_waits_for_a_pod():
    queue = _queue(Clock())
    waiter = asyncio.create_task(queue.pop())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    queue.add(info(pod("late")))
    assert (await asyncio.wait_for(waiter, 1)).info.name == "late"


async def test_unschedulable_pods_wait_for_an_event_their_plugins_care_about():
    clock = Clock()
    queue = await _parked(clock)
    assert queue.counts()[UNSCHEDULABLE] == 1
    assert queue.on_event(ClusterEvent(Resource.NODE, Action.UPDATE_LABELS)) == 0       # not interesting
    assert queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.ADD)) == 0
    assert queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.DELETE)) == 1
    assert queue.counts()[BACKOFF] == 1          # first retry waits 1 s
    clock.now += 1.01
    assert (await _pop(queue)).info.name == "p"


async def test_hints_filter_events():
    queue = await _parked(Clock(), "NodeAffinity")
    assert queue.on_event(ClusterEvent(Resource.NODE, Action.ADD, new={"zone": "z1"})) == 0
    assert queue.on_event(ClusterEvent(Resource.NODE, Action.ADD, new={"zone": "z2"})) == 1


async def test_backoff_doubles_to_the_maximum():
    clock = Clock()
    queue = _queue(clock)
    queue.add(info(pod("p")))
    waits = []
    for _ in range(6):
        queued = await _pop(queue)
        queue.retry(queued)
        waits.append(round(queued.backoff_until - clock.now, 3))
        clock.now = queued.backoff_until
    assert waits == [1, 2, 4, 8, 10, 10]


async def test_backoff_wakes_pop_without_polling():
    queue = SchedulingQueue(PrioritySort().sort_key, interests={}, initial_backoff=0.05)
    queue.add(info(pod("p")))
    queue.retry(await _pop(queue))
    started = asyncio.get_running_loop().time()
    await _pop(queue)
    assert 0.04 <= asyncio.get_running_loop().time() - started < 0.5


async def test_an_event_during_the_attempt_means_back_off_not_park():
    clock = Clock()
    queue = _queue(clock)
    queue.add(info(pod("p")))
    queued = await _pop(queue)
    queue.on_event(ClusterEvent(Resource.NODE, Action.ADD))       # while "p" is being tried
    queue.unschedulable(queued, {"NodeResourcesFit"})
    assert queue.counts()[BACKOFF] == 1


async def test_parked_pods_are_retried_after_five_minutes_anyway():
    clock = Clock()
    queue = await _parked(clock)
    clock.now += 301
    assert (await _pop(queue)).info.name == "p"


async def test_an_update_to_a_parked_pod_retries_it_and_delete_removes_it():
    clock = Clock()
    queue = await _parked(clock)
    clock.now += 5
    queue.add(info(pod("p", labels={"changed": "yes"})))
    assert queue.counts()[ACTIVE] == 1
    queue.delete(("default", "p"))
    assert len(queue) == 0
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(queue.pop(), 0.05)


async def test_done_and_retry_after_a_newer_copy():
    queue = _queue(Clock())
    queue.add(info(pod("p")))
    queued = await _pop(queue)
    queue.done(queued.info.key)
    assert len(queue) == 0
    queue.add(info(pod("p", labels={"v": "2"})))   # e.g. an update while its bind was in flight
    queue.retry(queued)                               # the old attempt's failure must not replace it
    assert (await _pop(queue)).info.labels == {"v": "2"}


async def test_only_if_keeps_events_away_from_pods_they_cannot_help():
    seen = []
    interests = {"InterPodAffinity": [EventInterest(Resource.ASSIGNED_POD, Action.ADD,
                                                    hint=lambda p, e: seen.append(p.name) or True,
                                                    only_if=lambda p: bool(p.required_affinity))]}
    queue = SchedulingQueue(PrioritySort().sort_key, interests=interests, clock=Clock())
    affinity = {"pod_affinity": {"required_during_scheduling_ignored_during_execution": [
        {"label_selector": {"match_labels": {"app": "db"}}, "topology_key": "zone"}]}}
    queue.add(info(pod("plain")))
    queue.add(info(pod("attracted", affinity=affinity)))
    for _ in range(2):
        queue.unschedulable(await _pop(queue), {"InterPodAffinity"})
    assert queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.ADD)) == 1
    assert seen == ["attracted"]
