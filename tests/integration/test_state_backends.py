"""What differs between the state backends: schema versions, upgrades, connections, URLs."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from apinotebook import ConfigError
from apinotebook.integration import Integration, StateStore, _schema

# the schema of the files apinotebook wrote before schema versions existed
LEGACY = """
CREATE TABLE checkpoints (integration TEXT PRIMARY KEY, cursor TEXT, updated_at REAL NOT NULL);
CREATE TABLE seen (integration TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    updated_at REAL NOT NULL, PRIMARY KEY (integration, key)) WITHOUT ROWID;
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, integration TEXT NOT NULL,
    stage TEXT NOT NULL, key TEXT, fingerprint TEXT, payload TEXT NOT NULL, mapped TEXT,
    error TEXT NOT NULL, attempts INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, integration TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL, report TEXT);
CREATE TABLE inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, integration TEXT NOT NULL,
    event_id TEXT NOT NULL, received_at REAL NOT NULL, payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', error TEXT, UNIQUE (integration, event_id));
CREATE TABLE apinotebook_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO apinotebook_state VALUES ('format', 'apinotebook integration state'), ('schema', '1');
INSERT INTO checkpoints VALUES ('old', '"2026-01-01"', 0);
INSERT INTO seen VALUES ('old', 'k1', 'f1', 0);
"""


def versions(store: StateStore) -> list[int]:
    rows = store._connect().execute("SELECT version FROM schema_version ORDER BY version")
    return [int(r[0]) for r in rows.fetchall()]


def test_a_new_state_records_its_schema_version(state_url: str) -> None:
    store = StateStore(state_url, "x")
    try:
        assert versions(store) == list(range(1, len(_schema.MIGRATIONS) + 1))
        marker = store._connect().execute(
            "SELECT value FROM apinotebook_state WHERE key = 'schema'"
        )
        assert marker.fetchone()[0] == str(len(_schema.MIGRATIONS))
    finally:
        store.close()


def test_a_new_migration_is_applied_once_on_the_next_open(
    state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore(state_url, "x")
    store.commit([("k", "f")], cursor="c1", advance=True)
    store.close()
    extra = "ALTER TABLE runs ADD COLUMN host TEXT; CREATE INDEX runs_host ON runs (host);"
    monkeypatch.setattr(_schema, "MIGRATIONS", [*_schema.MIGRATIONS, extra])
    upgraded = StateStore(state_url, "x")
    again = StateStore(state_url, "x")  # already there: applied once, not twice
    try:
        assert versions(upgraded)[-1] == len(_schema.MIGRATIONS)
        assert len(versions(again)) == len(_schema.MIGRATIONS)
        assert upgraded.cursor() == "c1" and upgraded.seen_fingerprints(["k"]) == {"k": "f"}
        run = upgraded.start_run()
        upgraded._connect().execute("UPDATE runs SET host = ? WHERE id = ?", ("h1", run))
        row = upgraded._connect().execute("SELECT host FROM runs WHERE id = ?", (run,))
        assert row.fetchone()[0] == "h1"
    finally:
        upgraded.close()
        again.close()


def test_a_state_from_a_newer_apinotebook_is_refused(state_url: str) -> None:
    store = StateStore(state_url, "x")
    with store._tx() as db:
        db.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, 0)", (99,))
    store.close()
    with pytest.raises(ConfigError, match="schema version 99, newer than this apinotebook"):
        StateStore(state_url, "x")


def test_opening_a_new_state_from_many_threads_at_once_builds_it_once(state_url: str) -> None:
    stores: list[StateStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(StateStore(state_url, "x"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == [] and len(stores) == 6
        assert versions(stores[0]) == list(range(1, len(_schema.MIGRATIONS) + 1))
    finally:
        for s in stores:
            s.close()


def test_a_legacy_sqlite_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(LEGACY)
    db.close()
    store = StateStore(path, "old")
    try:
        assert versions(store) == list(range(1, len(_schema.MIGRATIONS) + 1))
        assert store.cursor() == "2026-01-01" and store.seen_fingerprints(["k1"]) == {"k1": "f1"}
    finally:
        store.close()


def test_the_postgres_ddl_is_translated() -> None:
    ddl = _schema.for_postgres(_schema.MIGRATIONS[0])
    assert "AUTOINCREMENT" not in ddl and "WITHOUT ROWID" not in ddl
    assert "GENERATED BY DEFAULT AS IDENTITY" in ddl and " REAL" not in ddl
    assert "DOUBLE PRECISION" in ddl  # timestamps keep sub-second precision


# -- PostgreSQL only ---------------------------------------------------------------------


@pytest.fixture
def pg_url(postgres) -> str:  # type: ignore[no-untyped-def]
    return str(postgres.new_database())


def test_postgres_tables_live_in_their_own_schema(pg_url: str) -> None:
    import psycopg

    store = StateStore(pg_url, "x")
    other = StateStore(pg_url + "?schema=staging", "x")
    try:
        store.commit([("k", "f")], cursor=1, advance=True)
        assert other.cursor() is None and other.seen_count() == 0  # separate tables
        with psycopg.connect(pg_url) as conn:
            tables = {
                (r[0], r[1])
                for r in conn.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_name = 'seen'"
                )
            }
        assert tables == {("apinotebook", "seen"), ("staging", "seen")}  # not in public
    finally:
        store.close()
        other.close()
    with pytest.raises(ConfigError, match="schema="):
        StateStore(pg_url + "?schema=bad;name", "x")


def test_a_password_in_the_url_is_masked_everywhere(pg_url: str, postgres) -> None:  # type: ignore[no-untyped-def]
    secret = "pw-Zq81-not-shown"
    url = pg_url.replace("apinotebook@", f"apinotebook:{secret}@")  # trust auth ignores it
    sync = Integration("masked", state=url, progress=None)
    try:
        assert secret not in sync.store.path and secret not in repr(sync.state)
    finally:
        sync.close()
    unreachable = f"postgresql://u:{secret}@127.0.0.1:1/none?connect_timeout=2"
    with pytest.raises(ConfigError, match="cannot connect") as info:
        StateStore(unreachable, "x")
    assert secret not in str(info.value)


def test_the_store_reconnects_after_the_server_restarts(pg_url: str, postgres) -> None:  # type: ignore[no-untyped-def]
    store = StateStore(pg_url, "x")
    try:
        store.commit([("a", "1")], cursor="c1", advance=True)
        postgres.restart()
        assert store.cursor() == "c1"  # the dropped connection is replaced
        store.commit([("b", "2")], cursor="c2", advance=True)
        assert store.seen_count() == 2 and store.cursor() == "c2"
    finally:
        store.close()
