"""Partitions: one source read as several independent slices, each with its own checkpoint.

>>> sync.partitioned(id_ranges(0, 1_000_000, 4), concurrency=2)      # doctest: +SKIP
>>> @sync.source(key="id", cursor="updated_at")                       # doctest: +SKIP
... def contacts(since, partition):
...     low, high = partition.params
...     yield from crm.paginate("/contacts", params={"id_from": low, "id_to": high, ...})
>>> sync.run()                 # every partition, two at a time           # doctest: +SKIP
>>> sync.run_partitions(only=["ids-2"])   # one failed partition again    # doctest: +SKIP

A partitioned source takes ``(since, partition)``. Each partition runs as
the integration named ``<name>.<partition id>`` on the same state (a file or
a PostgreSQL database): its own cursor, seen keys, dead letters, run
history and lease, so partitions run at the same time (threads here, tasks
on different workers in the Prefect flow) and never share a checkpoint,
while the same partition never runs twice at once. A partition added later
(the list is a function evaluated at each run) starts from no checkpoint;
the others resume from theirs. A partition that fails is reported in the
merged report and can be run again alone.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from apinotebook._exceptions import ConfigError, FatalIntegrationError
from apinotebook.integration._chunks import CHUNK, merge_reports, run_in_chunks
from apinotebook.integration._report import RunReport
from apinotebook.integration._state import StateStore, check_name

if TYPE_CHECKING:
    from apinotebook.integration._integration import Integration
    from apinotebook.integration._pipeline import SourceSpec

__all__ = ["Partition", "Partitions", "date_windows", "id_ranges"]

log = logging.getLogger("apinotebook.integration")

PartitionSpec = Sequence["Partition"] | Callable[[], Iterable["Partition"]]


@dataclass(frozen=True)
class Partition:
    """One slice of a source: an id (letters, digits, ``-_.``) and what the source needs."""

    id: str
    params: Any = None


def id_ranges(start: int, stop: int, count: int) -> list[Partition]:
    """``count`` half-open ranges ``[low, high)`` covering ``[start, stop)``."""
    if count < 1 or stop <= start:
        raise ConfigError("id_ranges needs count >= 1 and stop > start")
    step = -(-(stop - start) // count)
    return [
        Partition(f"ids-{i}", (low, min(low + step, stop)))
        for i, low in enumerate(range(start, stop, step))
    ]


def date_windows(start: date, end: date, *, days: int = 1) -> list[Partition]:
    """Windows ``[day, day + days)`` from ``start`` up to ``end`` (exclusive)."""
    if days < 1 or end <= start:
        raise ConfigError("date_windows needs days >= 1 and end > start")
    out = []
    day = start
    while day < end:
        until = min(day + timedelta(days=days), end)
        out.append(Partition(f"{day:%Y%m%d}", (day, until)))
        day = until
    return out


class Partitions:
    """The partition methods of ``Integration`` (a mixin)."""

    name: str
    store: StateStore
    read_ahead: int
    _source: SourceSpec | None
    _transforms: list[Callable[[Any], Any]]
    _destination: Any
    _partition_spec: PartitionSpec | None = None
    _partition_concurrency: int = 1

    def partitioned(self, partitions: PartitionSpec, *, concurrency: int = 2) -> None:
        """Read the source as ``partitions`` (a list, or a function returning one).

        Args:
            partitions: :class:`Partition` objects (see :func:`id_ranges`,
                :func:`date_windows`), or a function returning them at each
                run (partitions added later start from no checkpoint).
            concurrency: partitions run at once by :meth:`run_partitions`.
        """
        if concurrency < 1:
            raise ConfigError("concurrency must be >= 1")
        if self.store.path == ":memory:":
            raise ConfigError("partitions need a state file or a PostgreSQL URL, not ':memory:'")
        self._partition_spec = partitions
        self._partition_concurrency = concurrency

    @property
    def is_partitioned(self) -> bool:
        """Whether :meth:`partitioned` declared partitions."""
        return self._partition_spec is not None

    def partitions(self) -> list[Partition]:
        """The partitions as of now (the function is called each time)."""
        spec = self._partition_spec
        if spec is None:
            return []
        found = list(spec() if callable(spec) else spec)
        ids = [p.id for p in found]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"partition ids must be unique: {ids}")
        for p in found:
            if not isinstance(p, Partition):
                raise ConfigError(f"a partition must be a Partition(id, params), not {p!r}")
            check_name(f"{self.name}.{p.id}")
        return found

    def partition(self, partition: str | Partition) -> Integration:
        """The integration of one partition (close it when done).

        Raises:
            ConfigError: no such partition, or the integration is not partitioned.
        """
        if isinstance(partition, str):
            known = {p.id: p for p in self.partitions()}
            if partition not in known:
                raise ConfigError.invalid_choice("partition", partition, sorted(known))
            partition = known[partition]
        if self._source is None:
            raise FatalIntegrationError(f"{self.name} has no source")
        source = self._source
        chosen = partition

        def read(since: Any) -> Any:
            return source.fn(since, chosen)

        name = f"{self.name}.{partition.id}"
        child: Integration = type(self)(  # type: ignore[assignment, call-arg]
            name,
            state=StateStore(self.store.location, name),
            progress=None,
            read_ahead=self.read_ahead,
        )
        child._source = dataclasses.replace(source, fn=read)
        child._transforms = self._transforms
        child._destination = self._destination
        return child

    def run_partitions(
        self,
        *,
        only: Iterable[str] | None = None,
        limit: int | None = None,
        concurrency: int | None = None,
        run: Callable[[Integration, int | None], RunReport] | None = None,
    ) -> RunReport:
        """Run every partition (or ``only`` those), ``concurrency`` at a time.

        A failing partition does not stop the others: its failure is in the
        merged report (status ``failed``) and it can be run again alone.

        Args:
            only: partition ids to run.
            limit: records per partition.
            concurrency: partitions at once (default: :meth:`partitioned`'s).
            run: how to run one partition (default: ``part.run(limit=...)``).
        """
        chosen = self.partitions()
        if only is not None:
            wanted = set(only)
            unknown = wanted - {p.id for p in chosen}
            if unknown:
                ids = [p.id for p in chosen]
                raise ConfigError.invalid_choice("partition", sorted(unknown)[0], ids)
            chosen = [p for p in chosen if p.id in wanted]
        runner = run or (lambda part, n: part.run(limit=n, progress="log"))

        def one(p: Partition) -> RunReport:
            part = self.partition(p)
            try:
                return runner(part, limit)
            except FatalIntegrationError as exc:
                report = getattr(exc, "report", None) or RunReport(part.name).finish(
                    "failed", str(exc)
                )
                log.error("partition %s failed: %s", p.id, exc)
                return report
            finally:
                part.close()

        workers = min(concurrency or self._partition_concurrency, max(len(chosen), 1))
        with ThreadPoolExecutor(workers, thread_name_prefix=f"{self.name}-partition") as pool:
            reports = list(pool.map(one, chosen))
        return merge_reports(self.name, reports, trigger="partitions")

    def run_partition(
        self,
        partition: str | Partition,
        *,
        chunk: int = CHUNK,
        limit: int | None = None,
        trigger: str = "prefect",
    ) -> RunReport:
        """Run one partition in chunks from its own checkpoint (an orchestrator task's work).

        See :func:`~apinotebook.integration.run_in_chunks`.
        """
        part = self.partition(partition)
        try:
            return run_in_chunks(
                part,
                lambda n: part.run(limit=n, progress="log", trigger=trigger),
                chunk=chunk,
                limit=limit,
                trigger=trigger,
            )
        finally:
            part.close()
