"""The run loop: read, dedupe, map, deliver in batches, checkpoint, dead-letter.

Guarantees (what the reliability tests check):

- **At least once, into idempotent destinations.** A batch's records are
  marked as seen, and the cursor advanced, in one SQLite transaction *after*
  the destination returned. A crash between delivery and that commit means
  the batch is delivered again on the next run: destinations must be
  idempotent (an upsert, or an ``Idempotency-Key`` from
  :meth:`Batch.idempotency_keys`).
- **Nothing lost.** The cursor only advances over a contiguous prefix of
  handled batches (with concurrency, batches finish out of order). A record
  that cannot be mapped or delivered goes to the dead-letter table, in the
  same transaction that marks it handled.
- **No duplicates.** Each record has a key and a fingerprint (its cursor
  value, or a hash of its content): a record whose key was delivered with the
  same fingerprint is skipped, within a run and across runs. A newer version
  (new fingerprint) goes through; a batch holding a newer version of a record
  still in flight waits for it, so versions never overtake each other.
- **Fatal errors stop the run** (authentication failures, contract errors,
  misconfiguration): nothing after the failing batch is checkpointed.

Error classes for a batch: *fatal* stops the run; *transient* (timeouts,
dropped connections, 429, 5xx: the clients already retried them) is retried
``retries`` more times with backoff, then dead-lettered; *record* errors (4xx,
GraphQL errors, exceptions from user code) split the batch in halves until the
bad records are isolated and dead-lettered, so good records still arrive.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, Literal

from apinotebook._core.secrets import mask_text
from apinotebook._exceptions import (
    ConfigError,
    FatalIntegrationError,
    GraphQLResponseError,
    HTTPStatusError,
    OAuth2Error,
    ResponseError,
    SchemaError,
    SoapFault,
    TransportError,
)
from apinotebook.integration._report import RunReport
from apinotebook.integration._state import StateStore, dumps

__all__ = ["Batch", "DestinationSpec", "Pipeline", "SourceSpec", "classify"]

log = logging.getLogger("apinotebook.integration")

KeyFn = Callable[[Any], Any]
ErrorClass = Literal["fatal", "transient", "record"]
_AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "UNAUTHORIZED"}


@dataclass
class SourceSpec:
    """Where records come from; see :meth:`Integration.source`."""

    fn: Callable[..., Iterable[Any]]
    key: str | KeyFn
    cursor: str | KeyFn | None = None
    name: str = "source"

    def key_of(self, record: Any) -> str:
        """The record's key as text."""
        value = self.key(record) if callable(self.key) else _field(record, self.key, "key")
        return str(value)

    def cursor_of(self, record: Any) -> Any:
        """The record's cursor value (``None`` without a cursor)."""
        if self.cursor is None:
            return None
        return (
            self.cursor(record) if callable(self.cursor) else _field(record, self.cursor, "cursor")
        )

    def fingerprint(self, record: Any, cursor: Any) -> str:
        """The version of a record: ``v:`` + its cursor as JSON, or ``h:`` + a content hash."""
        if isinstance(cursor, str):  # the common case (timestamps): same text as dumps()
            return "v:" + encode_basestring_ascii(cursor)
        if cursor is not None:
            return "v:" + dumps(cursor)
        return "h:" + hashlib.blake2b(dumps(record).encode(), digest_size=12).hexdigest()


def is_stale(fingerprint: str, stored: str | None) -> bool:
    """Whether a record with ``fingerprint`` is the delivered version or older.

    Versions from a cursor compare by value (a late webhook event or an old
    dead letter must never overwrite newer data); content hashes only match.
    """
    if stored is None:
        return False
    if fingerprint == stored:
        return True
    if fingerprint.startswith("v:") and stored.startswith("v:"):
        try:
            return bool(json.loads(fingerprint[2:]) < json.loads(stored[2:]))
        except (TypeError, ValueError):
            return False
    return False


@dataclass
class DestinationSpec:
    """Where mapped records go; see :meth:`Integration.destination`."""

    fn: Callable[[Batch], Any]
    batch_size: int = 100
    concurrency: int = 1
    retries: int = 3
    backoff: float = 0.5
    name: str = "destination"


def _field(record: Any, name: str, what: str) -> Any:
    try:
        return record[name]
    except (KeyError, TypeError, IndexError):
        keys = ", ".join(map(repr, list(record)[:15])) if isinstance(record, dict) else ""
        raise ConfigError(
            f"source record has no {what} field {name!r}" + (f"; it has {keys}" if keys else "")
        ) from None


