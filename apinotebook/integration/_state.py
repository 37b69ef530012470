"""Durable integration state in SQLite: checkpoints, seen keys, dead letters, runs, inbox.

One file can hold the state of several integrations (every row carries the
integration's name). The database runs in WAL mode with ``synchronous=NORMAL``:
a committed transaction survives the process being killed (SIGKILL) at any
point, which is what the crash tests exercise. Each delivered batch is
checkpointed in a single transaction (seen keys + cursor), so a crash leaves
either all of a batch's bookkeeping or none of it.

Tables:

============  ================================================================
checkpoints   the cursor per integration (JSON), advanced only after delivery
seen          key -> fingerprint of the last delivered version of each record
dead_letters  records that failed mapping or delivery: payload, error, attempts
runs          one row per run with its report (JSON)
inbox         webhook events stored before they are acknowledged
apinotebook_  the marker: this file is an apinotebook state (format, schema)
state
============  ================================================================

A file is opened as state only if the package created it (the marker table,
or every table of the schema for files made before the marker existed). A
0-byte file, an empty or foreign SQLite database would otherwise look like new
state and every record would be delivered again; it is refused unless the
caller says to start over (``reset=True``). A new file is built under a
temporary name and linked into place, so a concurrent opener never sees it
half made.

Runs take the integration's lease (:meth:`StateStore.lease`, see
:mod:`apinotebook.integration._lease`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apinotebook._exceptions import ConfigError
from apinotebook.integration._lease import FileLease, Lease, LocalLease

__all__ = ["DeadLetter", "InboxEvent", "StateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    integration TEXT PRIMARY KEY,
    cursor TEXT,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seen (
    integration TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (integration, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    integration TEXT NOT NULL,
    stage TEXT NOT NULL,
    key TEXT,
    fingerprint TEXT,
    payload TEXT NOT NULL,
    mapped TEXT,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_pending ON dead_letters (integration, status);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    integration TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    report TEXT
);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    integration TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    error TEXT,
    UNIQUE (integration, event_id)
);
"""

_MARKER = """
CREATE TABLE IF NOT EXISTS apinotebook_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO apinotebook_state (key, value) VALUES
    ('format', 'apinotebook integration state'), ('schema', '1');
"""
_MARKER_TABLE = "apinotebook_state"
_TABLES = frozenset({"checkpoints", "seen", "dead_letters", "runs", "inbox"})

#: SQLite's limit on host parameters is 999 in old builds; stay below it.
_CHUNK = 500


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


def _close_all(connections: list[sqlite3.Connection]) -> None:
    while connections:
        connections.pop().close()


def dumps(value: Any) -> str:
    """Canonical JSON for storage (sorted keys; dates and decimals as strings)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class StateStore:
    """SQLite-backed state for one integration.

    Args:
        path: the database file (``":memory:"`` for a throwaway store).
        integration: the integration's name; rows are scoped by it.
        reset: start over: forget this integration's checkpoint, seen keys,
            inbox and dead letters, and accept an empty file (0 bytes, or a
            SQLite database without tables) that the package did not create.

    Raises:
        ConfigError: the file is not an apinotebook state (and ``reset`` was
            not given, or it holds another application's tables).
    """

    def __init__(self, path: str | Path, integration: str, *, reset: bool = False) -> None:
        self.path = str(path)
        self.integration = integration
        self._local = threading.local()
        self._lock = threading.RLock()
        self._memory: sqlite3.Connection | None = None
        self._all: list[sqlite3.Connection] = []
        self._local_lease: LocalLease | None = None
        # a store dropped without close() still closes its connections (no leak,
        # no "unclosed database" warning at some unrelated later moment)
        weakref.finalize(self, _close_all, self._all)
        try:
            if self.path != ":memory:":
                self._create_or_check(reset=reset)
            with self._lock:
                self._connect().executescript(_SCHEMA + _MARKER)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ConfigError(
                f"cannot open the integration state at {self.path!r}: {exc}. "
                "Is it an apinotebook state file? Use another path or delete it."
            ) from exc
        except BaseException:
            self.close()
            raise
        if reset:
            self.reset(dead_letters=True)

    # -- the file ----------------------------------------------------------------

    def _create_or_check(self, *, reset: bool) -> None:
        """Create a new state file atomically, or check that an existing one is ours."""
        path = Path(self.path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.new")
            try:
                db = sqlite3.connect(temp, isolation_level=None)
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.executescript(_SCHEMA + _MARKER)
                finally:
                    db.close()
                try:
                    os.link(temp, path)  # fails if another process made it first: use theirs
                except FileExistsError:
                    pass
                except OSError:  # no hard links here (some network or FAT file systems)
                    if not path.exists():
                        os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
        db = sqlite3.connect(path, timeout=30)  # only reads: a 0-byte file stays 0 bytes
        try:
            tables = {
                str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            db.close()
        if _MARKER_TABLE in tables or _TABLES <= tables:  # ours (or ours before the marker)
            return
        others = sorted(t for t in tables if not t.startswith("sqlite_"))
        if others:
            listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            raise ConfigError(
                f"{self.path!r} is not an apinotebook integration state: it is a SQLite "
                f"database of something else (tables {listed}). Use another path for the state."
            )
        if reset:
            return
        size = path.stat().st_size
        what = "an empty file (0 bytes)" if size == 0 else "an empty SQLite database"
        raise ConfigError(
            f"{self.path!r} is {what}, not a state apinotebook created: opening it as new "
            "state would deliver every record again. If the state was lost, restore it from a "
            "backup; if you mean to start over, pass reset=True once (Integration(..., "
            "reset=True)) or delete the file."
        )

    def lease(self) -> Lease:
        """The lease a run of this integration holds (one run at a time, across processes).

        For a file, an OS lock on ``<path>.<integration>.lock`` (released when
        the holding process ends, however it ends); for ``":memory:"``, a lock
        in this process.
        """
        if self.path == ":memory:":
            if self._local_lease is None:
                self._local_lease = LocalLease(self.integration)
            return self._local_lease
        return FileLease(
            f"{self.path}.{self.integration}.lock", self.integration, where=f"state {self.path!r}"
        )

    # -- connections ------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            if self._memory is None:
                self._memory = sqlite3.connect(
                    ":memory:", check_same_thread=False, isolation_level=None
                )
                self._all.append(self._memory)
            return self._memory
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # one connection per thread; check_same_thread=False only so close() can
            # close the connections other threads (webhook, scheduler) opened
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            with self._lock:
                self._all.append(db)  # before anything can fail: close() must see it
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction (serialised across threads of this process)."""
        with self._lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this store opened, in any thread."""
        with self._lock:
            self._memory = None
            _close_all(self._all)
        self._local = threading.local()

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
        with self._tx() as db:
            if handled:
                db.executemany(
                    "INSERT INTO seen (integration, key, fingerprint, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (integration, key) DO UPDATE SET "
                    "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                    [(self.integration, k, fp, now) for k, fp in handled],
                )
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
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
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
            cur = db.execute(
                "INSERT INTO runs (integration, started_at, status) VALUES (?, ?, 'running')",
                (self.integration, time.time()),
            )
            return int(cur.lastrowid or 0)

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
            cur = db.execute(
                "INSERT OR IGNORE INTO inbox (integration, event_id, received_at, payload) "
                "VALUES (?, ?, ?, ?)",
                (self.integration, event_id, time.time(), dumps(payload)),
            )
            return cur.rowcount == 1

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
