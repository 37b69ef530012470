"""Structural diffs, History.diff and snapshot baselines (no network)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from apinotebook import ConfigError, Exchange, History, Request, SnapshotMismatchError
from apinotebook.contract import Diff, assert_matches_snapshot, diff


def exchange(body: object, status: int = 200, operation: str = "listContacts") -> Exchange:
    return Exchange(
        protocol="rest",
        request=Request("GET", "https://api.example/contacts"),
        status=status,
        headers={"content-type": "application/json"},
        content=json.dumps(body).encode(),
        operation=operation,
    )


BEFORE = {
    "data": [
        {"id": "c1", "email": "a@x.io", "score": 1, "tags": ["a"]},
        {"id": "c2", "email": "b@x.io", "score": 2, "tags": []},
    ],
    "next": None,
}
AFTER = {
    "data": [
        {"id": "c3", "email": "c@x.io", "score": 3, "tags": []},
        {"id": "c2", "email": "B@x.io", "score": "2", "tags": []},
    ],
    "total": 2,
}


def test_arrays_are_matched_by_id_not_position():
    found = diff(BEFORE, AFTER)
    assert [(c.kind, c.path) for c in found.changes] == [
        ("removed", "$.data[id='c1']"),
        ("changed", "$.data[id='c2'].email"),
        ("type", "$.data[id='c2'].score"),
        ("added", "$.data[id='c3']"),
        ("removed", "$.next"),
        ("added", "$.total"),
    ]
    assert found.changed[1].old == 2 and found.changed[1].new == "2"
    assert len(found.added) == 2 and len(found.removed) == 2


def test_without_a_unique_key_arrays_are_compared_by_index():
    a = {"rows": [{"id": 1, "v": 1}, {"id": 1, "v": 2}]}
    b = {"rows": [{"id": 1, "v": 1}, {"id": 1, "v": 3}, {"id": 2, "v": 0}]}
    assert [(c.kind, c.path) for c in diff(a, b).changes] == [
        ("changed", "$.rows[1].v"),
        ("added", "$.rows[2]"),
    ]
    assert [c.path for c in diff({"l": [1, 2]}, {"l": [2, 1]}).changes] == ["$.l[0]", "$.l[1]"]


def test_a_chosen_key_and_ignored_paths():
    a = {"items": [{"sku": "A", "n": 1, "at": "t1"}, {"sku": "B", "n": 1, "at": "t1"}]}
    b = {"items": [{"sku": "B", "n": 1, "at": "t2"}, {"sku": "A", "n": 5, "at": "t2"}]}
    found = diff(a, b, key="sku", ignore=["items[*].at"])
    assert [c.path for c in found.changes] == ["$.items[sku='A'].n"]
    assert not diff(a, b, key="sku", ignore=["at", "n"])
    with pytest.raises(ConfigError, match="list of paths"):
        diff(a, b, ignore="at")


def test_text_and_frame_and_exchange_diffs():
    left, right = exchange(BEFORE), exchange(AFTER)
    found = left.diff(right)
    assert isinstance(found, Diff) and len(found) == 6
    text = str(found)
    assert text.splitlines()[:2] == ["--- listContacts 200", "+++ listContacts 200"]
    assert "~ $.data[id='c2'].score: integer 2 -> string \"2\"" in text
    assert "- $.data[id='c1']: " in text and "+ $.total: 2" in text
    frame = found.to_frame()
    assert list(frame.columns) == ["kind", "path", "old", "new"] and len(frame) == 6
    assert "apinotebook-diff" in found._repr_html_()
    assert str(diff(BEFORE, BEFORE)) == "no differences between a and b"


def test_history_diff_compares_by_index():
    history = History()
    for body in (BEFORE, {"other": 1}, AFTER):
        history.append(exchange(body))
    assert len(history.diff()) == 3  # the last two: {"other": 1} -> AFTER
    assert [c.path for c in history.diff(0, -1).changed] == [
        "$.data[id='c2'].email",
        "$.data[id='c2'].score",
    ]
    assert history.diff(0, exchange(BEFORE)).changes == []


def test_soap_like_values_compare_by_type_name():
    assert diff({"a": Decimal("1.50")}, {"a": Decimal("1.5")}).changes == []
    assert [c.kind for c in diff({"a": Decimal("1")}, {"a": "1"}).changes] == ["type"]


def test_a_snapshot_is_written_on_request_then_enforced(tmp_path, monkeypatch):
    snap = tmp_path / "snaps" / "contacts.json"
    ex = exchange(BEFORE)
    with pytest.raises(SnapshotMismatchError, match="No snapshot"):
        assert_matches_snapshot(ex, snap)
    monkeypatch.setenv("APINOTEBOOK_UPDATE_SNAPSHOTS", "1")
    assert_matches_snapshot(ex, snap)
    assert json.loads(snap.read_text()) == BEFORE
    monkeypatch.delenv("APINOTEBOOK_UPDATE_SNAPSHOTS")
    assert_matches_snapshot(exchange(BEFORE), snap)  # the same payload passes
    changed = json.loads(json.dumps(BEFORE))
    changed["data"][0]["email"] = "new@x.io"
    with pytest.raises(SnapshotMismatchError, match=r"data\[id='c1'\]\.email") as info:
        assert_matches_snapshot(exchange(changed), snap)
    assert isinstance(info.value, AssertionError) and len(info.value.diff) == 1
    assert_matches_snapshot(exchange(changed), snap, ignore=["email"])  # volatile: ignored
    assert_matches_snapshot(exchange(changed), snap, update=True)
    assert json.loads(snap.read_text())["data"][0]["email"] == "new@x.io"


def test_secrets_are_masked_in_snapshots(tmp_path):
    from apinotebook import Secret

    token = Secret("tok-snapshot-5f2a9c", name="SNAP_TOKEN")
    snap = tmp_path / "s.json"
    assert_matches_snapshot({"token": token.reveal()}, snap, update=True)
    assert "tok-snapshot-5f2a9c" not in snap.read_text()


def test_the_pytest_option_updates_snapshots(tmp_path, monkeypatch):
    monkeypatch.delenv("APINOTEBOOK_UPDATE_SNAPSHOTS", raising=False)
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["apinotebook.contract.pytest_plugin"]\n'
    )
    (tmp_path / "test_page.py").write_text(
        "from apinotebook.contract import assert_matches_snapshot\n\n"
        "def test_page():\n"
        '    assert_matches_snapshot({"data": [{"id": 1}]}, "snap.json")\n'
    )

    def pytest(*args: str) -> int:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ]
        return subprocess.run([*command, *args], cwd=tmp_path, capture_output=True).returncode

    assert pytest() == 1  # no snapshot yet
    assert pytest("--update-snapshots") == 0
    assert json.loads((tmp_path / "snap.json").read_text()) == {"data": [{"id": 1}]}
    assert pytest() == 0