class Batch(list[Any]):
    """The mapped records handed to a destination, plus what identifies them.

    ``batch.keys[i]`` is the source key of ``batch[i]``;
    ``batch.idempotency_keys[i]`` is stable for that key *and version*, so a
    destination that is not naturally idempotent can send it as an
    ``Idempotency-Key`` header and a redelivery after a crash is a no-op.
    """

    def __init__(
        self,
        items: Iterable[Any],
        *,
        keys: list[str],
        fingerprints: list[str],
        sources: list[Any],
        integration: str,
    ) -> None:
        super().__init__(items)
        self.keys = keys
        self.fingerprints = fingerprints
        self.sources = sources
        self.integration = integration

    @property
    def idempotency_keys(self) -> list[str]:
        """One stable key per record: a hash of integration, key and version."""
        return [
            hashlib.sha256(f"{self.integration}\0{k}\0{fp}".encode()).hexdigest()[:32]
            for k, fp in zip(self.keys, self.fingerprints, strict=True)
        ]

    def with_idempotency_keys(self) -> Iterator[tuple[Any, str]]:
        """``(record, idempotency_key)`` pairs."""
        return zip(self, self.idempotency_keys, strict=True)


@dataclass
class _Item:
    key: str
    fp: str
    source: Any
    mapped: Any = None
    cursor: Any = None


