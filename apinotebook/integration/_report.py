"""What a run did: :class:`RunReport` for real runs, :class:`DryRunReport` for dry runs.

Both have a text summary (scripts, logs), ``to_frame()`` and an HTML view
that notebooks show without any widget library: counts, time per step and a
small inline-SVG chart of throughput and latency over the run.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from apinotebook._core.secrets import mask_text
from apinotebook._exceptions import FatalIntegrationError
from apinotebook.contract import ShapeDrift

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DryRunReport", "DryRunRow", "RunReport"]

#: Timeline points kept per run (older points are thinned out, not dropped).
MAX_SAMPLES = 400

COUNTS = (
    "read",
    "mapped",
    "skipped_duplicate",
    "skipped_filtered",
    "written",
    "failed",
    "dead_lettered",
    "retries",
    "batches",
)
STEPS = ("source", "transform", "dedupe", "destination", "state")


@dataclass
class RunReport:
    """Counts, timings and outcome of one run.

    ``read`` records came from the source; ``skipped_duplicate`` had been
    delivered before in the same version; ``skipped_filtered`` were dropped by
    the transform (it returned ``None``); ``mapped`` went on to the
    destination, which confirmed ``written`` of them; ``failed`` records
    could not be mapped or delivered and every one of them is among the
    ``dead_lettered`` (nothing is lost). ``retries`` counts batch retries.
    """

    integration: str
    trigger: str = "manual"
    run_id: int | None = None
    status: str = "running"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    read: int = 0
    mapped: int = 0
    skipped_duplicate: int = 0
    skipped_filtered: int = 0
    written: int = 0
    failed: int = 0
    dead_lettered: int = 0
    retries: int = 0
    batches: int = 0
    steps: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STEPS, 0.0))
    cursor_before: Any = None
    cursor_after: Any = None
    error: str | None = None
    errors: Counter[str] = field(default_factory=Counter)
    #: (seconds since start, records written so far, batch latency in seconds)
    samples: list[tuple[float, int, float]] = field(default_factory=list)
    #: how the source's records changed shape since the baseline (``ShapeDrift.to_dict()``)
    drift: dict[str, Any] | None = None
    #: the shape the next run is compared with (stored with the run: see ``_drift.py``)
    schema_baseline: dict[str, Any] | None = field(default=None, repr=False)
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    # -- recording ---------------------------------------------------------------

    def sample(self, latency: float) -> None:
        """Add a timeline point after a batch."""
        self.samples.append((time.perf_counter() - self._t0, self.written, latency))
        if len(self.samples) > MAX_SAMPLES:
            self.samples = self.samples[::2]

    def finish(self, status: str, error: str | None = None) -> RunReport:
        """Close the report."""
        self.status = status
        self.error = mask_text(error) if error else None
        self.finished_at = datetime.now(UTC)
        self._elapsed = time.perf_counter() - self._t0
        return self

    # -- derived ---------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Seconds the run took (so far, while running)."""
        return getattr(self, "_elapsed", time.perf_counter() - self._t0)

    @property
    def throughput(self) -> float:
        """Records written per second."""
        return self.written / self.duration if self.duration > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when the run finished and no record failed."""
        return self.status == "ok"

    @property
    def exit_code(self) -> int:
        """0 for success, 1 when records failed (dead-lettered), 2 when the run stopped."""
        return {"ok": 0, "partial": 1}.get(self.status, 2)

    def raise_for_status(self) -> RunReport:
        """Raise :class:`FatalIntegrationError` if the run stopped; return ``self``."""
        if self.status not in ("ok", "partial"):
            raise FatalIntegrationError(self.error or f"run ended with status {self.status}")
        return self

    # -- renderings ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the run in the state file)."""
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["duration"] = round(self.duration, 6)
        data["throughput"] = round(self.throughput, 3)
        data["errors"] = dict(self.errors.most_common(20))
        data["samples"] = [list(s) for s in self.samples]
        return data

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: the counts, then seconds per step."""
        import pandas as pd

        rows = [(name, getattr(self, name)) for name in COUNTS]
        rows += [(f"seconds.{k}", round(v, 6)) for k, v in self.steps.items()]
        rows += [("duration", round(self.duration, 6)), ("throughput", round(self.throughput, 3))]
        return pd.DataFrame(rows, columns=["metric", "value"])

    def timeline(self) -> pd.DataFrame:
        """The samples: seconds since start, records written, batch latency."""
        import pandas as pd

        return pd.DataFrame(self.samples, columns=["elapsed", "written", "latency"])

    def summary(self) -> str:
        """A few lines for a terminal or a log."""
        head = (
            f"{self.integration}: {self.status} in {self.duration:.2f}s — read {self.read}, "
            f"written {self.written}, duplicates skipped {self.skipped_duplicate}, "
            f"filtered {self.skipped_filtered}, failed {self.failed} "
            f"(dead-lettered {self.dead_lettered}), retries {self.retries}, "
            f"{self.throughput:.0f} records/s"
        )
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in self.steps.items() if v)
        lines = [head]
        if steps:
            lines.append(f"  time per step: {steps}")
        if self.errors:
            top = "; ".join(f"{n}× {e}" for e, n in self.errors.most_common(3))
            lines.append(f"  errors: {top}")
        if self.drift:
            lines.append(f"  schema drift: {drift_text(self.drift)}")
        if self.error:
            lines.append(f"  stopped: {self.error}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<RunReport {self.integration} {self.status} read={self.read} "
            f"written={self.written} failed={self.failed} {self.duration:.2f}s>"
        )

    def _repr_html_(self) -> str:
        color = {"ok": "#1b7f3b", "partial": "#c75000"}.get(self.status, "#b00020")
        cells = "".join(
            f"<td style='padding:2px 8px'><div style='font-size:18px'>{getattr(self, n)}</div>"
            f"<div style='font-size:11px;color:#666'>{n.replace('_', ' ')}</div></td>"
            for n in COUNTS
        )
        steps = " · ".join(f"{k} {v:.2f}s" for k, v in self.steps.items())
        error = f"<div style='color:#b00020'>{escape(self.error)}</div>" if self.error else ""
        if self.drift:
            error += (
                f"<div style='color:#c75000'>schema drift: {escape(drift_text(self.drift))}</div>"
            )
        return (
            f"<div class='apinotebook-run-report'><div><b>{escape(self.integration)}</b> "
            f"<span style='color:{color};font-weight:bold'>{self.status}</span> in "
            f"{self.duration:.2f}s · {self.throughput:.0f} records/s</div>"
            f"<table><tr>{cells}</tr></table><div style='font-size:12px'>{steps}</div>"
            f"{error}{sparkline(self.samples)}</div>"
        )


def drift_text(drift: dict[str, Any]) -> str:
    """``report.drift`` in words: removed, retyped, newly null and added fields."""
    return ShapeDrift.from_dict(drift).summary()


def sparkline(samples: list[tuple[float, int, float]], width: int = 480, height: int = 90) -> str:
    """Inline SVG: records written over time (line) and batch latency (bars)."""
    if len(samples) < 2:
        return ""
    t_end = samples[-1][0] or 1.0
    top = max(s[1] for s in samples) or 1
    lat_top = max(s[2] for s in samples) or 1.0
    h = height - 16
    points = " ".join(f"{s[0] / t_end * width:.1f},{h - s[1] / top * h:.1f}" for s in samples)
    bar_w = max(1.0, width / len(samples) - 1)
    bars = "".join(
        f"<rect x='{s[0] / t_end * width - bar_w:.1f}' y='{h - s[2] / lat_top * h * 0.4:.1f}' "
        f"width='{bar_w:.1f}' height='{s[2] / lat_top * h * 0.4:.1f}' fill='#f0a35e' />"
        for s in samples
    )
    return (
        f"<svg width='{width}' height='{height}' role='img' aria-label='run timeline'>"
        f"{bars}<polyline points='{points}' fill='none' stroke='#2f6fbf' stroke-width='2'/>"
        f"<text x='0' y='{height - 2}' font-size='10'>0s</text>"
        f"<text x='{width - 40}' y='{height - 2}' font-size='10'>{t_end:.1f}s</text>"
        f"<text x='4' y='10' font-size='10' fill='#2f6fbf'>written (max {top})</text>"
        f"<text x='{width - 150}' y='10' font-size='10' fill='#c47a2c'>"
        f"batch latency (max {lat_top * 1000:.0f} ms)</text></svg>"
    )


@dataclass(frozen=True)
class DryRunRow:
    """One source record in a dry run: before, after, and what would happen."""

    key: str
    status: str  # "would write" | "duplicate" | "filtered" | "invalid"
    before: Any
    after: Any
    problem: str | None = None


@dataclass
class DryRunReport:
    """What a run would do, with nothing written: a before/after table."""

    integration: str
    cursor: Any
    rows: list[DryRunRow] = field(default_factory=list)
    duration: float = 0.0

    @property
    def would_write(self) -> list[Any]:
        """The mapped records the destination would receive."""
        return [r.after for r in self.rows if r.status == "would write"]

    @property
    def problems(self) -> list[DryRunRow]:
        """Records the transform rejected, with the reason."""
        return [r for r in self.rows if r.status == "invalid"]

    def counts(self) -> dict[str, int]:
        """Rows per status."""
        return dict(Counter(r.status for r in self.rows))

    def to_frame(self) -> pd.DataFrame:
        """One row per record: key, status, problem, ``before.*`` and ``after.*`` columns."""
        import pandas as pd

        flat = [
            {
                "key": r.key,
                "status": r.status,
                "problem": r.problem,
                "before": r.before,
                "after": r.after,
            }
            for r in self.rows
        ]
        frame = (
            pd.json_normalize(flat, sep=".")
            if flat
            else pd.DataFrame(columns=["key", "status", "problem"])
        )
        return frame

    def summary(self) -> str:
        """One line per status, plus the first problems."""
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts().items()))
        lines = [
            f"{self.integration} dry run from cursor {self.cursor!r}: {counts or 'no records'}"
        ]
        lines += [f"  {p.key}: {p.problem}" for p in self.problems[:10]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<DryRunReport {self.integration} {self.counts()}>"

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        colors = {
            "would write": "#1b7f3b",
            "invalid": "#b00020",
            "duplicate": "#777",
            "filtered": "#777",
        }
        counts = " · ".join(
            f"<span style='color:{colors.get(s, '#000')}'>{n} {escape(s)}</span>"
            for s, n in sorted(self.counts().items())
        )
        table = frame.head(50).to_html(index=False, na_rep="", max_cols=30, escape=True)
        return (
            f"<div class='apinotebook-dry-run'><div><b>{escape(self.integration)}</b> dry run "
            f"(nothing written): {counts}</div>{table}</div>"
        )
