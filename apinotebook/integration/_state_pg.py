"""The PostgreSQL state backend: shared state for runs on several machines.

``Integration(name, state="postgresql://user@host/db")`` keeps the same
tables as the SQLite file (see :mod:`._schema`), in their own PostgreSQL
schema (``apinotebook`` unless the URL says ``?schema=NAME``) so they never
meet the application's tables. It needs the ``[postgres]`` extra (psycopg 3).

Semantics are those of the SQLite store: each delivered batch is checkpointed
in one transaction, committed before the run moves on; write transactions of
one process are serialised (as SQLite does) and keys are written in sorted
order, so two processes never deadlock on the ``seen`` table.

The lease is a session-level advisory lock (``pg_try_advisory_lock``) held
on a connection of its own: the server releases it when that connection
ends, so a killed run (SIGKILL, a lost machine: the session's TCP keepalives
are set to notice within about a minute) never blocks the next one.

Put the password in ``PGPASSWORD`` or ``~/.pgpass`` rather than in the URL;
a password that is in the URL is masked wherever the URL is shown.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from apinotebook._core.secrets import mask_url, register_secret
from apinotebook._exceptions import ConfigError
from apinotebook.integration._lease import _pause, already_running
from apinotebook.integration._schema import Connection, for_postgres, migrate

__all__ = ["PgBackend", "PgLease", "is_postgres_url"]

_SCHEMES = ("postgresql://", "postgres://")
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE
#: the advisory lock that serialises schema migrations (any constant of our own)
_MIGRATION_LOCK = 0x61706E62_00000001


def is_postgres_url(value: object) -> bool:
    """Whether ``state=`` names a PostgreSQL database."""
    return isinstance(value, str) and value.startswith(_SCHEMES)


@lru_cache(maxsize=256)
def _placeholders(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s``."""
    return sql.replace("%", "%%").replace("?", "%s")


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError(
            "a PostgreSQL state needs psycopg: pip install 'apinotebook[postgres]'"
        ) from exc
    return psycopg


class _Connection:
    """A psycopg connection that takes ``?`` placeholders, like ``sqlite3``.

    A statement outside a transaction that finds the connection dropped (the
    server restarted) is sent once more on a new connection; inside a
    transaction the error goes to the caller, which rolls back.
    """

    def __init__(self, backend: PgBackend) -> None:
        self.backend = backend
        self.raw = backend.open()
        self.in_tx = False

    def reopen(self) -> None:
        self.raw.close()
        self.raw = self.backend.open()

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        try:
            return self.raw.execute(_placeholders(sql), parameters or None)
        except self.backend.psycopg.OperationalError:
            if self.in_tx or not self.raw.broken:
                raise
        self.reopen()
        return self.raw.execute(_placeholders(sql), parameters or None)

    def executemany(self, sql: str, parameters: Any) -> Any:
        cur = self.raw.cursor()
        cur.executemany(_placeholders(sql), list(parameters))
        return cur


