"""A run in three stages: extract, map, load (what an orchestrator's tasks call).

``Integration.run()`` streams records through the three stages in one
process. An orchestrator (the Prefect target) runs them as separate tasks::

    extracted = sync.extract(limit=1000)      # read from the checkpoint
    mapped = sync.map(extracted)              # apply the transforms
    report = sync.load(mapped)                # dedupe, deliver, dead-letter, checkpoint

``load`` goes through the same pipeline as ``run``, with the same state, so a
staged run and a plain run share checkpoints and dead letters, and retrying
``load`` after a crash does not deliver twice.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Extracted", "Mapped", "map_records", "replay_source"]


@dataclass
class Extracted:
    """What extract read: the checkpoint it started from, the records, the final cursor."""

    since: Any
    records: list[Any]
    final: Any = None


@dataclass
class Mapped:
    """The extracted records and what mapping each gave.

    ``outcomes[i]`` is ``("ok", mapped)``, ``("filtered", None)`` or ``("error", exc)``.
    """

    extracted: Extracted
    outcomes: list[tuple[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Records per outcome."""
        out: dict[str, int] = {}
        for kind, _ in self.outcomes:
            out[kind] = out.get(kind, 0) + 1
        return out


def map_records(transforms: list[Callable[[Any], Any]], extracted: Extracted) -> Mapped:
    """Apply ``transforms``, in order, to every extracted record."""
    mapped = Mapped(extracted)
    for record in extracted.records:
        value = record
        try:
            for fn in transforms:
                value = fn(value)
                if value is None:
                    break
        except Exception as exc:  # noqa: BLE001 - load dead-letters it with this error
            mapped.outcomes.append(("error", exc))
            continue
        mapped.outcomes.append(("filtered", None) if value is None else ("ok", value))
    return mapped


def replay_source(
    mapped: Mapped,
) -> tuple[Callable[[Any], Generator[Any, None, Any]], Callable[[Any], Any]]:
    """A source that yields ``mapped``'s records, and a transform that returns their mappings."""
    records = mapped.extracted.records
    by_id = {id(r): i for i, r in enumerate(records)}

    def source(since: Any) -> Generator[Any, None, Any]:
        yield from records
        return mapped.extracted.final

    def lookup(record: Any) -> Any:
        kind, value = mapped.outcomes[by_id[id(record)]]
        if kind == "error":
            raise value
        return value

    return source, lookup
