"""The SQLite state backend: one file (or ``":memory:"``), WAL, one connection per thread.

The database runs in WAL mode with ``synchronous=NORMAL``: a committed
transaction survives the process being killed (SIGKILL) at any point, which
is what the crash tests exercise.

A file is opened as state only if the package created it (the marker table,
or every table of the schema for files made before the marker existed). A
0-byte file, an empty or foreign SQLite database would otherwise look like new
state and every record would be delivered again; it is refused unless the
caller says to start over (``reset=True``). A new file is built under a
temporary name and linked into place, so a concurrent opener never sees it
half made.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apinotebook._exceptions import ConfigError
from apinotebook.integration._lease import FileLease, Lease, LocalLease
from apinotebook.integration._schema import Connection, migrate

__all__ = ["SqliteBackend"]

_MARKER_TABLE = "apinotebook_state"
_TABLES = frozenset({"checkpoints", "seen", "dead_letters", "runs", "inbox"})


def _close_all(connections: list[sqlite3.Connection]) -> None:
    while connections:
        connections.pop().close()


class SqliteBackend:
    """Connections, transactions and the lease of a SQLite state.

    Args:
        path: the database file (``":memory:"`` for a throwaway store).
        reset: accept an empty file (0 bytes, or a SQLite database without
            tables) that the package did not create.

    Raises:
        ConfigError: the file is not an apinotebook state.
    """

    dialect = "sqlite"
    #: SQLite's limit on host parameters is 999 in old builds; stay below it.
    chunk = 500

    def __init__(self, path: str | Path, *, reset: bool = False) -> None:
        self.path = str(path)
        self.where = repr(self.path)
        self._local = threading.local()
        self._lock = threading.RLock()
        self._memory: sqlite3.Connection | None = None
        self._all: list[sqlite3.Connection] = []
        self._local_leases: dict[str, LocalLease] = {}
        # a store dropped without close() still closes its connections (no leak,
        # no "unclosed database" warning at some unrelated later moment)
        weakref.finalize(self, _close_all, self._all)
        try:
            if self.path != ":memory:":
                self._create_or_check(reset=reset)
            with self.tx() as db:
                migrate(db, where=self.where)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ConfigError(
                f"cannot open the integration state at {self.path!r}: {exc}. "
                "Is it an apinotebook state file? Use another path or delete it."
            ) from exc
        except BaseException:
            self.close()
            raise

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
                    db.execute("BEGIN IMMEDIATE")
                    migrate(db, where=repr(str(temp)))
                    db.execute("COMMIT")
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

    def lease(self, integration: str) -> Lease:
        """The lease of one integration on this state (see :mod:`._lease`).

        For a file, an OS lock on ``<path>.<integration>.lock`` (released when
        the holding process ends, however it ends); for ``":memory:"``, a lock
        in this process.
        """
        if self.path == ":memory:":
            return self._local_leases.setdefault(integration, LocalLease(integration))
        return FileLease(
            f"{self.path}.{integration}.lock", integration, where=f"state {self.path!r}"
        )

    # -- connections ------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """This thread's connection."""
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
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction (serialised across threads of this process)."""
        with self._lock:
            db = self.connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    @staticmethod
    def upsert_seen(
        db: Connection, integration: str, pairs: list[tuple[str, str]], now: float
    ) -> None:
        """Record delivered ``(key, fingerprint)`` pairs (inside a transaction)."""
        db.executemany(
            "INSERT INTO seen (integration, key, fingerprint, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (integration, key) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
            [(integration, k, fp, now) for k, fp in pairs],
        )

    def close(self) -> None:
        """Close every connection this backend opened, in any thread."""
        with self._lock:
            self._memory = None
            _close_all(self._all)
        self._local = threading.local()
