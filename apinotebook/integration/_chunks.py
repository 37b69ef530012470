"""A run in bounded chunks: what an orchestrator's tasks call, one chunk per task.

``Integration.run()`` streams a source in flat memory, but an orchestrator
wants units it can retry and show: :func:`run_in_chunks` calls
``run_chunk(n)`` (a task that runs the integration with ``limit=n``) until
the source is exhausted. Each chunk reads from the checkpoint the previous
one left, delivers in batches and checkpoints after every batch, so no
records ever sit in a list between tasks, a failed chunk is retried from
its last checkpoint, and memory stays flat however large the source.

Chunks need a cursor to resume from: a source without a cursor field (a
sync token the generator returns) runs as one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apinotebook._exceptions import ConfigError
from apinotebook.integration._report import COUNTS, RunReport

__all__ = ["merge_reports", "run_in_chunks"]

#: records per chunk by default (each chunk is one orchestrator task)
CHUNK = 10_000


def merge_reports(name: str, reports: list[RunReport], *, trigger: str) -> RunReport:
    """One report for a run made of several (chunks, partitions)."""
    merged = RunReport(name, trigger=trigger)
    for report in reports:
        for count in COUNTS:
            setattr(merged, count, getattr(merged, count) + getattr(report, count))
        for step, seconds in report.steps.items():
            merged.steps[step] = merged.steps.get(step, 0.0) + seconds
        merged.errors.update(report.errors)
    if reports:
        merged.started_at = reports[0].started_at
        merged.cursor_before = reports[0].cursor_before
        merged.cursor_after = reports[-1].cursor_after
    statuses = {r.status for r in reports}
    failed = next((r for r in reports if r.status not in ("ok", "partial")), None)
    if failed is not None:
        merged.finish(failed.status, failed.error)
    else:
        merged.finish("partial" if "partial" in statuses else "ok")
    return merged


def run_in_chunks(
    integration: Any,
    run_chunk: Callable[[int | None], RunReport],
    *,
    chunk: int = CHUNK,
    limit: int | None = None,
    trigger: str = "prefect",
) -> RunReport:
    """Call ``run_chunk(n)`` until the source is exhausted (or ``limit`` records were read).

    Args:
        integration: the :class:`~apinotebook.integration.Integration` (for
            its name and whether its source has a cursor).
        run_chunk: runs the integration once with ``limit=n`` and returns
            its report (``n`` is ``None`` for a source without a cursor).
        chunk: records per chunk.
        limit: stop after this many records (``None``: the whole source).
        trigger: the merged report's trigger.

    Returns:
        one report for the whole run.
    """
    if chunk < 1:
        raise ConfigError(f"chunk={chunk!r}: a chunk must hold at least one record")
    source = getattr(integration, "_source", None)
    if source is None or source.cursor is None:  # nothing to resume from: one chunk
        return merge_reports(integration.name, [run_chunk(limit)], trigger=trigger)
    reports: list[RunReport] = []
    read = 0
    while limit is None or read < limit:
        size = chunk if limit is None else min(chunk, limit - read)
        report = run_chunk(size)
        reports.append(report)
        read += report.read
        progressed = report.cursor_after != report.cursor_before or (
            report.written + report.failed + report.skipped_filtered
        )
        if report.status not in ("ok", "partial") or report.read < size or not progressed:
            break
    return merge_reports(integration.name, reports, trigger=trigger)