def lock_key(namespace: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name``."""
    digest = hashlib.blake2b(f"apinotebook:{namespace}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PgBackend:
    """Connections, transactions and leases of a PostgreSQL state.

    Args:
        url: ``postgresql://[user[:password]@]host[:port]/database[?schema=NAME&...]``;
            other query parameters are libpq's (``sslmode``, ``connect_timeout``...).

    Raises:
        ConfigError: psycopg is missing, the server cannot be reached, or the
            state's schema is newer than this package.
    """

    dialect = "postgresql"
    chunk = 5000

    def __init__(self, url: str) -> None:
        self.psycopg = _import_psycopg()
        parts = urlsplit(url)
        if parts.password:
            register_secret(parts.password)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.schema = query.pop("schema", "apinotebook")
        if not self.schema.replace("_", "").isalnum():
            raise ConfigError(f"schema={self.schema!r}: use letters, digits and '_' only")
        self.url = urlunsplit(parts._replace(query=urlencode(query)))
        self.path = mask_url(url)
        self.where = f"PostgreSQL {self.path}"
        self._local = threading.local()
        self._lock = threading.RLock()
        self._all: list[_Connection] = []
        try:
            with self.tx() as db:
                db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
                db.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                migrate(db, where=self.where, dialect=for_postgres)
        except BaseException:
            self.close()
            raise

    def open(self, **options: Any) -> Any:
        """A new autocommit psycopg connection with our schema first on the search path."""
        try:
            return self.psycopg.connect(
                self.url,
                autocommit=True,
                prepare_threshold=None,  # custom plans: a generic plan made seen lookups scans
                options=f"-c search_path={self.schema}",
                **options,
            )
        except self.psycopg.OperationalError as exc:
            raise ConfigError(
                f"cannot connect to the integration state at {self.where}: "
                f"{mask_url(str(exc).strip())}. Is the server running and the URL right?"
            ) from exc

    def connect(self) -> _Connection:
        """This thread's connection (reopened if the server dropped it)."""
        db: _Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = _Connection(self)
            with self._lock:
                self._all.append(db)
            self._local.db = db
        elif db.raw.closed or db.raw.broken:
            db.reopen()
        return db

    @contextmanager
    def tx(self) -> Iterator[_Connection]:
        """One transaction, its statements pipelined (one round trip to commit).

        Write transactions of this process are serialised, as in SQLite.
        """
        with self._lock:
            db = self.connect()
            db.execute("BEGIN")  # a dropped connection is replaced here, before any write
            db.in_tx = True
            try:
                with db.raw.pipeline():
                    yield db
                    db.raw.execute("COMMIT")
            except BaseException:
                if not db.raw.broken and db.raw.info.transaction_status != _IDLE:
                    db.raw.execute("ROLLBACK")
                raise
            finally:
                db.in_tx = False

    @staticmethod
    def upsert_seen(
        db: Connection, integration: str, pairs: list[tuple[str, str]], now: float
    ) -> None:
        """Record delivered ``(key, fingerprint)`` pairs in one statement (unique keys)."""
        db.execute(
            "INSERT INTO seen (integration, key, fingerprint, updated_at) "
            "SELECT ?, k, f, ? FROM unnest(?::text[], ?::text[]) AS t (k, f) "
            "ON CONFLICT (integration, key) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
            (integration, now, [k for k, _ in pairs], [f for _, f in pairs]),
        )

    def commit_seen(
        self, integration: str, pairs: list[tuple[str, str]], cursor: str | None
    ) -> None:
        """Delivered pairs and the checkpoint in one statement (atomic on its own).

        One round trip per batch: a statement outside a transaction commits
        all of its parts or none; ``cursor`` is ``None`` to leave it.
        """
        self.connect().execute(
            "WITH s AS (INSERT INTO seen (integration, key, fingerprint, updated_at) "
            "SELECT ?::text, k, f, now_s FROM unnest(?::text[], ?::text[]) AS t (k, f), "
            "(SELECT extract(epoch FROM clock_timestamp())::double precision AS now_s) AS n "
            "ON CONFLICT (integration, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "updated_at = excluded.updated_at), "
            "c AS (INSERT INTO checkpoints (integration, cursor, updated_at) "
            "SELECT ?::text, ?::text, extract(epoch FROM clock_timestamp()) WHERE ?::boolean "
            "ON CONFLICT (integration) DO UPDATE SET cursor = excluded.cursor, "
            "updated_at = excluded.updated_at) SELECT 1",
            (
                integration,
                [k for k, _ in pairs],
                [f for _, f in pairs],
                integration,
                cursor,
                cursor is not None,
            ),
        )

    def lease(self, integration: str) -> PgLease:
        """The advisory-lock lease of one integration on this database."""
        return PgLease(self, integration)

    def close(self) -> None:
        """Close every connection this backend opened, in any thread."""
        with self._lock:
            while self._all:
                self._all.pop().raw.close()
        self._local = threading.local()


class PgLease:
    """A session advisory lock on a connection of its own, held for one run."""

    def __init__(self, backend: PgBackend, name: str) -> None:
        self.backend = backend
        self.name = name
        self.key = lock_key(backend.schema, name)
        self._conn: Any = None

    def acquire(self, *, wait: float = 0.0) -> None:
        """See :meth:`Lease.acquire`."""
        if self._conn is not None:
            raise already_running(self.name, self.backend.where, 0, " (in this process)")
        holder = f"apinotebook {self.name} pid {os.getpid()} on {socket.gethostname()}"
        conn = self.backend.open(application_name=holder[:63])
        deadline = time.monotonic() + max(wait, 0.0)
        step = 0.02
        try:
            # a holder whose machine vanished is noticed within ~10 + 5 * 3 seconds
            conn.execute("SET tcp_keepalives_idle = 10")
            conn.execute("SET tcp_keepalives_interval = 5")
            conn.execute("SET tcp_keepalives_count = 3")
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
                if not _pause(deadline, step):
                    raise already_running(self.name, self.backend.where, wait, self._holder(conn))
                step = min(step * 2, 0.5)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _holder(self, conn: Any) -> str:
        row = conn.execute(
            "SELECT a.application_name, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.objsubid = 1 AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
            (self.key,),
        ).fetchone()
        if not row or not row[0]:
            return ""
        since = row[1].strftime(" since %Y-%m-%d %H:%M:%S %Z") if row[1] else ""
        return f" ({str(row[0]).removeprefix('apinotebook ' + self.name + ' ')}{since})"

    def release(self) -> None:
        """See :meth:`Lease.release`; closing the session releases the lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __del__(self) -> None:
        self.release()
