"""Durable integration state: checkpoints, seen keys, dead letters, runs, inbox.

One store can hold the state of several integrations (every row carries the
integration's name). Two backends keep the same tables with the same
semantics: a SQLite file (the default, see :mod:`._state_sqlite`) and a
PostgreSQL database (``state="postgresql://..."``, see :mod:`._state_pg`),
which runs on several machines share. The schema is versioned and upgraded
automatically (:mod:`._schema`). Each delivered batch is checkpointed in a
single transaction (seen keys + cursor), so a crash leaves either all of a
batch's bookkeeping or none of it.

Tables:

==============  ==============================================================
checkpoints     the cursor per integration (JSON), advanced only after delivery
seen            key -> fingerprint of the last delivered version of each record
dead_letters    records that failed mapping or delivery: payload, error, attempts
runs            one row per run with its report (JSON)
inbox           webhook events stored before they are acknowledged
schema_version  the migrations applied (:data:`._schema.MIGRATIONS`)
apinotebook_    the marker: this is an apinotebook state (format, schema)
state
==============  ==============================================================

Runs take the integration's lease (:meth:`StateStore.lease`, see
:mod:`apinotebook.integration._lease`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apinotebook._exceptions import ConfigError
from apinotebook.integration._lease import Lease
from apinotebook.integration._schema import Connection
from apinotebook.integration._state_pg import PgBackend, is_postgres_url
from apinotebook.integration._state_sqlite import SqliteBackend

__all__ = ["DeadLetter", "InboxEvent", "StateStore"]


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not be mapped or delivered, kept with its error."""

    id: int
    stage: str
    key: str | None
    payload: Any
    mapped: Any
    error: str
    attempts: int
    status: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class InboxEvent:
    """A webhook event stored durably before it was acknowledged."""

    id: int
    event_id: str
    received_at: float
    payload: Any
    status: str


