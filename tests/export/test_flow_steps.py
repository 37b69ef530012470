"""The extract / transform / load steps of the Prefect target, without Prefect.

They run the same Integration and state file as the script target, so a
retried load delivers nothing twice and dead letters are shared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apinotebook import FatalIntegrationError
from apinotebook.export._prefect import extract_records, load_records, map_records
from apinotebook.integration import Integration


def build(
    tmp_path: Path, rows: list[dict], sink: list[dict], fail: list[Exception | None]
) -> Integration:
    sync = Integration("steps", state=tmp_path / "steps.db", progress=None)

    @sync.source(key="id", cursor="v")
    def read(since: Any) -> Any:
        yield from (r for r in rows if since is None or r["v"] >= since)

    @sync.transform
    def keep_even(row: dict) -> dict | None:
        if row["id"] == 3:
            raise ValueError("three is not allowed")
        return row if row["id"] % 2 == 0 else None

    @sync.transform
    def shape(row: dict) -> dict:
        return {"key": row["id"]}

    @sync.destination(batch_size=2, retries=0)
    def write(batch: Any) -> None:
        error = fail.pop(0) if fail else None
        if error is not None:
            raise error
        sink.extend(batch)

    return sync


ROWS = [{"id": i, "v": f"2026-01-0{i}"} for i in range(1, 7)]


def test_steps_share_the_integrations_state(tmp_path: Path) -> None:
    sink: list[dict] = []
    sync = build(tmp_path, ROWS, sink, [])
    extracted = extract_records(sync)
    assert [r["id"] for r in extracted.records] == [1, 2, 3, 4, 5, 6]
    mapped = map_records(sync, extracted)
    assert mapped.counts() == {"filtered": 2, "error": 1, "ok": 3}
    report = load_records(sync, mapped)
    assert sink == [{"key": 2}, {"key": 4}, {"key": 6}]
    assert (report.read, report.written, report.failed, report.skipped_filtered) == (6, 3, 1, 2)
    assert report.trigger == "prefect" and report.exit_code == 1
    assert [d.error for d in sync.dead_letters] == ["ValueError: three is not allowed"]
    assert sync.state["cursor"] == "2026-01-06"
    # a plain run of the same integration (the script target) sees the checkpoint
    again = sync.run(progress=None)
    assert again.written == 0 and again.read == 1  # the record at the checkpoint, a duplicate
    sync.close()


def test_a_retried_load_delivers_nothing_twice(tmp_path: Path) -> None:
    sink: list[dict] = []
    # the first batch goes through, then the destination stops the run
    sync = build(tmp_path, ROWS, sink, [None, FatalIntegrationError("mail is down")])
    mapped = map_records(sync, extract_records(sync))
    with pytest.raises(FatalIntegrationError, match="mail is down"):
        load_records(sync, mapped)
    assert sink == [{"key": 2}, {"key": 4}]
    retried = load_records(sync, mapped)  # what Prefect's retry does: the same input again
    assert retried.written == 1 and sink == [{"key": 2}, {"key": 4}, {"key": 6}]
    sync.close()


def test_limit_and_an_empty_source(tmp_path: Path) -> None:
    sink: list[dict] = []
    sync = build(tmp_path, ROWS, sink, [])
    extracted = extract_records(sync, limit=2)
    assert len(extracted.records) == 2 and extracted.final is None
    load_records(sync, map_records(sync, extracted), limit=2)
    assert sink == [{"key": 2}]
    sync.close()
    (tmp_path / "e").mkdir()
    empty = build(tmp_path / "e", [], [], [])
    report = load_records(empty, map_records(empty, extract_records(empty)))
    assert report.read == 0 and report.ok
    empty.close()


def test_the_integration_is_restored_after_a_load(tmp_path: Path) -> None:
    sync = build(tmp_path, ROWS, [], [])
    source, transforms = sync._source, list(sync._transforms)
    load_records(sync, map_records(sync, extract_records(sync)))
    assert sync._source is source and sync._transforms == transforms
    sync.close()
