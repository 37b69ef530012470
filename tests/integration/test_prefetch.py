import contextvars
import threading
import time

import pytest

from apinotebook.integration._prefetch import prefetch

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def source(n: int, *, fail_at: int | None = None, log: list[str] | None = None):
    try:
        for i in range(n):
            if i == fail_at:
                raise RuntimeError(f"page {i} failed")
            if log is not None:
                log.append(marker.get())
            yield i
        return "token-42"
    finally:
        if log is not None:
            log.append(f"closed in {threading.current_thread().name}")


def drain(gen):
    items = []
    try:
        while True:
            items.append(next(gen))
    except StopIteration as stop:
        return items, stop.value


def test_order_and_return_value_pass_through():
    items, value = drain(prefetch(source(1000), size=128))
    assert items == list(range(1000)) and value == "token-42"


def test_errors_surface_in_the_consumer_after_the_items_before_them():
    gen = prefetch(source(300, fail_at=200))
    got = []
    with pytest.raises(RuntimeError, match="page 200 failed"):
        for item in gen:
            got.append(item)
    assert got == list(range(200))


def test_stopping_early_closes_the_source_and_the_thread():
    log: list[str] = []
    before = threading.active_count()
    gen = prefetch(source(10**9, log=log), size=64)
    assert [next(gen) for _ in range(10)] == list(range(10))
    gen.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before
    assert log[-1] == "closed in apinotebook-source"


def test_the_source_runs_in_the_callers_context():
    log: list[str] = []
    token = marker.set("the integration")
    try:
        drain(prefetch(source(3, log=log)))
    finally:
        marker.reset(token)
    assert log[:3] == ["the integration"] * 3


def test_memory_stays_bounded():
    produced = {"n": 0}

    def counting():
        while True:
            produced["n"] += 1
            yield produced["n"]

    gen = prefetch(counting(), size=256)
    next(gen)
    time.sleep(0.2)
    assert produced["n"] <= 256 + 2 * 64 + 1
    gen.close()
