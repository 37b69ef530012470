"""``Integration``: a complete connection between systems, defined in a few cells.

>>> sync = Integration("crm-to-newsletter", state="crm_to_newsletter.db")
>>> @sync.source(key="id", cursor="updated_at")
... def contacts(since):
...     yield from crm.paginate("/contacts", params={"updated_since": since})
>>> @sync.transform
... def to_subscriber(contact):
...     return {"email": contact["email"].lower(), "name": contact["first_name"]}
>>> @sync.destination(batch_size=100)
... def upsert(batch):
...     mail.execute(UPSERT, {"listId": LIST, "input": list(batch)}).raise_for_status()
>>> sync.run(dry_run=True, limit=20)    # a before/after table, nothing written
>>> report = sync.run()                 # a RunReport

A source is a function of ``since`` (the last checkpointed cursor, or
``None``) that yields records in cursor order and reads ``since``
*inclusively* (``>=``): records sharing the checkpointed value are read again
and skipped as duplicates, none is missed. A generator may ``return`` a new
cursor (an opaque sync token) instead of naming a cursor field.

See :mod:`apinotebook.integration._pipeline` for the delivery guarantees.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from apinotebook._exceptions import ConfigError, FatalIntegrationError
from apinotebook._history import History
from apinotebook._history import history as shared_history
from apinotebook.integration._context import active_integration
from apinotebook.integration._drift import DriftGuard
from apinotebook.integration._lease import Lease, already_running
from apinotebook.integration._partitions import Partitions
from apinotebook.integration._pipeline import (
    Batch,
    DestinationSpec,
    Pipeline,
    SourceSpec,
    _Item,
    _Work,
    is_stale,
)
from apinotebook.integration._prefetch import prefetch
from apinotebook.integration._progress import Progress, make_progress
from apinotebook.integration._report import DryRunReport, DryRunRow, RunReport
from apinotebook.integration._schedule import Scheduler
from apinotebook.integration._stages import Extracted, Mapped, map_records, replay_source
from apinotebook.integration._state import DeadLetter, StateStore, check_name
from apinotebook.integration._streams import StreamSources
from apinotebook.integration._triggers import Triggers
from apinotebook.integration._webhook import WebhookReceiver

__all__ = ["Integration"]

log = logging.getLogger("apinotebook.integration")

F = TypeVar("F", bound=Callable[..., Any])


class Integration(Triggers, Partitions, DriftGuard, StreamSources):
    """A source, a mapping and a destination, with state, triggers and reports.

    Args:
        name: a label for the state file and logs (letters, digits, ``-_.``).
        state: the SQLite file holding checkpoints, seen keys, dead letters,
            runs and the webhook inbox (default ``<name>.db``), or a
            :class:`StateStore`; ``":memory:"`` for a throwaway.
        progress: ``"auto"`` (a live line in notebooks, logs in scripts),
            ``"log"``, ``None``, or a callable taking the :class:`RunReport`.
        history_size: how many API exchanges of this integration's runs to keep
            in :attr:`history`.
        read_ahead: records the source may read ahead in a thread while the
            destination writes, so their waits overlap (0 turns it off).
        wait: seconds a run waits for another run of this integration on the
            same state (another process, or another object) to finish before
            it stops with :class:`AlreadyRunningError`; 0 stops at once.
        reset: start over: forget the checkpoint and seen keys, and accept a
            state file the package did not create (0 bytes, empty). Without
            it such a file is refused, since every record would go out again.
    """

    def __init__(
        self,
        name: str,
        *,
        state: str | Path | StateStore | None = None,
        progress: str | Progress | None = "auto",
        history_size: int = 200,
        read_ahead: int = 1000,
        wait: float = 0.0,
        reset: bool = False,
    ) -> None:
        self.name = check_name(name)
        if isinstance(state, StateStore):
            self.store = state
            if reset:
                state.reset(dead_letters=True)
        else:
            path = state if state is not None else f"{name}.db"
            self.store = StateStore(path, name, reset=reset)
        self.wait = wait
        self.progress = progress
        self._source: SourceSpec | None = None
        self._transforms: list[Callable[[Any], Any]] = []
        self._destination: DestinationSpec | None = None
        self._run_lock = threading.Lock()
        self._scheduler: Scheduler | None = None
        self._receiver: WebhookReceiver | None = None
        self._processor: threading.Thread | None = None
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._extract: Callable[[Any], Any] | None = None
        #: the API exchanges made by this integration's runs
        self.history = History(maxlen=history_size, bodies=shared_history.bodies)
        #: records read ahead from the source while the destination writes (0: off)
        self.read_ahead = read_ahead
        self._closers: list[Callable[[], None]] = []
        self.last_report: RunReport | None = None
        shared_history.subscribe(self._collect)

    # -- definition -------------------------------------------------------------------

    def source(
        self,
        fn: F | None = None,
        *,
        key: str | Callable[[Any], Any] = "id",
        cursor: str | Callable[[Any], Any] | None = None,
    ) -> Any:
        """Decorate the function that reads records: ``fn(since) -> iterable``.

        Args:
            fn: the function (when used as ``@source`` without arguments).
            key: the field (or a function) identifying a record.
            cursor: the field (or a function) that orders records and is
                checkpointed, e.g. ``"updated_at"``; also the record's version
                for deduplication (without it, a content hash is used).
        """

        def register(func: F) -> F:
            self._source = SourceSpec(func, key, cursor, getattr(func, "__name__", "source"))
            return func

        return register(fn) if fn is not None else register

    def transform(self, fn: F) -> F:
        """Decorate a mapping ``fn(record) -> dict | None``; several run in order.

        Returning ``None`` filters the record; raising dead-letters it with the
        exception as the reason (that is how validation is expressed).
        """
        self._transforms.append(fn)
        return fn

    def destination(
        self,
        fn: F | None = None,
        *,
        batch_size: int = 100,
        concurrency: int = 1,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> Any:
        """Decorate the function that writes: ``fn(batch) -> None | rejections``.

        It receives a :class:`Batch` (a list of mapped records with ``keys``
        and ``idempotency_keys``) and must be idempotent. Raising retries the
        batch (transient errors) or splits it to isolate bad records; it may
        return ``(index_or_record, reason)`` pairs for records the API
        rejected individually (GraphQL ``userErrors``), which are dead-lettered.

        Args:
            fn: the function (when used as ``@destination`` without arguments).
            batch_size: records per call.
            concurrency: batches in flight at once (threads).
            retries: extra attempts for transient failures.
            backoff: seconds before the first retry (doubling).
        """
        if batch_size < 1 or concurrency < 1 or retries < 0 or backoff < 0:
            raise ConfigError("batch_size and concurrency must be >= 1; retries, backoff >= 0")

        def register(func: F) -> F:
            self._destination = DestinationSpec(
                func,
                batch_size,
                concurrency,
                retries,
                backoff,
                getattr(func, "__name__", "destination"),
            )
            return func

        return register(fn) if fn is not None else register

    # -- runs --------------------------------------------------------------------------

    def _check(self, *, need_destination: bool) -> tuple[SourceSpec, DestinationSpec]:
        problems = []
        if self._source is None:
            problems.append("no source: decorate a function with @integration.source(key=...)")
        if need_destination and self._destination is None:
            problems.append("no destination: decorate a function with @integration.destination")
        if problems:
            raise FatalIntegrationError(f"{self.name} is not configured: " + "; ".join(problems))
        dest = self._destination or DestinationSpec(lambda batch: None)
        assert self._source is not None
        return self._source, dest

    def _collect(self, exchange: Any) -> None:
        if active_integration.get() is self:
            self.history.append(exchange)

    def _pipeline(
        self,
        report: RunReport,
        progress: Any,
        *,
        source: SourceSpec | None = None,
        transforms: list[Callable[[Any], Any]] | None = None,
    ) -> Pipeline:
        checked, dest = self._check(need_destination=True)
        source = source or checked
        integration = self
        original = dest.fn

        def tracked(batch: Batch) -> Any:
            token = active_integration.set(integration)  # worker threads do not inherit the context
            try:
                return original(batch)
            finally:
                active_integration.reset(token)

        spec = DestinationSpec(
            tracked, dest.batch_size, dest.concurrency, dest.retries, dest.backoff, dest.name
        )
        return Pipeline(
            name=self.name,
            store=self.store,
            source=source,
            transforms=self._transforms if transforms is None else transforms,
            destination=spec,
            report=report,
            progress=make_progress(progress),
        )

    def run(
        self,
        *,
        dry_run: bool = False,
        limit: int | None = None,
        progress: str | Progress | None | bool = True,
        trigger: str = "manual",
        wait: float | None = None,
    ) -> Any:
        """Run once: read since the checkpoint, map, deliver, checkpoint.

        One run at a time holds the state: another one (any process) makes this one
        wait ``wait`` seconds (default: the integration's), then raise :class:`AlreadyRunningError`.

        ``dry_run=True`` reads and maps only (``limit`` 20): a :class:`DryRunReport`, no writes.

        Returns:
            the :class:`RunReport` (also kept as :attr:`last_report`).

        Raises:
            FatalIntegrationError: the run stopped; its report is ``error.report``.
        """
        if dry_run:
            return self.dry_run(limit=20 if limit is None else limit)
        if self.is_partitioned:  # each partition with its own checkpoint: see _partitions.py
            return self.run_partitions(limit=limit)
        return self._run(limit=limit, progress=progress, trigger=trigger, wait=wait)

    def _run(
        self,
        *,
        limit: int | None,
        progress: str | Progress | None | bool,
        trigger: str,
        source: SourceSpec | None = None,
        transforms: list[Callable[[Any], Any]] | None = None,
        wait: float | None = None,
    ) -> RunReport:
        mode = self.progress if progress is True else (None if progress is False else progress)
        lease = self._lease(wait)
        report = RunReport(self.name, trigger=trigger)
        try:
            active = active_integration.set(self)
            pipeline = self._pipeline(report, mode, source=source, transforms=transforms)
            since = self.store.cursor()
            report.cursor_before = since
            report.run_id = self.store.start_run()
            try:
                records = self._guard_drift(self._read(pipeline.source, since), pipeline, report)
                if self.read_ahead:
                    records = prefetch(records, size=self.read_ahead)
                final = pipeline.run(records, advance_cursor=True, limit=limit)
                if final is not None and limit is None:
                    self.store.commit([], cursor=final, advance=True)
                report.finish("partial" if report.failed else "ok")
            except FatalIntegrationError as exc:
                report.finish("failed", str(exc))
                exc.report = report  # type: ignore[attr-defined]
                raise
            except Exception as exc:
                report.finish("failed", f"{type(exc).__name__}: {exc}")
                wrapped = FatalIntegrationError(
                    f"{self.name} stopped while reading the source: {type(exc).__name__}: {exc}. "
                    "Nothing after the last checkpoint was lost; run again when it is fixed."
                )
                wrapped.report = report  # type: ignore[attr-defined]
                raise wrapped from exc
            finally:
                report.cursor_after = self.store.cursor()
                if report.run_id:
                    self.store.finish_run(report.run_id, report.status, report.to_dict())
                self.last_report = report
                pipeline._tick(force=True)
                log.info("%s", report.summary())
            return report
        finally:
            active_integration.reset(active)
            self._unlease(lease)

    def _lease(self, wait: float | None = None) -> Lease:
        """Take this object's run lock, then the integration's lease (see ``_lease.py``)."""
        wait = self.wait if wait is None else wait
        if not (
            self._run_lock.acquire(timeout=wait) if wait > 0 else self._run_lock.acquire(False)
        ):
            raise already_running(self.name, "this Integration object", wait)
        try:
            lease = self.store.lease()
            lease.acquire(wait=wait)
        except BaseException:
            self._run_lock.release()
            raise
        return lease

    def _unlease(self, lease: Lease) -> None:
        try:
            lease.release()
        finally:
            self._run_lock.release()

    # -- staged runs (orchestrators) ----------------------------------------------------

    def extract(self, *, limit: int | None = None) -> Extracted:
        """Read the source from the checkpoint (at most ``limit`` records); change nothing."""
        source, _ = self._check(need_destination=False)
        since = self.store.cursor()
        iterator = iter(self._read(source, since))
        records: list[Any] = []
        final = None
        while limit is None or len(records) < limit:
            try:
                records.append(next(iterator))
            except StopIteration as stop:
                final = stop.value
                break
        return Extracted(since, records, final)

    def map(self, extracted: Extracted) -> Mapped:
        """Apply the transforms to every extracted record; a failure is kept for :meth:`load`."""
        return map_records(list(self._transforms), extracted)

    def load(
        self, mapped: Mapped, *, limit: int | None = None, trigger: str = "staged"
    ) -> RunReport:
        """Deliver, dead-letter and checkpoint ``mapped`` through the run's pipeline.

        Raises:
            ConfigError: ``mapped`` does not belong to its extracted records.
            FatalIntegrationError: the run stopped (an orchestrator retries the task).
        """
        if len(mapped.outcomes) != len(mapped.extracted.records):
            raise ConfigError("the mapped records do not match the extracted ones; run map() again")
        source, _ = self._check(need_destination=True)
        replay, lookup = replay_source(mapped)
        return self._run(
            limit=limit,
            progress="log",
            trigger=trigger,
            source=dataclasses.replace(source, fn=replay),
            transforms=[lookup],
        )

    def _read(self, source: SourceSpec | None, since: Any) -> Iterable[Any]:
        if source is None:
            return iter(())
        result = source.fn(since)
        if result is None:
            raise FatalIntegrationError(
                f"source {source.name}() returned None: it must yield records (use 'yield' or "
                "'yield from')"
            )
        return result

    def dry_run(self, limit: int = 20) -> DryRunReport:
        """Read and map up to ``limit`` records; write nothing."""
        source, _ = self._check(need_destination=False)
        since = self.store.cursor()
        report = DryRunReport(self.name, since)
        t0 = time.perf_counter()
        active = active_integration.set(self)
        try:
            records = []
            for record in self._read(source, since):
                records.append(record)
                if len(records) >= limit:
                    break
            keyed = [(r, source.key_of(r), source.cursor_of(r)) for r in records]
            seen = self.store.seen_fingerprints(k for _, k, _ in keyed)
            for record, key, cursor in keyed:
                fp = source.fingerprint(record, cursor)
                if is_stale(fp, seen.get(key)):
                    report.rows.append(DryRunRow(key, "duplicate", record, None))
                    continue
                try:
                    mapped = Pipeline.transform(self._fake_pipeline(), record)
                except Exception as exc:  # noqa: BLE001 - shown as a validation problem
                    report.rows.append(
                        DryRunRow(key, "invalid", record, None, f"{type(exc).__name__}: {exc}")
                    )
                    continue
                status = "filtered" if mapped is None else "would write"
                report.rows.append(DryRunRow(key, status, record, mapped))
        finally:
            active_integration.reset(active)
        report.duration = time.perf_counter() - t0
        return report

    def _fake_pipeline(self) -> Pipeline:
        return Pipeline(
            name=self.name,
            store=self.store,
            source=self._source,
            transforms=self._transforms,
            destination=DestinationSpec(lambda b: None),
            report=RunReport(self.name),
        )

    # -- dead letters and state ---------------------------------------------------------

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Records waiting in the dead-letter store, with their errors."""
        return self.store.dead_letters()

    def dead_letters_frame(self) -> Any:
        """The pending dead letters as a DataFrame."""
        import pandas as pd

        rows = [
            {
                "id": d.id,
                "stage": d.stage,
                "key": d.key,
                "error": d.error,
                "attempts": d.attempts,
                "payload": d.payload,
            }
            for d in self.dead_letters
        ]
        return pd.DataFrame(rows, columns=["id", "stage", "key", "error", "attempts", "payload"])

    def replay(self, *, progress: str | Progress | None | bool = True) -> RunReport:
        """Send the pending dead letters through the mapping and destination again.

        A record that goes through is resolved; one that fails again stays,
        with its attempt count increased and the new error.
        """
        mode = self.progress if progress is True else (None if progress is False else progress)
        letters = self.store.dead_letters()
        report = RunReport(self.name, trigger="replay")
        lease = self._lease()
        try:
            active = active_integration.set(self)
            try:
                pipeline = self._pipeline(report, mode)
                dest = pipeline.dest
                for start in range(0, len(letters), dest.batch_size):
                    chunk = letters[start : start + dest.batch_size]
                    report.read += len(chunk)
                    items: list[tuple[DeadLetter, _Item]] = []
                    seen = self.store.seen_fingerprints(
                        letter.key for letter in chunk if letter.key
                    )
                    for letter in chunk:
                        fp = self._fingerprint_of(letter)
                        newest = seen.get(letter.key or "")
                        if fp != newest and is_stale(fp, newest):
                            # a newer version was delivered since: sending this one would undo it
                            self.store.resolve_dead_letter(
                                letter.id, error=None, status="superseded"
                            )
                            report.skipped_duplicate += 1
                            continue
                        try:
                            mapped = pipeline.transform(letter.payload)
                        except Exception as exc:  # noqa: BLE001 - stays a dead letter
                            self.store.resolve_dead_letter(
                                letter.id, error=f"{type(exc).__name__}: {exc}"
                            )
                            report.failed += 1
                            continue
                        if mapped is None:
                            self.store.resolve_dead_letter(letter.id, error=None)
                            report.skipped_filtered += 1
                            continue
                        report.mapped += 1
                        items.append((letter, _Item(letter.key or "", fp, letter.payload, mapped)))
                    if not items:
                        continue
                    work = pipeline.deliver(_Work(0, [i for _, i in items]))
                    if work.fatal is not None:
                        report.finish("failed", str(work.fatal))
                        raise FatalIntegrationError(f"replay stopped: {work.fatal}") from work.fatal
                    delivered = {id(i) for i in work.delivered}
                    for letter, item in items:
                        if id(item) in delivered:
                            self.store.resolve_dead_letter(letter.id, error=None)
                            report.written += 1
                        else:
                            reason = next(
                                (d["error"] for d in work.dead if d["key"] == item.key),
                                "failed again",
                            )
                            self.store.resolve_dead_letter(letter.id, error=reason)
                            report.failed += 1
                    self.store.commit([(i.key, i.fp) for i in work.delivered])
                    report.retries += work.retries
                    report.batches += 1
                report.finish("partial" if report.failed else "ok")
            finally:
                active_integration.reset(active)
        finally:
            self._unlease(lease)
        self.last_report = report
        return report

    def _fingerprint_of(self, letter: DeadLetter) -> str:
        source = self._source
        if source is None:
            return ""
        return source.fingerprint(letter.payload, source.cursor_of(letter.payload))

    def reset(self, *, dead_letters: bool = True) -> None:
        """Forget the checkpoint and seen keys (and dead letters): the next run starts over."""
        self.store.reset(dead_letters=dead_letters)

    @property
    def state(self) -> dict[str, Any]:
        """Cursor, delivered keys, pending dead letters, inbox and the last run."""
        return self.store.summary()

    def on_close(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when the integration is closed (e.g. a client's ``close``)."""
        self._closers.append(fn)

    def close(self) -> None:
        """Stop triggers, close what was registered, detach from history, close the state."""
        self.stop()
        for fn in reversed(self._closers):
            fn()
        self._closers.clear()
        shared_history.unsubscribe(self._collect)
        self.store.close()

    def __repr__(self) -> str:
        parts = [f"<Integration {self.name!r}"]
        if self._source is not None:
            parts.append(f"source={self._source.name}")
        if self._transforms:
            parts.append(
                "transform=" + ",".join(getattr(t, "__name__", "?") for t in self._transforms)
            )
        if self._destination is not None:
            parts.append(f"destination={self._destination.name}")
        return " ".join(parts) + ">"

    def _repr_html_(self) -> str:
        from html import escape

        state = self.state
        last = state.get("last_run") or {}
        return (
            f"<div class='apinotebook-integration'><b>{escape(self.name)}</b> "
            f"{escape(repr(self))}<br>cursor: <code>{escape(repr(state['cursor']))}</code> · "
            f"delivered keys: {state['seen']} · dead letters: {state['dead_letters']} · "
            f"last run: {escape(str(last.get('status', 'never')))}</div>"
        )
