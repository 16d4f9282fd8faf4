"""Leader election through a Lease: one leader at a time, release on stop, takeover on expiry."""
import asyncio

import pytest

from controlplane.client.leaderelection import LeaderElector


def _elector(client, identity, **timing):
    timing = {"lease_duration": 1.0, "renew_deadline": 0.6, "retry_period": 0.1, **timing}
    return LeaderElector(client, name="test-lock", identity=identity, **timing)


class Work:
    """A leader's work: records when it runs."""

    def __init__(self):
        self.running = asyncio.Event()
        self.cancelled = False

    async def __call__(self):
        self.running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_one_leader_then_a_clean_handover(client):
    electors = [_elector(client, "a"), _elector(client, "b")]
    works = [Work(), Work()]
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(e.run(w, stop=s)) for e, w, s in zip(electors, works, stops)]
    try:
        await asyncio.wait_for(asyncio.wait([asyncio.ensure_future(w.running.wait()) for w in works],
                                            return_when=asyncio.FIRST_COMPLETED), 5)
        await asyncio.sleep(0.5)
        leader = 0 if works[0].running.is_set() else 1
        other = 1 - leader
        assert electors[leader].is_leader and not electors[other].is_leader
        assert not works[other].running.is_set()
        lease = await client.resource("Lease").get("test-lock", namespace="kube-system")
        assert lease.spec.holder_identity == "ab"[leader] and lease.spec.lease_duration_seconds == 1
        stops[leader].set()
        await asyncio.wait_for(tasks[leader], 5)
        assert works[leader].cancelled
        # Released: the other takes over well within one lease duration.
        await asyncio.wait_for(works[other].running.wait(), 0.8)
        lease = await client.resource("Lease").get("test-lock", namespace="kube-system")
        assert lease.spec.holder_identity == "ab"[other] and lease.spec.lease_transitions == 1
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks)


async def test_a_vanished_leader_is_replaced_after_its_lease_runs_out(client):
    crashed, successor = _elector(client, "crashed"), _elector(client, "successor")
    work = Work()
    crashing = asyncio.create_task(crashed.run(Work(), stop=asyncio.Event()))
    await asyncio.sleep(0.3)
    crashing.cancel()                      # no release: as if the process died
    await asyncio.gather(crashing, return_exceptions=True)
    stop = asyncio.Event()
    started = asyncio.get_running_loop().time()
    task = asyncio.create_task(successor.run(work, stop=stop))
    await asyncio.wait_for(work.running.wait(), 5)
    waited = asyncio.get_running_loop().time() - started
    assert 0.9 <= waited < 3, waited       # it had to wait for the lease to expire, by its own clock
    stop.set()
    await task


async def test_timings_must_nest(client):
    with pytest.raises(ValueError):
        _elector(client, "x", lease_duration=1.0, renew_deadline=2.0)
