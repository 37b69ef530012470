"""A run in bounded chunks (what the Prefect target's tasks do), on both state backends."""

from __future__ import annotations

from typing import Any

import pytest

from apinotebook import ConfigError, Exchange, FatalIntegrationError, HTTPStatusError, Request
from apinotebook.integration import Integration, RunReport, run_in_chunks


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i:05d}", "updated_at": f"2026-01-01T{i:05d}"} for i in range(n)]


class Chunked:
    """An integration over ``n`` records; counts deliveries and the records each chunk read."""

    def __init__(self, state: str, n: int, *, cursor: bool = True, name: str = "chunks") -> None:
        self.rows = records(n)
        self.delivered: list[str] = []
        self.reads: list[int] = []  # records the source yielded, per chunk
        self.fail_at: int | None = None
        self.sync = Integration(name, state=state, progress=None, read_ahead=0)

        def source(since: Any) -> Any:
            self.reads.append(0)
            for row in self.rows:
                if since is None or row["updated_at"] >= since:
                    self.reads[-1] += 1
                    yield row

        self.sync.source(key="id", cursor="updated_at" if cursor else None)(source)

        @self.sync.destination(batch_size=100, retries=0)
        def deliver(batch: Any) -> None:
            if self.fail_at is not None and len(self.delivered) >= self.fail_at:
                revoked = Exchange(
                    protocol="rest", request=Request("POST", "https://d/x"), status=401
                )
                raise HTTPStatusError("401", exchange=revoked)  # fatal: the chunk stops
            self.delivered.extend(r["id"] for r in batch)

    def chunk(self, limit: int | None) -> RunReport:
        return self.sync.run(limit=limit, trigger="prefect")


def test_chunks_deliver_everything_once_with_a_checkpoint_each(state_url: str) -> None:
    c = Chunked(state_url, 2_500)
    report = run_in_chunks(c.sync, c.chunk, chunk=1_000)
    assert sorted(c.delivered) == [r["id"] for r in c.rows]  # 0 lost, 0 duplicated
    assert report.written == 2_500 and report.status == "ok" and report.trigger == "prefect"
    runs = c.sync.store.runs(10)[::-1]
    assert len(runs) == 3  # one run (and checkpoint) per chunk
    cursors = [r["report"]["cursor_after"] for r in runs]
    assert cursors == sorted(cursors) and cursors[-1] == c.rows[-1]["updated_at"]
    # a chunk never read more than its size (plus the source's own look-ahead of 0)
    assert all(read <= 1_000 + 1 for read in c.reads[:-1])
    assert report.read - report.skipped_duplicate == 2_500


def test_a_failed_chunk_resumes_from_its_last_checkpoint(state_url: str) -> None:
    c = Chunked(state_url, 2_500)
    c.fail_at = 1_300
    with pytest.raises(FatalIntegrationError):
        run_in_chunks(c.sync, c.chunk, chunk=1_000)
    assert len(c.delivered) == 1_300  # chunk 1 and three batches of chunk 2
    c.fail_at = None
    run_in_chunks(c.sync, c.chunk, chunk=1_000)  # the orchestrator retries
    assert sorted(c.delivered) == [r["id"] for r in c.rows]


def test_limit_and_a_source_without_a_cursor(state_url: str) -> None:
    c = Chunked(state_url, 2_500)
    report = run_in_chunks(c.sync, c.chunk, chunk=1_000, limit=1_500)
    assert report.read == 1_500  # records read, the boundary record read again included
    assert len(c.delivered) == report.read - report.skipped_duplicate
    token = Chunked(state_url, 300, cursor=False, name="tokens")
    seen: list[int | None] = []

    def one(limit: int | None) -> RunReport:
        seen.append(limit)
        return token.chunk(limit)

    assert run_in_chunks(token.sync, one, chunk=100).written == 300
    assert seen == [None]  # nothing to resume from: one chunk, streamed


def test_a_chunk_must_hold_a_record(tmp_path: Any) -> None:
    c = Chunked(str(tmp_path / "s.db"), 1)
    with pytest.raises(ConfigError, match="at least one record"):
        run_in_chunks(c.sync, c.chunk, chunk=0)
