"""An integration that polls the CRM asks "changed?" and gets 304s when nothing changed.

The source client revalidates every page it read on the last poll
(If-None-Match); when the CRM answers 304 the pages come from memory, no
record is delivered twice, and the CRM sent no body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apinotebook import Bearer, RestClient
from apinotebook.integration import Integration
from apinotebook.sandbox import Sandbox


@pytest.fixture(scope="module")
def crm() -> Iterator[Sandbox]:
    box = Sandbox(services=("crm",), contacts=25, companies=2).start()
    yield box
    box.stop()


def test_a_poll_with_nothing_new_is_answered_by_304s(crm, tmp_path, stack):
    source = stack.enter_context(RestClient(crm.urls["crm"], auth=Bearer(crm.env["CRM_TOKEN"])))
    delivered: list[Any] = []
    sync = Integration("poll-crm", state=tmp_path / "state.db", progress="log")

    @sync.source(key="id", cursor="updated_at")
    def contacts(since: Any) -> Any:
        # a fixed window (not since): the same pages are asked again on the next poll
        yield from source.paginate("/contacts", params={"limit": 10})

    @sync.destination
    def load(batch: Any) -> None:
        delivered.extend(batch)

    sync.run()
    assert len(delivered) == 25
    first = [ex for ex in sync.history if "/contacts" in ex.url]
    assert first and not any(ex.from_cache for ex in first)

    sync.run()
    second = [ex for ex in sync.history if "/contacts" in ex.url][len(first) :]
    assert len(second) == len(first)
    assert all(ex.from_cache and ex.meta["wire_status"] == 304 for ex in second)
    assert all("if-none-match" in ex.request.headers for ex in second)
    assert len(delivered) == 25  # nothing delivered twice

    source.patch("/contacts/c_000001", json={"first_name": "Changed"}).raise_for_status()
    sync.run()
    third = [ex for ex in sync.history if "/contacts" in ex.url and ex.method == "GET"]
    third = third[len(first) + len(second) :]
    assert any(not ex.from_cache for ex in third)  # the changed page came back whole
    assert [r["first_name"] for r in delivered[25:]] == ["Changed"]
