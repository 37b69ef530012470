"""A state file the package did not create is refused, unless the caller starts over."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from apinotebook import ConfigError
from apinotebook.integration import Integration, StateStore


def _integration(path: Path, **options: object) -> tuple[Integration, list[str]]:
    delivered: list[str] = []
    sync = Integration("marker-test", state=path, progress=None, **options)  # type: ignore[arg-type]
    sync.source(key="id")(lambda since: iter([{"id": "a"}, {"id": "b"}]))
    sync.destination(lambda batch: delivered.extend(r["id"] for r in batch))
    return sync, delivered


def test_a_zero_byte_state_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    with pytest.raises(ConfigError) as info:
        _integration(path)
    message = str(info.value)
    assert "0 bytes" in message and "reset=True" in message and "deliver every record" in message
    assert path.stat().st_size == 0


def test_an_empty_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 1")  # a valid SQLite file without tables
    db.commit()
    db.close()
    assert path.stat().st_size > 0
    with pytest.raises(ConfigError, match="reset=True"):
        StateStore(path, "x")


def test_another_applications_database_is_refused_even_with_reset(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO users (name) VALUES ('ada')")
    db.commit()
    db.close()
    for reset in (False, True):
        with pytest.raises(ConfigError, match="users"):
            StateStore(path, "x", reset=reset)
    db = sqlite3.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert tables == {"users"}  # nothing written into it


def test_reset_starts_over_on_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    sync, delivered = _integration(path, reset=True)
    assert sync.run().status == "ok" and delivered == ["a", "b"]
    sync.close()
    again, delivered_again = _integration(path)  # now it is ours: reopened without reset
    again.run()
    assert delivered_again == []  # already delivered
    again.close()


def test_a_state_made_before_the_marker_is_still_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sync, delivered = _integration(path)
    sync.run()
    sync.close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE apinotebook_state")  # as 0.1 wrote it
    db.commit()
    db.close()
    again, delivered_again = _integration(path)
    again.run()
    assert delivered == ["a", "b"] and delivered_again == []
    again.close()
