"""Partitions: each slice of a source has its own checkpoint; rebalancing; a failed one alone."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from typing import Any

import pytest

from apinotebook import ConfigError, Exchange, HTTPStatusError, Request
from apinotebook.integration import (
    Integration,
    Partition,
    StateStore,
    date_windows,
    id_ranges,
)


def test_id_ranges_and_date_windows_cover_everything_once() -> None:
    ranges = id_ranges(0, 10, 3)
    assert [p.params for p in ranges] == [(0, 4), (4, 8), (8, 10)]
    assert [p.id for p in ranges] == ["ids-0", "ids-1", "ids-2"]
    windows = date_windows(date(2026, 1, 30), date(2026, 2, 3), days=2)
    assert [p.params for p in windows] == [
        (date(2026, 1, 30), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 2, 3)),
    ]
    assert windows[0].id == "20260130"
    with pytest.raises(ConfigError):
        id_ranges(5, 5, 2)
    with pytest.raises(ConfigError):
        date_windows(date(2026, 1, 2), date(2026, 1, 1))


class World:
    """Records with integer ids; a destination that counts every delivery."""

    def __init__(self, n: int) -> None:
        self.rows = [self.row(i, 1) for i in range(n)]
        self.delivered: Counter[int] = Counter()
        self.broken: set[int] = set()  # ids whose delivery fails as a revoked token
        self.lock = threading.Lock()
        self.sources: Counter[str] = Counter()  # partition id -> source calls

    @staticmethod
    def row(i: int, version: int) -> dict[str, Any]:
        return {"id": i, "updated_at": f"2026-01-{version:02d}T{i:06d}"}

    def source(self, since: Any, partition: Partition) -> Any:
        low, high = partition.params
        with self.lock:
            self.sources[partition.id] += 1
        for row in sorted(self.rows, key=lambda r: r["updated_at"]):
            if low <= row["id"] < high and (since is None or row["updated_at"] >= since):
                yield row

    def write(self, batch: Any) -> None:
        if any(r["id"] in self.broken for r in batch):
            revoked = Exchange(protocol="rest", request=Request("POST", "https://d/x"), status=401)
            raise HTTPStatusError("401", exchange=revoked)
        with self.lock:
            self.delivered.update(r["id"] for r in batch)


def build(world: World, state: str, partitions: Any, concurrency: int = 2) -> Integration:
    sync = Integration("parts", state=state, progress=None)
    sync.partitioned(partitions, concurrency=concurrency)
    sync.source(key="id", cursor="updated_at")(world.source)
    sync.destination(batch_size=50, retries=0)(world.write)
    return sync


def test_partitions_run_concurrently_each_with_its_own_checkpoint(state_url: str) -> None:
    world = World(1_000)
    sync = build(world, state_url, id_ranges(0, 1_000, 4))
    report = sync.run()
    assert report.written == 1_000 and report.status == "ok"
    assert set(world.delivered) == set(range(1_000)) and set(world.delivered.values()) == {1}
    for p in sync.partitions():
        store = StateStore(state_url, f"parts.{p.id}")
        try:
            low, high = p.params
            assert store.seen_count() == high - low
            assert store.cursor() == World.row(high - 1, 1)["updated_at"]
        finally:
            store.close()
    assert sync.run().written == 0  # every partition resumes from its checkpoint


def test_a_partition_added_later_starts_fresh_and_the_others_resume(state_url: str) -> None:
    world = World(2_000)
    current = id_ranges(0, 2_000, 2)
    sync = build(world, state_url, lambda: current)
    assert sync.run().written == 2_000
    # rebalanced: a third partition for new ids, and updates in the first one
    world.rows += [World.row(i, 1) for i in range(2_000, 2_300)]
    world.rows = [World.row(i, 2) if i < 10 else r for i, r in enumerate(world.rows)]
    current = [*current, Partition("ids-new", (2_000, 3_000))]
    report = sync.run()
    assert report.written == 310 and report.status == "ok"
    assert set(world.delivered) == set(range(2_300))
    assert sorted(i for i, n in world.delivered.items() if n > 1) == list(range(10))  # updates


def test_a_failed_partition_is_retried_alone(state_url: str) -> None:
    world = World(900)
    world.broken = {700}  # in ids-2 (600-899): that partition stops at its first bad batch
    sync = build(world, state_url, id_ranges(0, 900, 3), concurrency=3)
    report = sync.run()
    assert report.status == "failed"
    assert set(range(600)) <= set(world.delivered) and 700 not in world.delivered
    calls_before = dict(world.sources)
    missing = 900 - len(world.delivered)
    world.broken = set()
    again = sync.run_partitions(only=["ids-2"])
    assert again.status == "ok" and again.written == missing > 0
    assert set(world.delivered) == set(range(900)) and set(world.delivered.values()) == {1}
    assert world.sources["ids-0"] == calls_before["ids-0"]  # the others were not run again


def test_partition_errors(state_url: str, tmp_path: Any) -> None:
    world = World(10)
    sync = build(world, state_url, [Partition("a", (0, 5)), Partition("a", (5, 10))])
    with pytest.raises(ConfigError, match="unique"):
        sync.run()
    sync.partitioned([Partition("a", (0, 10))])
    with pytest.raises(ConfigError, match="Unknown partition 'b'"):
        sync.run_partitions(only=["b"])
    with pytest.raises(ConfigError, match="Unknown partition"):
        sync.partition("zz")
    with pytest.raises(ConfigError, match="bad id"):
        sync.partitioned([Partition("bad id", None)])
        sync.partitions()
    memory = Integration("mem", state=":memory:", progress=None)
    with pytest.raises(ConfigError, match="memory"):
        memory.partitioned(id_ranges(0, 10, 2))
