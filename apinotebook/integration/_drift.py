"""Schema drift: notice when the source's records change shape, before anything is written.

Every run records the shape of what its source returned (fields, types,
nullability: :class:`apinotebook.contract.Shape`) and stores it with the run's
report in the state (``report.schema_baseline``; no table of its own, so any
state backend that keeps run reports keeps it). The next run compares the
records it reads with that baseline:

- the first ``sample`` records (100) are read *before the first one is
  mapped*; removed, retyped or newly ``null`` fields in them are reported in
  the :class:`RunReport` (``report.drift``) and the policy decides:

  ``"warn"``         log it, go on;
  ``"dead-letter"``  go on, but every record showing a breaking change is
                     dead-lettered with the reason;
  ``"stop"``         raise :class:`~apinotebook.SchemaDriftError` at once:
                     nothing is written and the checkpoint does not move.

- whatever the policy, a record lacking (or holding ``null`` or another type
  in) a field the *mapping reads* is dead-lettered with the reason, never
  mapped into a silent ``None``. The fields a mapping reads are found by
  running it on a recording view of each record (``record["email"]``,
  ``record.get("email")``, nested ``record["address"]["city"]``).

A run without breaking drift merges its shape into the baseline (new fields
join it); after a breaking change the baseline stays until
:meth:`DriftGuard.accept_drift` adopts the next run's shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from apinotebook._exceptions import ConfigError, SchemaDriftError
from apinotebook.contract import (
    FieldShape,
    Shape,
    ShapeDrift,
    compare_shapes,
    compatible,
    type_name,
)

__all__ = ["DRIFT_POLICIES", "DriftGuard", "merge_shapes"]

log = logging.getLogger("apinotebook.integration")

DRIFT_POLICIES = ("warn", "dead-letter", "stop")
_RUNS_SEARCHED = 50
_MISSING: Any = object()


def merge_shapes(baseline: Shape, current: Shape) -> Shape:
    """The baseline after a run that did not break it: both shapes' fields and counts.

    A field only one of them has ends up seen in fewer records than the total:
    optional, as it is.
    """
    merged = Shape.from_dict(baseline.to_dict())
    for path, entry in current.fields.items():
        mine = merged.fields.setdefault(path, FieldShape())
        mine.types |= entry.types
        mine.nullable = mine.nullable or entry.nullable
        mine.seen += entry.seen
    merged.records += current.records
    return merged


class _Reading(dict[Any, Any]):
    """A record that remembers which fields the mapping read (nested dicts too)."""

    __slots__ = ("_prefix", "_reads")

    def __init__(self, data: dict[Any, Any], reads: set[str], prefix: str = "") -> None:
        super().__init__(data)
        self._reads, self._prefix = reads, prefix

    def _wrap(self, key: Any, value: Any) -> Any:
        if type(value) is dict:
            return _Reading(value, self._reads, f"{self._prefix}{key}.")
        return value

    def __getitem__(self, key: Any) -> Any:
        self._reads.add(f"{self._prefix}{key}")
        return self._wrap(key, super().__getitem__(key))

    def get(self, key: Any, default: Any = None) -> Any:
        """``dict.get``, remembered."""
        self._reads.add(f"{self._prefix}{key}")
        if key in self:
            return self._wrap(key, super().__getitem__(key))
        return default

    def __iter__(self) -> Iterator[Any]:  # {**record} and dict(record) read every field
        return super().__iter__()

    def items(self) -> Any:
        """``dict.items``; every field counts as read."""
        self._reads.update(f"{self._prefix}{k}" for k in super().keys())
        return [(k, self._wrap(k, v)) for k, v in super().items()]

    def values(self) -> Any:
        """``dict.values``; every field counts as read."""
        return [v for _, v in self.items()]


def _lookup(record: Any, path: str) -> Any:
    value = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = dict.__getitem__(value, part)
    return value


class _Run:
    """One run's guard: the sample decision, per-record checks, the shape it saw."""

    def __init__(self, owner: DriftGuard, baseline: Shape | None, report: Any) -> None:
        self.owner, self.baseline, self.report = owner, baseline, report
        self.shape = Shape()
        self.dead_all = owner.drift_policy == "dead-letter"
        report.schema_baseline = baseline.to_dict() if baseline is not None else None

    def problem(self, record: Any, paths: Iterable[str]) -> str | None:
        """Why ``record`` breaks the baseline at one of ``paths`` (``None``: it does not)."""
        baseline = self.baseline
        if baseline is None or not isinstance(record, dict):
            return None
        for path in paths:
            entry = baseline.fields.get(path)
            if entry is None or "[]" in path:
                continue
            value = _lookup(record, path)
            was = "|".join(sorted(entry.types)) or "null"
            if value is _MISSING:
                if baseline.always_present(path):
                    return f"field {path!r} is missing (every earlier record had it: {was})"
            elif value is None:
                if not entry.nullable:
                    return f"field {path!r} is null (it never was before: {was})"
            elif not compatible(entry.types, kind := type_name(value)):
                return f"field {path!r} is {kind} now (it was {was})"
        return None

    def transforms(self, transforms: list[Callable[[Any], Any]]) -> list[Callable[[Any], Any]]:
        """The mapping, run on recording views; drift in what it read dead-letters the record."""
        if not transforms or self.baseline is None:
            return transforms
        first, rest = transforms[0], transforms[1:]
        all_paths = list(self.baseline.fields)

        def reading(record: Any) -> Any:
            if type(record) is not dict:
                return first(record)
            if self.dead_all:
                why = self.problem(record, all_paths)
                if why:
                    raise SchemaDriftError(f"schema drift: {why}; the record was not mapped")
            reads: set[str] = set()
            out = first(_Reading(record, reads))
            why = self.problem(record, sorted(reads))
            if why:
                raise SchemaDriftError(
                    f"schema drift: the mapping reads it, and {why}; the record was not mapped "
                    "(fix the mapping, or sync.accept_drift() once it is right)"
                )
            return out

        return [reading, *rest]

    def records(self, records: Iterable[Any]) -> Generator[Any, None, Any]:
        """Yield the source's records; with a baseline, decide on a sample before the first."""
        iterator = iter(records)
        sample: list[Any] = []
        final, done, failure = None, False, None
        while self.baseline is not None and len(sample) < self.owner.drift_sample:
            try:
                sample.append(next(iterator))
            except StopIteration as stop:
                final, done = stop.value, True
                break
            except Exception as exc:  # noqa: BLE001 - raised after the sample's records
                failure, done = exc, True
                break
        for record in sample:
            self.shape.add(record)
        if self.baseline is not None:
            self.decide(compare_shapes(self.baseline, self.shape))
        yield from sample
        if failure is not None:
            raise failure
        if not done:
            while True:
                try:
                    record = next(iterator)
                except StopIteration as stop:
                    final = stop.value
                    break
                self.shape.add(record)
                yield record
        self.finish()
        return final

    def decide(self, drift: ShapeDrift | None) -> None:
        if not drift:
            return
        self.report.drift = drift.to_dict()
        name = self.owner.name
        if drift.breaking and self.owner.drift_policy == "stop":
            raise SchemaDriftError(
                f"{name} stopped before writing anything: the source's records changed shape "
                f"({drift.summary()}). Fix the mapping or the source, then run again; "
                f"sync.accept_drift() adopts the new shape.",
                drift=drift,
            )
        log.warning("%s: the source's records changed shape: %s", name, drift.summary())

    def finish(self) -> None:
        """Record this run's drift and the baseline the next run compares with."""
        baseline = self.baseline
        if baseline is None or self.owner._drift_accept:
            new = self.shape if self.shape.records else baseline
            self.owner._drift_accept = False
        else:
            drift = compare_shapes(baseline, self.shape)
            if drift:
                self.report.drift = drift.to_dict()
            new = baseline if drift.breaking else merge_shapes(baseline, self.shape)
        self.report.schema_baseline = new.to_dict() if new is not None else None


