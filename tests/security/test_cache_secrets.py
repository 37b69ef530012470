"""No credential reaches the HTTP cache file, and revalidated exchanges stay masked.

The token and a query-string API key are looked for byte by byte in every file
the cache wrote (the SQLite database and its WAL), and in the HAR of a
history holding answers served from a 304.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from apinotebook import Bearer, History, RestClient
from apinotebook.rest import HttpCache
from apinotebook.sandbox import Sandbox


@pytest.fixture(scope="module")
def crm() -> Iterator[Sandbox]:
    box = Sandbox(services=("crm",), contacts=10, companies=2).start()
    yield box
    box.stop()


def test_the_cache_file_never_holds_a_credential(crm, tmp_path):
    pytest.importorskip("hishel")
    path = tmp_path / "secret-check.sqlite"
    token = crm.env["CRM_TOKEN"]
    api = RestClient(crm.urls["crm"], auth=Bearer(token), history=None, cache=HttpCache(path=path))
    with api:
        api.get("/contacts/c_000004", params={"api_key": "query-key-123456"})
        api.get("/contacts", params={"limit": 3})
        api.get("/contacts", params={"limit": 3})
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("secret-check.sqlite*"))
    assert b"c_000004" in stored  # the answers are there...
    assert token.encode() not in stored  # ...the token is not
    assert b"query-key-123456" not in stored
    assert b"authorization" not in stored.lower()


def test_revalidated_exchanges_are_masked_in_the_har(crm, tmp_path):
    token = crm.env["CRM_TOKEN"]
    history = History()
    with RestClient(crm.urls["crm"], auth=Bearer(token), history=history) as api:
        api.get("/contacts/c_000005")
        again = api.get("/contacts/c_000005")
    assert again.from_cache
    har = json.dumps(history.to_har(tmp_path / "h.har"))
    assert token not in har and token not in (tmp_path / "h.har").read_text()
    assert token not in repr(again) and token not in again.to_curl()
