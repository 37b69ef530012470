"""A spec file is parsed once per version: re-running a cell is instant, an edit reloads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from apinotebook import RestClient
from apinotebook._exceptions import SpecError
from apinotebook.openapi import _refs
from apinotebook.openapi._refs import clear_file_cache, read_file


def _spec(*paths: str) -> dict[str, object]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            p: {"get": {"operationId": p.strip("/"), "responses": {"200": {"description": "ok"}}}}
            for p in paths
        },
    }


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_file_cache()


def test_a_re_run_cell_does_not_parse_the_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(_spec("/a", "/b")))
    first = RestClient.from_openapi(path, base_url="http://127.0.0.1:9")
    calls: list[object] = []
    real = _refs.parse_document
    monkeypatch.setattr(_refs, "parse_document", lambda *a, **k: calls.append(a) or real(*a, **k))
    second = RestClient.from_openapi(path, base_url="http://127.0.0.1:9")
    assert calls == []
    assert second.spec is first.spec
    assert [op.id for op in second.operations] == ["a", "b"]


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(json.dumps(_spec("/a")))
    before = read_file(path)
    path.write_text(json.dumps(_spec("/z")))
    os.utime(path, ns=(1, 1))  # even were the size the same, the stamp differs
    after = RestClient.from_openapi(path, base_url="http://127.0.0.1:9")
    assert before is not after.spec
    assert [op.id for op in after.operations] == ["z"]


def test_the_size_limit_still_holds_for_a_cached_file(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(_spec("/a")))
    read_file(path)
    with pytest.raises(SpecError, match="over the limit"):
        read_file(path, max_size=10)


def test_only_the_last_few_files_are_kept(tmp_path: Path) -> None:
    paths = []
    for i in range(_refs._FILES_KEPT + 2):
        paths.append(tmp_path / f"api{i}.json")
        paths[-1].write_text(json.dumps(_spec(f"/p{i}")))
        read_file(paths[-1])
    assert len(_refs._FILES) == _refs._FILES_KEPT
    assert str(paths[0].resolve()) not in {key[0] for key in _refs._FILES}
