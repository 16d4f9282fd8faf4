"""The Docker calls' thread pool (agent/runtime/elastic.py): bounded like ThreadPoolExecutor, and
its idle threads end. Plain threads and futures; no Docker needed."""
import threading
import time
from concurrent.futures import CancelledError

import pytest

from agent.runtime.elastic import ElasticThreadPool


def until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_results_and_exceptions_come_back_through_the_futures():
    pool = ElasticThreadPool(2, thread_name_prefix="t")
    try:
        assert pool.submit(lambda a, *, b: a + b, 1, b=2).result(5) == 3
        with pytest.raises(KeyError, match="gone"):
            pool.submit(lambda: {}["gone"]).result(5)
    finally:
        pool.shutdown()


def test_threads_start_with_work_up_to_the_limit_and_end_when_idle():
    pool = ElasticThreadPool(3, thread_name_prefix="t", idle_seconds=0.2)
    gate = threading.Event()
    try:
        assert pool.threads == 0
        futures = [pool.submit(gate.wait, 10) for _ in range(5)]
        assert until(lambda: pool.threads == 3)
        time.sleep(0.3)
        assert pool.threads == 3 and sum(f.done() for f in futures) == 0   # two wait for a thread
        gate.set()
        assert all(f.result(5) for f in futures)
        assert until(lambda: pool.threads == 0), f"{pool.threads} threads still there"
        assert pool.submit(lambda: "again").result(5) == "again"   # a new thread for new work
    finally:
        pool.shutdown()


def test_an_idle_thread_is_reused_rather_than_another_started():
    pool = ElasticThreadPool(8, thread_name_prefix="t", idle_seconds=5)
    try:
        for _ in range(20):
            pool.submit(time.sleep, 0).result(5)
        assert pool.threads == 1
    finally:
        pool.shutdown()


def test_many_submitters_all_done_within_the_limit():
    pool = ElasticThreadPool(4, thread_name_prefix="t", idle_seconds=0.01)   # threads come and go
    seen: set[str] = set()
    results = []

    def submitter(n: int) -> None:
        for i in range(200):
            results.append(pool.submit(lambda x: (seen.add(threading.current_thread().name), x)[1], n * 1000 + i))
    try:
        submitters = [threading.Thread(target=submitter, args=(n,)) for n in range(4)]
        for t in submitters:
            t.start()
        for t in submitters:
            t.join()
        assert sorted(f.result(10) for f in results) == sorted(n * 1000 + i for n in range(4) for i in range(200))
        assert pool.threads <= 4
    finally:
        pool.shutdown()


def test_shutdown_cancels_what_waits_and_refuses_more():
    pool = ElasticThreadPool(1, thread_name_prefix="t")
    gate = threading.Event()
    running = pool.submit(gate.wait, 10)
    waiting = pool.submit(lambda: "never")
    assert until(lambda: running.running())
    pool.shutdown(wait=False, cancel_futures=True)
    with pytest.raises(CancelledError):
        waiting.result(1)
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(lambda: None)
    gate.set()
    assert running.result(5) is True
    assert until(lambda: pool.threads == 0)
