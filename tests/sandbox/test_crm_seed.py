"""The sandbox CRM's seed data: messy records, determinism, well-formed contacts, 100k."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from crm_sandbox import (
    _all,
    _client,
    _context,
    _start,
)

from apinotebook import ConfigError
from apinotebook.sandbox import Sandbox, crm
from apinotebook.sandbox._crm_store import CrmStore

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    """1,234 contacts; no test writes to it."""
    box = _start(seed=7, contacts=1234, companies=20)
    yield box
    box.stop()


# -- seed data -----------------------------------------------------------------------------


def test_messy_records_at_the_configured_rate(big):
    store: CrmStore = big.state("crm")
    with _client(big) as c:
        rows = _all(c, limit=500)
    messy = {r["id"] for r in rows if "@" not in r["email"] or not r["first_name"]}
    assert messy == set(store.messy_ids) and len(messy) == round(1234 * 0.01)
    assert any(" at " in r["email"] for r in rows) and any(r["first_name"] == "" for r in rows)


def test_messy_rate_option():
    store = CrmStore.from_context(_context(contacts=1000, options={"crm": {"messy_rate": 0.1}}))
    assert len(store.messy_ids) == 100
    assert CrmStore.from_context(_context(options={"crm": {"messy_rate": 0}})).messy_ids == []
    with pytest.raises(ConfigError, match="between 0 and 1"):
        CrmStore.from_context(_context(options={"crm": {"messy_rate": 2}}))
    with pytest.raises(ConfigError, match="messy_rate"):  # a typo is not silently ignored
        CrmStore.from_context(_context(options={"crm": {"mesy_rate": 0.1}}))


def test_same_seed_same_data_other_seed_other_data(big):
    with _client(big) as c:
        first = c.get("/contacts").json()
        companies = c.get("/companies").json()
    again = CrmStore.from_context(_context(seed=7, contacts=1234, companies=20))
    assert again.list_contacts() == first and again.list_companies() == companies
    other = CrmStore.from_context(_context(seed=8, contacts=1234, companies=20))
    assert other.list_contacts()["data"] != first["data"]


def test_seed_contacts_are_well_formed(big):
    with _client(big) as c:
        rows = c.get("/contacts", params={"limit": 500}).json()["data"]
    for row in rows:
        crm.Contact.model_validate(row)
        assert row["updated_at"].endswith("Z") and row["created_at"] <= row["updated_at"]
    assert {r["lifecycle_stage"] for r in rows} == {"lead", "prospect", "customer", "churned"}


def test_100k_contacts_build_and_page():
    mounts = crm.build(_context(seed=3, contacts=100_000, companies=50))
    store: CrmStore = mounts[0].state
    assert store.contact_count == 100_000
    since = store.list_contacts(limit=1, updated_since="2025-12-31T00:00:00Z")
    page = store.list_contacts(limit=500, cursor=since["next_cursor"])
    assert since["data"][0]["id"] > "c_099000" and len(page["data"]) == 500
    assert store.get_contact("c_100000")["id"] == "c_100000"
