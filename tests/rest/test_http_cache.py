"""RestClient(cache=...): hishel's on-disk cache, so a re-run notebook spends no budget.

Against the sandbox CRM, whose request counter says whether the server was asked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apinotebook import Bearer, History, RestClient
from apinotebook.rest import HttpCache
from apinotebook.sandbox import Sandbox

pytest.importorskip("hishel")


@pytest.fixture(scope="module")
def crm() -> Iterator[Sandbox]:
    box = Sandbox(services=("crm",), contacts=10, companies=2).start()
    yield box
    box.stop()


def _client(box: Sandbox, path: Path, token: str = "CRM_TOKEN", **kwargs: object) -> RestClient:
    return RestClient(
        box.urls["crm"],
        auth=Bearer(box.env[token]),
        history=History(),
        cache=HttpCache(path=path, **kwargs),  # type: ignore[arg-type]
    )


def _served(box: Sandbox) -> int:
    """Requests the CRM has counted, once the count stops changing (it lands a moment late)."""
    last = -1
    for _ in range(100):
        now = int(box.stats().get("crm", {}).get("total", 0))
        if now == last:
            return now
        last = now
        time.sleep(0.05)
    raise AssertionError("the CRM's request count kept changing")


def test_a_second_kernel_reads_the_stored_answer_without_asking_the_server(crm, tmp_path):
    path = tmp_path / "cache.sqlite"
    with _client(crm, path) as first:
        original = first.get("/contacts/c_000001")
    before = _served(crm)
    with _client(crm, path) as rerun:  # a new client, as after a kernel restart
        again = rerun.get("/contacts/c_000001")
    assert _served(crm) == before  # the server was not asked
    assert again.from_cache and again.meta["cache"] == "hit"
    assert again.json() == original.json() and not original.from_cache
    assert "cached" in repr(again)


def test_writes_are_never_served_from_the_cache(crm, tmp_path):
    with _client(crm, tmp_path / "c.sqlite") as api:
        api.patch("/contacts/c_000002", json={"first_name": "A"})
        second = api.patch("/contacts/c_000002", json={"first_name": "B"})
    assert not second.from_cache and second.json()["first_name"] == "B"


def test_another_token_does_not_read_the_first_tokens_answer(crm, tmp_path):
    path = tmp_path / "shared.sqlite"
    with _client(crm, path) as api:
        api.get("/contacts/c_000003")
    with _client(crm, path, token="CRM_READONLY_TOKEN") as other:
        assert not other.get("/contacts/c_000003").from_cache


def test_without_the_cache_option_nothing_is_written(crm, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with RestClient(crm.urls["crm"], auth=Bearer(crm.env["CRM_TOKEN"]), history=None) as api:
        api.get("/contacts/c_000005")
    assert not list(tmp_path.rglob("*.sqlite"))


def test_cache_true_uses_the_user_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert HttpCache().file == tmp_path / "apinotebook" / "http-cache.sqlite"


def test_a_bad_cache_argument_is_a_clear_error():
    from apinotebook import ConfigError

    with pytest.raises(ConfigError, match="cache= takes True, a path or an HttpCache"):
        RestClient("https://api.example", cache=3)
