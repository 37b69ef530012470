"""HistoryView: live rows, selection -> Inspector, two selections -> diff, unsubscribe."""

from __future__ import annotations

import json

import pytest
from widget_builders import TOKEN, rest_exchange

from apinotebook import ConfigError, History
from apinotebook.widgets import HistoryView, Inspector


def rows(view: HistoryView, after: int = 0) -> dict:
    reply = view.table.handle_message({"type": "rows", "id": 1, "after": after})
    assert reply is not None and reply["type"] == "rows"
    return reply


@pytest.fixture
def history() -> History:
    h = History(maxlen=5)
    h.append(rest_exchange({"n": 1, "same": True}))
    h.append(rest_exchange({"n": 2, "same": True, "secret": TOKEN}, status=404))
    return h


def test_rows_and_live_updates(history):
    view = HistoryView(history)
    first = rows(view)
    assert [r["id"] for r in first["rows"]] == [1, 2]
    assert first["rows"][1]["status"] == 404 and first["rows"][1]["ok"] is False
    assert "api_key=***" in first["rows"][0]["url"]
    version = view.table.version
    history.append(rest_exchange({"n": 3}))
    assert view.table.version == version + 1 and view.table.count == 3
    new = rows(view, after=2)
    assert [r["id"] for r in new["rows"]] == [3] and new["first_id"] == 1


def test_rows_that_leave_the_history_are_dropped(history):
    view = HistoryView(history)
    for n in range(6):
        history.append(rest_exchange({"n": 10 + n}))
    reply = rows(view)
    assert reply["total"] == 5 and reply["first_id"] == 4
    history.clear()
    assert rows(view)["rows"] == []


def test_select_one_shows_an_inspector_and_two_show_a_diff(history):
    view = HistoryView(history)
    view.table.selected = [1]
    (inspector,) = view.detail.children
    assert isinstance(inspector, Inspector) and inspector.exchange is history[0]
    view.table.selected = [1, 2]
    assert view.detail.children == ()
    assert inspector.comm is None  # the replaced inspector was closed
    diff = view.table.diff
    assert diff["labels"] == ["#1", "#2"] and not diff["identical"]
    assert '-  "n": 1,' in diff["text"] and '+  "n": 2,' in diff["text"]
    assert TOKEN not in json.dumps(diff)
    view.table.selected = []
    assert view.table.diff == {} and view.detail.children == ()


def test_identical_bodies(history):
    history.append(rest_exchange({"n": 1, "same": True}))
    view = HistoryView(history)
    view.table.selected = [1, 3]
    assert view.table.diff["identical"] is True and view.table.diff["text"] == ""


def test_selecting_a_row_that_is_gone_shows_an_error(history, monkeypatch):
    view = HistoryView(history)
    sent = []
    monkeypatch.setattr(view.table, "send", lambda content, buffers=None: sent.append(content))
    view.table.selected = [99]
    assert sent[-1]["type"] == "error" and "row 99 is no longer" in sent[-1]["message"]
    assert view.table.error == sent[-1]["message"]


def test_close_unsubscribes(history):
    view = HistoryView(history)
    assert len(history._listeners) == 1
    view.close()
    assert history._listeners == []
    history.append(rest_exchange({"n": 9}))  # nothing breaks


def test_not_live():
    h = History()
    view = HistoryView(h, live=False)
    h.append(rest_exchange({}))
    assert view.table.version == 0 and h._listeners == []


def test_default_history_and_fallbacks(history):
    view = HistoryView(history)
    assert repr(view) == "<HistoryView 2 of 5 exchanges>"
    data, _ = view._repr_mimebundle_()
    assert "apinotebook-history" in data["text/html"] and TOKEN not in data["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in data
    import apinotebook

    default = HistoryView()
    assert default.history is apinotebook.history
    default.close()


def test_only_histories():
    with pytest.raises(ConfigError, match="HistoryView shows a History, not list"):
        HistoryView([])  # type: ignore[arg-type]


def test_initial_state_has_no_rows(history):
    view = HistoryView(history)
    assert "rows" not in view.table.get_state()
    assert len(json.dumps(view.table.get_state())) < 64 * 1024