class DriftGuard:
    """Schema-drift detection for :class:`~apinotebook.integration.Integration` (a mixin)."""

    name: str
    store: Any
    drift_policy: str = "warn"
    drift_sample: int = 100
    _drift_accept: bool = False

    def on_drift(self, policy: str = "warn", *, sample: int = 100) -> None:
        """Choose what a breaking change of the source's shape does: warn, dead-letter or stop.

        Args:
            policy: ``"warn"`` (log and report), ``"dead-letter"`` (every record
                with a removed, retyped or newly null field is dead-lettered) or
                ``"stop"`` (raise :class:`~apinotebook.SchemaDriftError` before
                anything is written). Records missing a field the mapping
                reads are dead-lettered under every policy.
            sample: records read and compared before the first one is mapped.
        """
        if policy not in DRIFT_POLICIES:
            raise ConfigError.invalid_choice("drift policy", policy, DRIFT_POLICIES)
        if sample < 1:
            raise ConfigError("on_drift(sample=...) must be at least 1")
        self.drift_policy, self.drift_sample = policy, sample

    def accept_drift(self) -> None:
        """Adopt the shape the next run sees as the new baseline (after a deliberate change)."""
        self._drift_accept = True

    def schema_baseline(self) -> Shape | None:
        """The shape the next run is compared with (``None`` before the first run)."""
        for run in self.store.runs(_RUNS_SEARCHED):
            stored = (run.get("report") or {}).get("schema_baseline")
            if stored:
                return Shape.from_dict(stored)
        return None

    def _guard_drift(self, records: Iterable[Any], pipeline: Any, report: Any) -> Iterable[Any]:
        """Wrap a run's records and mapping (``Integration._run`` calls this)."""
        run = _Run(self, None if self._drift_accept else self.schema_baseline(), report)
        # a staged load() replays mappings made by map(): only a run's own mapping is watched
        own: list[Callable[[Any], Any]] | None = getattr(self, "_transforms", None)
        if own is not None and pipeline.transforms is own:
            pipeline.transforms = run.transforms(list(own))
        return run.records(records)
