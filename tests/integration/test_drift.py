"""Schema drift in integrations, against the sandbox CRM and its "schema drift" fault.

The source re-reads every contact (no cursor: a changed record has a new
content hash, so it is mapped again); the destination keeps what it got.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bridges import crm_client, sandbox

from apinotebook import ConfigError, SchemaDriftError
from apinotebook.integration import Batch, Integration

pytestmark = pytest.mark.sandbox


def contacts_to_list(tmp_path, crm, written: list[dict[str, Any]], policy: str) -> Integration:
    sync = Integration(f"drift-{policy}", state=tmp_path / f"{policy}.db", progress=None)
    sync.on_drift(policy, sample=20)

    @sync.source(key="id")
    def contacts(since: Any) -> Iterator[dict[str, Any]]:
        yield from crm.paginate("/contacts", params={"limit": 50})

    @sync.transform
    def to_row(contact: dict[str, Any]) -> dict[str, Any]:
        # .get() would hand a renamed field on as None: the guard must catch that
        return {"id": contact["id"], "email": contact.get("email"), "stage": contact.get(
            "lifecycle_stage")}  # fmt: skip

    @sync.destination(batch_size=25, backoff=0)
    def keep(batch: Batch) -> None:
        written.extend(batch)

    return sync


def test_a_renamed_field_the_mapping_reads_is_dead_lettered_never_none(tmp_path, stack):
    with sandbox(("crm",), contacts=40, messy_rate=0) as sb:
        crm, written = crm_client(sb, stack), []
        sync = contacts_to_list(tmp_path, crm, written, "warn")
        first = sync.run()
        assert first.written == 40 and first.drift is None
        assert set(sync.schema_baseline().fields) >= {"id", "email", "lifecycle_stage"}

        sb.set_faults("crm", drift_rename="email:email_address")
        written.clear()
        second = sync.run()
        assert second.drift["removed"] == {"email": ["string"]}
        assert "email_address" in second.drift["added"]
        assert written == [] and second.written == 0
        assert second.dead_lettered == 40 and second.status == "partial"
        letters = sync.dead_letters
        assert all("schema drift" in d.error and "'email' is missing" in d.error for d in letters)
        assert "schema drift: removed email" in second.summary()
        # the baseline is not replaced by the broken shape: the next run says it again
        assert "email" in sync.schema_baseline().fields
        sync.reset()
        assert sync.run().drift["removed"] == {"email": ["string"]}


def test_stop_writes_nothing_and_keeps_the_checkpoint(tmp_path, stack):
    with sandbox(("crm",), contacts=30, messy_rate=0) as sb:
        crm, written = crm_client(sb, stack), []
        sync = contacts_to_list(tmp_path, crm, written, "stop")
        sync.run()
        seen = sync.state["seen"]
        sb.set_faults("crm", drift_rename="lifecycle_stage:stage")
        written.clear()
        with pytest.raises(SchemaDriftError, match="removed lifecycle_stage") as info:
            sync.run()
        assert written == []
        report = info.value.report  # type: ignore[attr-defined]
        assert report.status == "failed" and report.written == 0 and report.read == 0
        assert info.value.drift.removed == {"lifecycle_stage": ["string"]}
        assert sync.state["seen"] == seen and sync.dead_letters == []


def test_a_field_the_mapping_ignores_warns_or_dead_letters_by_policy(tmp_path, stack):
    with sandbox(("crm",), contacts=30, messy_rate=0) as sb:
        crm = crm_client(sb, stack)
        warn_rows: list[dict[str, Any]] = []
        dead_rows: list[dict[str, Any]] = []
        warn = contacts_to_list(tmp_path, crm, warn_rows, "warn")
        dead = contacts_to_list(tmp_path, crm, dead_rows, "dead-letter")
        warn.run(), dead.run()
        sb.set_faults("crm", drift_rename="title:job_title")
        warn_rows.clear(), dead_rows.clear()
        warned, deadened = warn.run(), dead.run()
        assert warned.drift["removed"] == deadened.drift["removed"] == {"title": ["string"]}
        assert warned.written == 30 and len(warn_rows) == 30  # the mapping never reads title
        assert deadened.written == 0 and dead_rows == [] and deadened.dead_lettered == 30
        assert all("'title' is missing" in d.error for d in dead.dead_letters)


def test_accept_drift_adopts_the_new_shape(tmp_path, stack):
    with sandbox(("crm",), contacts=20, messy_rate=0) as sb:
        crm, written = crm_client(sb, stack), []
        sync = contacts_to_list(tmp_path, crm, written, "stop")
        sync.run()
        sb.set_faults("crm", drift_rename="title:job_title")
        with pytest.raises(SchemaDriftError):
            sync.run()
        sync.accept_drift()
        written.clear()
        accepted = sync.run()
        assert accepted.status == "ok" and accepted.written == 20
        assert "job_title" in sync.schema_baseline().fields
        assert "title" not in sync.schema_baseline().fields
        assert sync.run().drift is None  # the new shape is the baseline now


def test_an_added_field_is_reported_and_joins_the_baseline():
    rows = [
        {"id": i, "email": f"u{i}@example.com", "phone": None if i % 2 else "1"} for i in range(10)
    ]
    got: list[dict[str, Any]] = []
    sync = Integration("drift-added", state=":memory:", progress=None)
    sync.on_drift("stop")
    sync.source(key="id")(lambda since: iter(rows))
    sync.transform(lambda r: {"id": r["id"], "email": r["email"], "phone": r.get("phone")})
    sync.destination(backoff=0)(got.extend)
    assert sync.run().drift is None
    rows = [{**r, "vip": True} for r in rows]  # a new field: not breaking
    report = sync.run()
    assert report.drift == {"added": {"vip": ["boolean"]}, "removed": {}, "retyped": {},
                            "nullable": [], "breaking": False}  # fmt: skip
    assert report.written == 10 and len(got) == 20
    baseline = sync.schema_baseline()
    assert baseline.records == 20 and baseline.always_present("email")
    assert not baseline.always_present("vip") and baseline.fields["phone"].nullable
    rows = [{**r, "email": None} for r in rows]  # never null before: breaking, and read
    with pytest.raises(SchemaDriftError, match="now null: email"):
        sync.run()


def test_on_drift_checks_its_arguments(tmp_path):
    sync = Integration("drift-args", state=":memory:", progress=None)
    with pytest.raises(ConfigError, match="drift policy"):
        sync.on_drift("ignore")
    with pytest.raises(ConfigError, match="sample"):
        sync.on_drift("warn", sample=0)
