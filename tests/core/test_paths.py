"""The one path walker and the one record finder (``to_frame()`` and ``paginate()`` agree)."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest

from apinotebook import ConfigError, RestClient
from apinotebook._core.paths import (
    MISSING,
    AmbiguousRecords,
    PathError,
    find_records,
    lookup,
    pick,
    walk,
)
from apinotebook.frames import to_frame
from apinotebook.paginate import find_items

DOC = {
    "data": {"items": [{"id": 1, "tags": ["a", "b"]}, {"id": 2}]},
    "meta": {"next.cursor": "c2", "0": "zero-key"},
    "rows": [[1, 2], [3]],
    "none": None,
}

# -- walking ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("", DOC),
        ((), DOC),
        ("data.items.0.id", 1),
        ("data.items.-1.id", 2),
        (["data", "items", 0, "tags", 1], "b"),
        ("data..items.1.id", 2),  # empty steps are skipped
        (("meta", "next.cursor"), "c2"),  # a key holding a dot: a sequence path
        ("meta.0", "zero-key"),  # a digit step is a key in a mapping
        (["meta", 0], "zero-key"),
        ("rows.1.0", 3),
        ("none", None),
    ],
)
def test_walk(path, value):
    assert walk(DOC, path) == value
    assert pick(DOC, path) == value
    assert lookup(DOC, path) == value


@pytest.mark.parametrize(
    ("path", "key", "where", "available"),
    [
        ("nope", "nope", "the top level", "'data', 'meta', 'rows', 'none'"),
        ("data.items.5", "5", "data.items", "a list of 2"),
        ("data.items.x", "x", "data.items", "a list of 2"),
        ("data.items.0.id.deeper", "deeper", "data.items.0.id", "int"),
        ("none.x", "x", "none", "NoneType"),
    ],
)
def test_a_path_that_leads_nowhere(path, key, where, available):
    with pytest.raises(PathError) as info:
        walk(DOC, path)
    error = info.value
    assert isinstance(error, ConfigError)
    assert error.key == key and str(error) == (
        f"path {key!r} not found at {where}; available: {available}"
    )
    assert walk(DOC, path, None) is None
    assert lookup(DOC, path) is MISSING


@pytest.mark.parametrize("path", [["data", "items", -1], ["data", "items", "0"], ["meta", 0]])
def test_an_exact_walk_takes_keys_and_indexes_as_they_are(path):
    assert walk(DOC, path, None, exact=True) is None
    assert walk(DOC, path, None) is not None
    assert walk(DOC, ["data", "items", 1, "id"], exact=True) == 2


@pytest.mark.parametrize("step", [{"x": 1}, [1], 1.5, None])
def test_a_step_of_another_type_leads_nowhere(step):
    for exact in (False, True):
        assert walk(DOC, ["data", step], None, exact=exact) is None
        assert walk(DOC, ["rows", step], None, exact=exact) is None


def test_pick_without_a_path_is_the_data():
    assert pick(DOC, None) is DOC


# -- finding the records: one answer for to_frame() and paginate() ---------------------

CONNECTION = {
    "list": {
        "subscribers": {
            "totalCount": 2,
            "pageInfo": {"hasNextPage": False, "endCursor": "b"},
            "edges": [
                {"cursor": "a", "node": {"email": "a@x"}},
                {"cursor": "b", "node": {"email": "b@x"}},
            ],
        }
    }
}

SHAPES: list[tuple[str, Any, tuple[Any, ...], int]] = [
    ("data", {"data": [{"id": 1}, {"id": 2}], "next_cursor": None}, ("data",), 2),
    ("items+next", {"items": [{"id": 1}], "next": None, "total": 1}, ("items",), 1),
    ("nested", {"results": {"contacts": [{"id": 1}, {"id": 2}, {"id": 3}]}},
     ("results", "contacts"), 3),
    ("bare list", [{"id": 1}, {"id": 2}], (), 2),
    ("graphql connection", CONNECTION, ("list", "subscribers", "edges"), 2),
    ("scalars under a usual name", {"data": [1, 2], "next_cursor": None}, ("data",), 2),
    ("usual name beats other lists", {"ok": True, "messages": [{"ts": "1"}], "warnings": []},
     ("messages",), 1),
    ("the one list of objects", {"a": [{"id": 1}], "b": [2]}, ("a",), 1),
    ("one child holds the records", {"status": "ok", "response": {"rows": [{"id": 1}]}},
     ("response", "rows"), 1),
    ("a record keeps its lists", {"id": 7, "tags": ["a", "b"]}, (), 1),
    ("a wrapped record", {"data": {"id": 7, "name": "one"}}, ("data",), 1),
    ("a lone list of ids", {"ids": [4, 5, 6], "next_cursor": None}, ("ids",), 3),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body", "path", "count"), SHAPES, ids=[s[0] for s in SHAPES])
def test_find_records(name, body, path, count):
    found, value = find_records(body)
    assert found == path
    assert value is walk(body, found)
    assert (len(value) if isinstance(value, list) else 1) == count


def paginated(body: Any) -> list[Any]:
    client = RestClient(
        "http://api.test",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)),
        history=None,
        retry=False,
    )
    return list(client.paginate("/items"))


@pytest.mark.parametrize(("name", "body", "path", "count"), SHAPES, ids=[s[0] for s in SHAPES])
def test_to_frame_and_paginate_pick_the_same_records(name, body, path, count):
    items_path, items = find_items(body)
    value = walk(body, items_path)
    assert items == (value if isinstance(value, list) else [value])
    assert paginated(body) == items
    # the frame of the payload is the frame of the records paginate() yields
    frame = to_frame(body)
    assert len(frame) == count
    pd.testing.assert_frame_equal(frame, to_frame(items))


def test_several_lists_and_no_obvious_one():
    body = {"left": [1], "right": [2]}
    with pytest.raises(AmbiguousRecords, match="several lists .'left', 'right'"):
        find_records(body)
    with pytest.raises(ConfigError, match="items="):
        find_items(body)
    # a frame still shows it, as one row; paginate() refuses to guess what to page
    assert len(to_frame(body)) == 1
    assert list(to_frame(body, "right")["value"]) == [2]


def test_wrappers_are_entered_at_most_four_levels():
    deep = {"a": {"b": {"c": {"d": {"e": [{"id": 1}]}}}}}
    assert find_records(deep)[0] == ("a", "b", "c", "d")
    assert find_records({"a": {"b": {"c": {"items": [{"id": 1}]}}}})[0] == ("a", "b", "c", "items")


def _connection_walk() -> Any:
    from apinotebook.graphql._documents import prepare
    from apinotebook.graphql._relay import ConnectionWalk

    query = (
        "query Q($after: String) { list { subscribers(after: $after) "
        "{ pageInfo { hasNextPage endCursor } edges { node { email } } } } }"
    )
    return ConnectionWalk(
        prepare(query), "list.subscribers", None, page_size=None, max_items=None,
        cursor_variable="after", page_size_variable="first",
    )  # fmt: skip


def test_the_graphql_connection_path_is_walked_the_same_way():
    assert _connection_walk().take(CONNECTION, has_errors=False) == [
        {"email": "a@x"},
        {"email": "b@x"},
    ]
    assert _connection_walk().take({"list": None}, has_errors=True) is None
    assert _connection_walk().take({"other": 1}, has_errors=False) == []
    with pytest.raises(ConfigError, match="runs through a list at 'subscribers'"):
        _connection_walk().take({"list": [{"subscribers": {}}]}, has_errors=False)