def dumps(value: Any) -> str:
    """Canonical JSON for storage (sorted keys; dates and decimals as strings)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class StateStore:
    """The state of one integration, in SQLite or PostgreSQL.

    Args:
        path: the SQLite file (``":memory:"`` for a throwaway store), or a
            PostgreSQL URL (``postgresql://user@host/db``; needs the
            ``[postgres]`` extra).
        integration: the integration's name; rows are scoped by it.
        reset: start over: forget this integration's checkpoint, seen keys,
            inbox and dead letters, and accept an empty file (0 bytes, or a
            SQLite database without tables) that the package did not create.

    Raises:
        ConfigError: the file is not an apinotebook state (and ``reset`` was
            not given, or it holds another application's tables); the
            database cannot be reached; its schema is newer than this package.
    """

    def __init__(self, path: str | Path, integration: str, *, reset: bool = False) -> None:
        self.integration = integration
        #: the file or URL as given (a URL may hold a password: never display it)
        self.location = str(path)
        self.backend: SqliteBackend | PgBackend
        if is_postgres_url(path):
            self.backend = PgBackend(str(path))
        else:
            self.backend = SqliteBackend(path, reset=reset)
        #: where the state lives (a file path, or the URL with its password masked)
        self.path = self.backend.path
        if reset:
            self.reset(dead_letters=True)

    def lease(self) -> Lease:
        """The lease a run of this integration holds (one run at a time, across processes).

        A file's is an OS lock on ``<path>.<integration>.lock``, a PostgreSQL
        state's an advisory lock; both are released when the holding process
        ends, however it ends.
        """
        return self.backend.lease(self.integration)

    def _connect(self) -> Connection:
        """This thread's connection (``?`` placeholders on every backend)."""
        return self.backend.connect()

    def _tx(self) -> AbstractContextManager[Connection]:
        """One write transaction."""
        return self.backend.tx()

    def close(self) -> None:
        """Close every connection this store opened, in any thread."""
        self.backend.close()

    # -- checkpoint ---------------------------------------------------------------

    def cursor(self) -> Any:
        """The last checkpointed cursor, or ``None``."""
        row = (
            self._connect()
            .execute("SELECT cursor FROM checkpoints WHERE integration = ?", (self.integration,))
            .fetchone()
        )
        return None if row is None or row[0] is None else json.loads(row[0])

    def commit(
        self,
        handled: Sequence[tuple[str, str]],
        dead_letters: Sequence[dict[str, Any]] = (),
        *,
        cursor: Any = None,
        advance: bool = False,
    ) -> None:
        """Record handled ``(key, fingerprint)`` pairs, dead letters, and maybe the cursor.

        Everything happens in one transaction: a crash keeps all of it or none
        of it. A dead letter is a dict with ``stage``, ``key``, ``fingerprint``,
        ``payload``, ``mapped``, ``error`` and ``attempts``.
        """
        now = time.time()
        # the last version of each key, in key order (no deadlocks between writers)
        pairs = sorted(dict(handled).items())
        if isinstance(self.backend, PgBackend) and not dead_letters:  # one round trip
            self.backend.commit_seen(self.integration, pairs, dumps(cursor) if advance else None)
            return
        with self._tx() as db:
            if pairs:
                self.backend.upsert_seen(db, self.integration, pairs, now)
            if dead_letters:
                db.executemany(
                    "INSERT INTO dead_letters (integration, stage, key, fingerprint, payload, "
                    "mapped, error, attempts, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [self._dead_row(it, now) for it in dead_letters],
                )
            if advance:
                db.execute(
                    "INSERT INTO checkpoints (integration, cursor, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (integration) DO UPDATE SET cursor = excluded.cursor, "
                    "updated_at = excluded.updated_at",
                    (self.integration, dumps(cursor), now),
                )

    def _dead_row(self, it: dict[str, Any], now: float) -> tuple[Any, ...]:
        mapped = it.get("mapped")
        return (
            self.integration,
            it["stage"],
            it.get("key"),
            it.get("fingerprint"),
            dumps(it["payload"]),
            None if mapped is None else dumps(mapped),
            it["error"],
            it.get("attempts", 1),
            now,
            now,
        )

    def seen_fingerprints(self, keys: Iterable[str]) -> dict[str, str]:
        """The stored fingerprint of each key that was delivered before."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, str] = {}
        db = self._connect()
        size = self.backend.chunk
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            marks = ",".join("?" * len(chunk))
            out.update(
                db.execute(
                    f"SELECT key, fingerprint FROM seen WHERE integration = ? AND key IN ({marks})",
                    (self.integration, *chunk),
                ).fetchall()
            )
        return out

    def seen_count(self) -> int:
        """How many distinct keys were delivered."""
        row = (
            self._connect()
            .execute("SELECT COUNT(*) FROM seen WHERE integration = ?", (self.integration,))
            .fetchone()
        )
        return int(row[0])

    # -- dead letters -------------------------------------------------------------

    def dead_letters(self, status: str | None = "pending") -> list[DeadLetter]:
        """Dead letters, oldest first (``status=None`` for all)."""
        sql = (
            "SELECT id, stage, key, payload, mapped, error, attempts, status, created_at, "
            "updated_at FROM dead_letters WHERE integration = ?"
        )
        args: tuple[Any, ...] = (self.integration,)
        if status is not None:
            sql += " AND status = ?"
            args += (status,)
        rows = self._connect().execute(sql + " ORDER BY id", args).fetchall()
        return [
            DeadLetter(
                r[0],
                r[1],
                r[2],
                json.loads(r[3]),
                None if r[4] is None else json.loads(r[4]),
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
            )
            for r in rows
        ]

    def resolve_dead_letter(
        self, letter_id: int, *, error: str | None, status: str = "resolved"
    ) -> None:
        """Mark a replayed dead letter ``status`` (resolved, superseded), or count a failure."""
        with self._tx() as db:
            if error is None:
                db.execute(
                    "UPDATE dead_letters SET status = ?, updated_at = ? WHERE id = ?",
                    (status, time.time(), letter_id),
                )
            else:
                db.execute(
                    "UPDATE dead_letters SET attempts = attempts + 1, error = ?, updated_at = ? "
                    "WHERE id = ?",
                    (error, time.time(), letter_id),
                )

    # -- runs -----------------------------------------------------------------------

    def start_run(self) -> int:
        """Open a run row; returns its id."""
        with self._tx() as db:
            row = db.execute(
                "INSERT INTO runs (integration, started_at, status) VALUES (?, ?, 'running') "
                "RETURNING id",
                (self.integration, time.time()),
            ).fetchone()
            return int(row[0])

    def finish_run(self, run_id: int, status: str, report: dict[str, Any]) -> None:
        """Close a run row with its report."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, report = ? WHERE id = ?",
                (time.time(), status, dumps(report), run_id),
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent runs, newest first."""
        rows = (
            self._connect()
            .execute(
                "SELECT id, started_at, finished_at, status, report FROM runs "
                "WHERE integration = ? ORDER BY id DESC LIMIT ?",
                (self.integration, limit),
            )
            .fetchall()
        )
        return [
            {
                "id": r[0],
                "started_at": r[1],
                "finished_at": r[2],
                "status": r[3],
                "report": None if r[4] is None else json.loads(r[4]),
            }
            for r in rows
        ]

    # -- webhook inbox ----------------------------------------------------------------

    def store_event(self, event_id: str, payload: Any) -> bool:
        """Store an event durably; ``False`` if this event id was stored before."""
        with self._tx() as db:
            row = db.execute(
                "INSERT INTO inbox (integration, event_id, received_at, payload) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (integration, event_id) DO NOTHING RETURNING id",
                (self.integration, event_id, time.time(), dumps(payload)),
            ).fetchone()
            return row is not None

    def pending_events(self, limit: int = 500) -> list[InboxEvent]:
        """Events not processed yet, oldest first."""
        rows = (
            self._connect()
            .execute(
                "SELECT id, event_id, received_at, payload, status FROM inbox "
                "WHERE integration = ? AND status = 'pending' ORDER BY id LIMIT ?",
                (self.integration, limit),
            )
            .fetchall()
        )
        return [InboxEvent(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def mark_events(self, ids: Sequence[int], status: str, error: str | None = None) -> None:
        """Mark inbox events processed (or failed)."""
        if not ids:
            return
        with self._tx() as db:
            db.executemany(
                "UPDATE inbox SET status = ?, error = ? WHERE id = ?",
                [(status, error, i) for i in ids],
            )

    def event_counts(self) -> dict[str, int]:
        """Inbox events per status."""
        rows = (
            self._connect()
            .execute(
                "SELECT status, COUNT(*) FROM inbox WHERE integration = ? GROUP BY status",
                (self.integration,),
            )
            .fetchall()
        )
        return {str(s): int(n) for s, n in rows}

    # -- reset ------------------------------------------------------------------------

    def reset(self, *, dead_letters: bool = True, runs: bool = False) -> None:
        """Forget the cursor and seen keys (and dead letters; runs only if asked)."""
        with self._tx() as db:
            db.execute("DELETE FROM checkpoints WHERE integration = ?", (self.integration,))
            db.execute("DELETE FROM seen WHERE integration = ?", (self.integration,))
            db.execute("DELETE FROM inbox WHERE integration = ?", (self.integration,))
            if dead_letters:
                db.execute("DELETE FROM dead_letters WHERE integration = ?", (self.integration,))
            if runs:
                db.execute("DELETE FROM runs WHERE integration = ?", (self.integration,))

    def summary(self) -> dict[str, Any]:
        """Cursor, seen keys, pending dead letters, inbox and the last run."""
        db = self._connect()
        pending = db.execute(
            "SELECT COUNT(*) FROM dead_letters WHERE integration = ? AND status = 'pending'",
            (self.integration,),
        ).fetchone()[0]
        last = self.runs(1)
        return {
            "integration": self.integration,
            "path": self.path,
            "cursor": self.cursor(),
            "seen": self.seen_count(),
            "dead_letters": int(pending),
            "inbox": self.event_counts(),
            "last_run": last[0] if last else None,
        }


def check_name(name: str) -> str:
    """Integration names are labels in state files and logs: keep them simple."""
    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise ConfigError(
            f"integration name {name!r} must be non-empty and use only letters, digits, "
            "'-', '_' or '.'"
        )
    return name
