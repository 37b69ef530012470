"""A schema file is loaded once per version: re-running a cell is instant, an edit reloads."""

from __future__ import annotations

import json
import os

from graphql import build_schema, introspection_from_schema

from apinotebook.graphql._schema import load_schema


def test_a_file_is_cached_until_it_changes(tmp_path):
    path = tmp_path / "schema.graphql"
    path.write_text("type Query { a: Int }")
    first = load_schema(path)
    assert load_schema(path) is first  # a re-run cell
    path.write_text("type Query { a: Int, b: String }")
    os.utime(path, ns=(1, 1))  # even with the same size, the stamp differs
    second = load_schema(path)
    assert second is not first and "b" in second.query_type.fields


def test_introspection_files_with_a_byte_order_mark_load(tmp_path):
    data = {"data": introspection_from_schema(build_schema("type Query { a: Int }"))}
    path = tmp_path / "schema.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(data).encode())
    assert "a" in load_schema(path).query_type.fields
