"""The integration runtime with in-memory sources and destinations (no network)."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from apinotebook import (
    ConfigError,
    Exchange,
    FatalIntegrationError,
    HTTPStatusError,
    Request,
    TransportError,
)
from apinotebook._core.signing import signature_header
from apinotebook.integration import Integration, StateStore, classify, parse_interval


def contacts(n: int, start: int = 0, version: int = 1) -> list[dict]:
    return [
        {
            "id": f"c{i:05d}",
            "email": f"User{i}@Example.com",
            "updated_at": f"2026-01-01T{version:02d}:{i:05d}",
        }
        for i in range(start, start + n)
    ]


class World:
    """A source table and an idempotent destination, both in memory."""

    def __init__(self, records: list[dict]):
        self.records = records
        self.dest: dict[str, dict] = {}
        self.calls: list[list[dict]] = []
        self.reads = 0
        self.fail: list[BaseException] = []  # raised by the next destination calls

    def source(self, since):
        self.reads += 1
        for r in sorted(self.records, key=lambda r: (r["updated_at"], r["id"])):
            if since is None or r["updated_at"] >= since:
                yield r

    def write(self, batch):
        self.calls.append(list(batch))
        if self.fail:
            raise self.fail.pop(0)
        for record in batch:
            self.dest[record["email"]] = record


def build(world: World, state_url: str, *, batch_size=10, concurrency=1, transform=None, retries=2):
    sync = Integration("test-sync", state=state_url, progress=None)
    sync.source(key="id", cursor="updated_at")(world.source)

    @sync.transform
    def mapping(record):
        if transform is not None:
            return transform(record)
        return {"email": record["email"].lower(), "id": record["id"]}

    sync.destination(batch_size=batch_size, concurrency=concurrency, retries=retries, backoff=0)(
        world.write
    )
    return sync


def http_error(status: int) -> HTTPStatusError:
    ex = Exchange(protocol="rest", request=Request("POST", "https://d/x"), status=status)
    return HTTPStatusError(f"{status}", exchange=ex)


def test_run_delivers_everything_and_checkpoints(state_url):
    world = World(contacts(95))
    sync = build(world, state_url)
    report = sync.run()
    assert report.ok and report.read == 95 and report.written == 95 and report.batches == 10
    assert len(world.dest) == 95 and all(len(c) <= 10 for c in world.calls)
    assert sync.state["cursor"] == max(r["updated_at"] for r in world.records)
    assert sync.state["seen"] == 95 and report.exit_code == 0
    # a second run re-reads the last record (inclusive since) and skips it as a duplicate
    again = sync.run()
    assert again.read == 1 and again.skipped_duplicate == 1 and again.written == 0


def test_updates_go_through_duplicates_do_not(state_url):
    world = World(contacts(20))
    sync = build(world, state_url)
    sync.run()
    world.records[3] = {
        **world.records[3],
        "email": "changed@example.com",
        "updated_at": "2026-02-01",
    }
    world.records.append(dict(world.records[5]))  # an exact duplicate row
    report = sync.run()
    assert report.written == 1 and report.skipped_duplicate >= 1
    assert "changed@example.com" in world.dest


def test_duplicates_within_a_batch_keep_the_last_version(state_url):
    world = World(
        contacts(3) + [{"id": "c00001", "email": "new@x.com", "updated_at": "2026-01-01T01:99999"}]
    )
    sync = build(world, state_url)
    report = sync.run()
    assert report.skipped_duplicate == 1 and report.written == 3
    assert "new@x.com" in world.dest and "user1@example.com" not in world.dest


def test_transform_errors_and_filters(state_url):
    def mapping(record):
        n = int(record["id"][1:])
        if n % 10 == 3:
            raise ValueError(f"bad email {record['email']!r}")
        if n % 10 == 7:
            return None
        return {"email": record["email"].lower()}

    world = World(contacts(50))
    sync = build(world, state_url, transform=mapping)
    report = sync.run()
    assert report.failed == 5 and report.dead_lettered == 5 and report.skipped_filtered == 5
    assert report.written == 40 and report.status == "partial" and report.exit_code == 1
    letters = sync.dead_letters
    assert len(letters) == 5 and all(
        "bad email" in d.error and d.stage == "transform" for d in letters
    )
    assert letters[0].payload["id"] == "c00003"
    # nothing is re-dead-lettered on the next run
    assert sync.run().failed == 0 and len(sync.dead_letters) == 5


def test_transient_errors_are_retried(state_url):
    world = World(contacts(30))
    world.fail = [TransportError("reset"), http_error(503)]
    sync = build(world, state_url)
    report = sync.run()
    assert report.ok and report.retries == 2 and len(world.dest) == 30


def test_transient_errors_exhausted_dead_letter_the_batch(state_url):
    world = World(contacts(10))
    world.fail = [http_error(503)] * 3
    sync = build(world, state_url, retries=2)
    report = sync.run()
    assert report.dead_lettered == 10 and report.written == 0
    assert all("503" in d.error and d.attempts == 3 for d in sync.dead_letters)
    assert sync.state["cursor"] is not None  # nothing lost: they wait as dead letters


def test_record_errors_bisect_to_the_bad_record(state_url):
    world = World(contacts(16))

    def write(batch):
        world.calls.append(list(batch))
        if any(r["id"] == "c00011" for r in batch):
            raise http_error(422)
        for r in batch:
            world.dest[r["email"]] = r

    sync = build(world, state_url, batch_size=16)
    sync._destination.fn = write
    report = sync.run()
    assert report.written == 15 and report.dead_lettered == 1
    assert sync.dead_letters[0].key == "c00011" and "422" in sync.dead_letters[0].error


def test_destination_rejections(state_url):
    world = World(contacts(10))

    def write(batch):
        for r in batch:
            world.dest[r["email"]] = r
        return [(0, "rejected by API: invalid")]

    sync = build(world, state_url)
    sync._destination.fn = write
    report = sync.run()
    assert report.written == 9 and report.dead_lettered == 1
    assert sync.dead_letters[0].error == "rejected by API: invalid"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_is_fatal_and_state_unchanged(state_url, status):
    world = World(contacts(30))
    sync = build(world, state_url)
    world.fail = [http_error(status)]
    before = sync.state
    with pytest.raises(FatalIntegrationError, match="Check the credentials") as info:
        sync.run()
    after = sync.state
    assert after["cursor"] == before["cursor"] and after["seen"] == 0
    assert info.value.report.status == "failed" and sync.last_report.exit_code == 2


def test_fatal_error_midway_keeps_the_delivered_prefix(state_url):
    world = World(contacts(50))
    sync = build(world, state_url)
    calls = {"n": 0}

    def write(batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise http_error(401)
        for r in batch:
            world.dest[r["email"]] = r

    sync._destination.fn = write
    with pytest.raises(FatalIntegrationError):
        sync.run()
    assert sync.state["seen"] == 20
    assert sync.state["cursor"] == world.records[19]["updated_at"]
    sync._destination.fn = world.write
    report = sync.run()
    assert len(world.dest) == 50 and report.written == 30


def test_concurrency_delivers_all_in_parallel(state_url):
    world = World(contacts(200))
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def write(batch):
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.005)
        with lock:
            for r in batch:
                world.dest[r["email"]] = r
            active["now"] -= 1

    sync = build(world, state_url, concurrency=4)
    sync._destination.fn = write
    report = sync.run()
    assert report.written == 200 and len(world.dest) == 200 and active["max"] > 1
    assert sync.state["cursor"] == max(r["updated_at"] for r in world.records)


def test_dry_run_writes_nothing(state_url):
    def mapping(record):
        if record["id"] == "c00002":
            raise ValueError("missing name")
        return {"email": record["email"].lower()}

    world = World(contacts(30))
    sync = build(world, state_url, transform=mapping)
    dry = sync.run(dry_run=True, limit=5)
    assert [r.status for r in dry.rows] == [
        "would write",
        "would write",
        "invalid",
        "would write",
        "would write",
    ]
    assert dry.problems[0].problem == "ValueError: missing name"
    frame = dry.to_frame()
    assert {"before.email", "after.email", "status"} <= set(frame.columns)
    assert world.calls == [] and sync.state["seen"] == 0 and sync.state["cursor"] is None
    assert "would write" in dry._repr_html_()


def test_replay_after_fixing(state_url):
    broken = {"on": True}

    def mapping(record):
        if broken["on"] and record["id"].endswith("3"):
            raise ValueError("bug in mapping")
        return {"email": record["email"].lower()}

    world = World(contacts(20))
    sync = build(world, state_url, transform=mapping)
    sync.run()
    assert len(sync.dead_letters) == 2
    broken["on"] = False
    report = sync.replay()
    assert report.written == 2 and sync.dead_letters == [] and len(world.dest) == 20


def test_reset_starts_over(state_url):
    world = World(contacts(10))
    sync = build(world, state_url)
    sync.run()
    sync.reset()
    assert sync.state["cursor"] is None and sync.state["seen"] == 0
    assert sync.run().written == 10


def test_generator_return_value_is_the_cursor(state_url):
    sync = Integration("tokens", state=state_url, progress=None)
    seen_since = []

    @sync.source(key="id")
    def events(since):
        seen_since.append(since)
        yield {"id": 1}
        return "sync-token-2"

    sync.destination(lambda batch: None)
    sync.run()
    sync.run()
    assert seen_since == [None, "sync-token-2"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no source", "no source"),
        ("no destination", "no destination"),
    ],
)
def test_misconfigured_integration_is_fatal(state_url, setup, message):
    sync = Integration("bad", state=state_url, progress=None)
    if setup == "no destination":
        sync.source(key="id")(lambda since: iter([]))
    with pytest.raises(FatalIntegrationError, match=message):
        sync.run()


def test_missing_key_field_is_fatal(state_url):
    sync = Integration("bad", state=state_url, progress=None)
    sync.source(key="uuid")(lambda since: iter([{"id": 1}]))
    sync.destination(lambda b: None)
    with pytest.raises(FatalIntegrationError, match="no key field 'uuid'; it has 'id'"):
        sync.run()


def test_source_failure_stops_cleanly(state_url):
    def source(since):
        yield from contacts(25)
        raise TransportError("connection reset while paging")

    sync = Integration("flaky", state=state_url, progress=None)
    sync.source(key="id", cursor="updated_at")(source)
    got = []
    sync.destination(batch_size=10)(lambda b: got.extend(b))
    with pytest.raises(FatalIntegrationError, match="while reading the source"):
        sync.run()
    assert len(got) == 20 and sync.state["seen"] == 20


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (http_error(401), "fatal"),
        (http_error(403), "fatal"),
        (http_error(429), "transient"),
        (http_error(500), "transient"),
        (http_error(422), "record"),
        (http_error(404), "record"),
        (TransportError("x"), "transient"),
        (ConfigError("x"), "fatal"),
        (ValueError("x"), "record"),
    ],
)
def test_classify(exc, kind):
    assert classify(exc) == kind


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h30m", 5400), ("2", 2)])
def test_parse_interval(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("bad", ["5x", "", "m5", "-1", "0"])
def test_parse_interval_rejects(bad):
    with pytest.raises(ConfigError):
        parse_interval(bad)


def test_schedule_runs_in_background_and_stops(state_url):
    world = World(contacts(5))
    sync = build(world, state_url)
    scheduler = sync.every("0.05s" if False else 0.05)
    deadline = time.monotonic() + 5
    while scheduler.runs < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    sync.stop()
    runs = scheduler.runs
    assert runs >= 3 and not scheduler.running and len(world.dest) == 5
    time.sleep(0.15)
    assert scheduler.runs == runs


def test_cron_schedule_validation(state_url):
    sync = build(World([]), state_url)
    with pytest.raises(ConfigError, match="invalid cron"):
        sync.cron("every minute")
    with pytest.raises(ConfigError, match="exactly one"):
        sync.schedule()


def test_webhook_receiver_verifies_stores_and_processes(state_url):
    world = World([])
    sync = build(world, state_url)
    secret = "whsec-test-secret-1"
    receiver = sync.on_webhook(
        "/hooks/crm", secret=secret, extract=lambda event: event["data"]["contact"]
    )
    try:

        def send(payload, *, sign=True, event_id="evt-1", body=None):
            raw = body if body is not None else json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", "X-Event-Id": event_id}
            if sign:
                headers["X-Signature"] = signature_header(secret, raw)
            return httpx.post(receiver.url, content=raw, headers=headers)

        contact = contacts(1)[0]
        event = {"type": "contact.created", "data": {"contact": contact}}
        assert send(event, sign=False).status_code == 401
        bad = httpx.post(
            receiver.url,
            content=b"{}",
            headers={"X-Signature": signature_header("wrong-secret", b"{}")},
        )
        assert bad.status_code == 401
        ok = send(event)
        assert ok.status_code == 202 and ok.json()["duplicate"] is False
        assert send(event).json()["duplicate"] is True  # redelivery stored once
        assert send(None, body=b"not json", event_id="evt-2").status_code == 400
        assert (
            httpx.post(receiver.url.replace("/hooks/crm", "/other"), content=b"{}").status_code
            == 404
        )
        deadline = time.monotonic() + 5
        while not world.dest and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(world.dest) == ["user0@example.com"]
        assert sync.state["inbox"] == {"processed": 1}
    finally:
        sync.close()


def test_state_store_survives_reopen(state_url):
    world = World(contacts(12))
    sync = build(world, state_url)
    sync.run()
    sync.close()
    store = StateStore(state_url, "test-sync")
    assert store.seen_count() == 12 and store.runs(1)[0]["status"] == "ok"
    store.close()


def test_state_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "not.db"
    path.write_text("hello, I am not a database" * 100)
    with pytest.raises(ConfigError, match="apinotebook state file"):
        Integration("x", state=path, progress=None)


def test_report_renderings(state_url):
    world = World(contacts(30))
    sync = build(world, state_url)
    report = sync.run()
    assert "written 30" in report.summary()
    assert "<svg" in report._repr_html_()
    assert set(report.to_frame()["metric"]) >= {"read", "written", "seconds.destination"}
    assert len(report.timeline()) == report.batches
    assert json.dumps(report.to_dict())