@dataclass
class _Work:
    seq: int
    items: list[_Item]
    #: handled without delivery: filtered records and transform failures
    side: list[tuple[str, str]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    end_cursor: Any = None
    #: outcome
    delivered: list[_Item] = field(default_factory=list)
    latency: float = 0.0
    retries: int = 0
    fatal: BaseException | None = None


class _Stop(Exception):
    """A fatal error inside a delivery (carried out of worker threads)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


def classify(exc: BaseException) -> ErrorClass:
    """Fatal, transient or record-level: how a failed batch is handled."""
    if isinstance(exc, FatalIntegrationError | ConfigError | SchemaError | OAuth2Error):
        return "fatal"  # OAuth2Error: the authorization server refused (a revoked refresh token)
    exchange = getattr(exc, "exchange", None)
    status = getattr(exchange, "status", 0) or 0
    if isinstance(exc, ResponseError) and status in (401, 403):
        return "fatal"  # whatever the body says (a SOAP Fault on a 401 too)
    if isinstance(exc, HTTPStatusError):
        return "transient" if status == 429 or status >= 500 else "record"
    if isinstance(exc, GraphQLResponseError):
        codes = {str((e.get("extensions") or {}).get("code", "")).upper() for e in exc.errors}
        return "fatal" if codes & _AUTH_CODES else "record"
    if isinstance(exc, SoapFault):
        code = (exc.code or "").lower()
        if "authentication" in code or "security" in code:
            return "fatal"
        return "transient" if "server" in code else "record"
    if isinstance(exc, TransportError):
        return "transient"
    return "record"


def fatal_message(exc: BaseException, where: str) -> str:
    """Explain a fatal error in one sentence with a next step."""
    text = mask_text(str(exc))
    if isinstance(exc, HTTPStatusError) and exc.status in (401, 403):
        what = "authentication failed" if exc.status == 401 else "permission denied"
        return f"{where}: {what} ({text}). Check the credentials, then run again."
    if isinstance(exc, GraphQLResponseError) or isinstance(exc, SoapFault):
        return f"{where}: authentication failed ({text}). Check the credentials, then run again."
    if isinstance(exc, SchemaError):
        return f"{where}: the API contract does not match ({text}). Update the mapping."
    return f"{where}: {text}"


class Pipeline:
    """One run's machinery, shared by runs, webhook events and replays."""

    def __init__(
        self,
        *,
        name: str,
        store: StateStore,
        source: SourceSpec | None,
        transforms: list[Callable[[Any], Any]],
        destination: DestinationSpec,
        report: RunReport,
        progress: Callable[[RunReport], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.store = store
        self.source = source
        self.transforms = transforms
        self.dest = destination
        self.report = report
        self.progress = progress
        self.sleep = sleep
        self._last_progress = 0.0

    # -- mapping ---------------------------------------------------------------------

    def transform(self, record: Any) -> Any:
        """Apply every transform in order; ``None`` from any of them filters the record."""
        value = record
        for fn in self.transforms:
            value = fn(value)
            if value is None:
                return None
        return value

    # -- delivery ----------------------------------------------------------------------

    def _call(self, items: list[_Item]) -> list[tuple[_Item, str]]:
        """Call the destination once; return the records it rejected."""
        batch = Batch(
            [i.mapped for i in items],
            keys=[i.key for i in items],
            fingerprints=[i.fp for i in items],
            sources=[i.source for i in items],
            integration=self.name,
        )
        result = self.dest.fn(batch)
        if result is None:
            return []
        rejected: list[tuple[_Item, str]] = []
        by_id = {id(i.mapped): i for i in items}
        for entry in result:
            target, reason = entry
            item = items[target] if isinstance(target, int) else by_id.get(id(target))
            if item is None:
                raise ConfigError(
                    "a destination returned a rejection for a record that is not in its batch; "
                    "return (index, reason) or (record, reason) pairs"
                )
            rejected.append((item, str(reason)))
        return rejected

    def deliver(self, work: _Work) -> _Work:
        """Deliver a batch with retries and bisection; fill in the outcome."""
        t0 = time.perf_counter()
        try:
            self._deliver(work, work.items)
        except _Stop as stop:
            work.fatal = stop.exc
        work.latency = time.perf_counter() - t0
        return work

    def _deliver(self, work: _Work, items: list[_Item]) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                rejected = self._call(items)
            except Exception as exc:  # noqa: BLE001 - classified right below
                kind = classify(exc)
                if kind == "fatal":
                    raise _Stop(exc) from exc
                if kind == "transient" and attempt <= self.dest.retries:
                    work.retries += 1
                    self.sleep(self.dest.backoff * 2 ** (attempt - 1))
                    continue
                if kind == "record" and len(items) > 1:
                    middle = len(items) // 2
                    self._deliver(work, items[:middle])
                    self._deliver(work, items[middle:])
                    return
                error = f"{type(exc).__name__}: {mask_text(str(exc))}"
                work.dead.extend(self._dead(i, "destination", error, attempt) for i in items)
                return
            rejected_ids = {id(item) for item, _ in rejected}
            work.delivered.extend(i for i in items if id(i) not in rejected_ids)
            work.dead.extend(self._dead(i, "destination", r, attempt) for i, r in rejected)
            return

    @staticmethod
    def _dead(item: _Item, stage: str, error: str, attempts: int) -> dict[str, Any]:
        return {
            "stage": stage,
            "key": item.key,
            "fingerprint": item.fp,
            "payload": item.source,
            "mapped": item.mapped,
            "error": error,
            "attempts": attempts,
        }

    # -- the loop ------------------------------------------------------------------------

    def run(
        self,
        records: Iterable[Any],
        *,
        advance_cursor: bool,
        limit: int | None = None,
    ) -> Any:
        """Push ``records`` through; return the source's final cursor (generator return value).

        Raises:
            FatalIntegrationError: a fatal error stopped the run.
        """
        report, store, dest = self.report, self.store, self.dest
        source = self.source
        iterator = iter(records)
        final_cursor: Any = None
        ordered = True
        high: Any = None
        seq = 0
        inflight: dict[int, _Work] = {}
        inflight_keys: dict[str, str] = {}
        futures: dict[Future[_Work], int] = {}
        done: dict[int, _Work] = {}
        next_commit = 0
        pool = (
            ThreadPoolExecutor(dest.concurrency, thread_name_prefix=f"apinotebook-{self.name}")
            if dest.concurrency > 1
            else None
        )
        fatal: BaseException | None = None

        def commit_ready() -> None:
            nonlocal next_commit, fatal
            while next_commit in done:
                work = done.pop(next_commit)
                if work.fatal is not None and fatal is None:
                    fatal = work.fatal
                if fatal is not None:  # the run stops: this batch and later ones change nothing
                    next_commit += 1
                    continue
                t0 = time.perf_counter()
                handled = [(i.key, i.fp) for i in work.delivered] + work.side
                handled += [(d["key"], d["fingerprint"]) for d in work.dead if d.get("key")]
                stopped = work.fatal is not None or fatal is not None
                store.commit(
                    handled,
                    work.dead,
                    cursor=work.end_cursor,
                    advance=advance_cursor
                    and ordered
                    and not stopped
                    and work.end_cursor is not None,
                )
                report.steps["state"] += time.perf_counter() - t0
                for item in work.items:
                    inflight_keys.pop(item.key, None)
                report.written += len(work.delivered)
                report.failed += len(work.dead)
                report.dead_lettered += len(work.dead)
                for d in work.dead:
                    report.errors[d["error"][:200]] += 1
                report.retries += work.retries
                report.batches += 1
                report.steps["destination"] += work.latency
                report.sample(work.latency)
                next_commit += 1
            self._tick()

        def collect(block: bool) -> None:
            if pool is None:
                return
            if not futures:
                return
            finished, _ = wait(
                list(futures), timeout=None if block else 0, return_when=FIRST_COMPLETED
            )
            for fut in finished:
                s = futures.pop(fut)
                done[s] = fut.result()
                inflight.pop(s, None)
            commit_ready()

        def submit(work: _Work) -> None:
            nonlocal seq
            seq += 1
            for item in work.items:
                inflight_keys[item.key] = item.fp
            if pool is None:
                done[work.seq] = self.deliver(work)
                commit_ready()
                return
            while len(futures) >= dest.concurrency:
                collect(block=True)
            inflight[work.seq] = work
            futures[pool.submit(self.deliver, work)] = work.seq

        try:
            pending: list[_Item] = []
            side: list[tuple[str, str]] = []
            dead: list[dict[str, Any]] = []
            chunk: list[tuple[Any, str, str, Any]] = []
            bs = dest.batch_size
            read = 0
            exhausted = False
            while not exhausted and fatal is None:
                # 1. read a chunk of source records
                t0 = time.perf_counter()
                chunk.clear()
                while len(chunk) < dest.batch_size:
                    if limit is not None and read >= limit:
                        exhausted = True
                        break
                    try:
                        record = next(iterator)
                    except StopIteration as stop:
                        final_cursor = stop.value
                        exhausted = True
                        break
                    read += 1
                    cursor = source.cursor_of(record) if source else None
                    if cursor is not None:
                        if high is not None and cursor < high:
                            ordered = False
                        high = cursor if high is None or cursor > high else high
                    key = source.key_of(record) if source else str(read)
                    fp = source.fingerprint(record, cursor) if source else ""
                    chunk.append((record, key, fp, cursor))
                report.steps["source"] += time.perf_counter() - t0
                report.read += len(chunk)
                # 2. dedupe against what was delivered before and what is in flight
                t0 = time.perf_counter()
                last: dict[str, int] = {}
                for index, (_, key, _, _) in enumerate(chunk):
                    last[key] = index
                seen = store.seen_fingerprints(last)
                fresh: list[tuple[Any, str, str, Any]] = []
                for index, (record, key, fp, cursor) in enumerate(chunk):
                    if (
                        last[key] != index
                        or is_stale(fp, seen.get(key))
                        or inflight_keys.get(key) == fp
                    ):
                        report.skipped_duplicate += 1
                        continue
                    fresh.append((record, key, fp, cursor))
                report.steps["dedupe"] += time.perf_counter() - t0
                # 3. map
                t0 = time.perf_counter()
                for record, key, fp, cursor in fresh:
                    try:
                        mapped = self.transform(record)
                    except Exception as exc:  # noqa: BLE001 - dead-lettered with its reason
                        error = f"{type(exc).__name__}: {mask_text(str(exc))}"
                        dead.append(
                            {
                                "stage": "transform",
                                "key": key,
                                "fingerprint": fp,
                                "payload": record,
                                "mapped": None,
                                "error": error,
                                "attempts": 1,
                            }
                        )
                        continue
                    if mapped is None:
                        report.skipped_filtered += 1
                        side.append((key, fp))
                        continue
                    report.mapped += 1
                    pending.append(_Item(key, fp, record, mapped, cursor))
                report.steps["transform"] += time.perf_counter() - t0
                # 4. hand full batches to the destination; the cursor may advance to the
                #    last record of a batch only when nothing before it is still pending
                while True:
                    end: Any = None
                    if len(pending) >= bs or (exhausted and pending):
                        items, pending = pending[:bs], pending[bs:]
                        end = high if not pending else items[-1].cursor
                    elif side or dead:
                        if pending and len(side) + len(dead) < bs:
                            break
                        items, end = [], None if pending else high
                    else:
                        break
                    if any(inflight_keys.get(i.key, i.fp) != i.fp for i in items):
                        while futures:  # a newer version must not overtake the older one
                            collect(block=True)
                    submit(_Work(seq, items, side, dead, end_cursor=end))
                    side, dead = [], []
                collect(block=False)
            while futures:
                collect(block=True)
            if fatal is not None:
                raise FatalIntegrationError(fatal_message(fatal, self.dest.name)) from fatal
            return final_cursor
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            self._tick(force=True)

    def _tick(self, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if force or now - self._last_progress > 0.25:
            self._last_progress = now
            try:
                self.progress(self.report)
            except Exception as exc:  # noqa: BLE001 - a display must never break a run
                log.debug("progress display failed: %s", exc)
                self.progress = None
