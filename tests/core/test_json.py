"""apinotebook._core.json.loads gives exactly what json.loads gives, for any input."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apinotebook._core import json as _json
from apinotebook._exchange import Exchange, Request

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_matches_the_standard_library_on_generated_documents(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _same(_json.loads(text.encode()), json.loads(text.encode()))
    assert _same(_json.loads(text), json.loads(text))


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 18446744073709551616}',  # 2**64: orjson alone would give a float
        b"[-80241446968629135069]",
        b'{"n": 123456789012345678901234567890}',
        b"[9223372036854775807, -9223372036854775808, 18446744073709551615]",
        b"[NaN, Infinity, -Infinity]",  # Python's extensions, which orjson rejects
        b"[1e999, -1e999]",
        b'"\\ud800"',  # a lone surrogate
        b'\xef\xbb\xbf{"bom": true}',
        '{"utf16": "é"}'.encode("utf-16"),
        b'{"a": 1, "a": 2}',  # the last duplicate wins
        b"[-0, -0.0, 0.1, 1E5, 1e-7, 1.7976931348623157e308, 5e-324]",
        b'"' + b"\\u00e9" * 3 + b'"',
        b'{"deep": ' + b"[" * 200 + b"]" * 200 + b"}",
        b'["12345678901234567890123 in a string"]',
        b'{"oid": "0000000000000000000000000000000000000000", "n": 18446744073709551616}',
        b'{"s": "a-12345678901234567890123", "t": [\n -12345678901234567890123]}',
        b'{"x": 1.12345678901234567890123, "y": 1e+1234567890123456789}',
        b"12345678901234567890123",
    ],
)
def test_matches_the_standard_library_where_orjson_differs(body: bytes) -> None:
    assert _same(_json.loads(body), json.loads(body))


def test_long_digit_runs_inside_strings_keep_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b'{"oid": "0000000000000000000000000000000000000000", "d": "id 12345678901234567890"}'
    expected = json.loads(body)

    def refuse(content: Any) -> Any:
        raise AssertionError("json.loads was used for a run inside a string")

    monkeypatch.setattr(_json.json, "loads", refuse)
    assert _json.loads(body) == expected


@pytest.mark.parametrize("body", [b"", b"{", b"[1,]", b"<html>", b"\xff\xfe\x00", b"{'a': 1}"])
def test_invalid_json_raises_what_the_standard_library_raises(body: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        _json.loads(body)
    with pytest.raises(ValueError) as theirs:
        json.loads(body)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


def test_nesting_past_orjsons_limit_behaves_like_the_standard_library() -> None:
    body = b"[" * 5000 + b"]" * 5000  # orjson stops at 1024; Python's limit depends on version
    try:
        expected = json.loads(body)
    except RecursionError:
        with pytest.raises(RecursionError):
            _json.loads(body)
    else:
        assert _depth(_json.loads(body)) == _depth(expected) == 5000


def test_without_orjson_the_standard_library_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "orjson", None)
    assert _same(_json.loads(b'{"x": [1, 2.5, NaN]}'), json.loads(b'{"x": [1, 2.5, NaN]}'))


def test_exchange_json_keeps_big_integers_exact() -> None:
    ex = Exchange(
        protocol="rest",
        request=Request("GET", "https://api.example/x"),
        status=200,
        content=b'{"id": 2e0, "n": 36893488147419103232}',
    )
    assert ex.json() == {"id": 2.0, "n": 2**65}
    assert isinstance(ex.json()["n"], int)
