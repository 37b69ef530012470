"""SIGKILL a running integration at random points, rerun it, and lose or repeat nothing.

The sandbox serves from this process; the integration runs in a subprocess
(``sync_worker.py``) with its SQLite state on disk. Ten times it is killed
with SIGKILL at a seeded random point, of three kinds:

- ``progress``: once the destination holds a random number of new records;
- ``time``: a random number of seconds after the start (sometimes during
  start-up, sometimes mid-batch), or at the progress mark if that comes first;
- ``inside``: by the worker itself, right after its n-th destination write
  returned and before the pipeline could checkpoint it -- the window that
  forces a redelivery.

Each rerun resumes from the checkpoint. Two destinations: the mail list
(``upsertSubscribers``, idempotent by email) and chat messages, which are not
idempotent by themselves and count on ``batch.idempotency_keys``. At the end,
every valid contact is in the destination exactly once (one message per
contact), every invalid one is a dead letter exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sync_worker as worker

from apinotebook.integration import StateStore
from apinotebook.sandbox import Sandbox

WORKER = Path(worker.__file__)
CONTACTS = 2_000
KILLS = 10
LIGHT_FAULTS = {"error_rate": 0.03, "throttle_rate": 0.02, "retry_after": 0, "drop_rate": 0.02}


def contacts_of(sb: Sandbox) -> list[dict[str, Any]]:
    store, out, cursor = sb.state("crm"), [], None
    while True:
        page = store.list_contacts(limit=500, cursor=cursor)
        out += page["data"]
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]


class Worker:
    """``sync_worker.py`` in a subprocess; its stderr goes to a file (a full pipe would block)."""

    def __init__(self, env: dict[str, str], kill_after: int | None = None) -> None:
        child = dict(env, SYNC_KILL_AFTER="" if kill_after is None else str(kill_after))
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)], env=child, stdout=subprocess.PIPE, stderr=self.err
        )

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait; return the exit status, stdout and the end of stderr."""
        out, _ = self.proc.communicate(timeout=timeout)
        self.err.seek(0)
        err = self.err.read().decode(errors="replace")[-3000:]
        self.err.close()
        return self.proc.returncode, out.decode(), err


def kill_plan(seed: int) -> list[tuple[str, float]]:
    """Ten kill points: (kind, parameter), in a seeded random order."""
    rng = random.Random(seed)
    kinds = ["progress"] * 4 + ["time"] * 3 + ["inside"] * 3
    rng.shuffle(kinds)
    plan = []
    for kind in kinds:
        if kind == "inside":
            plan.append((kind, float(rng.randint(1, 6))))
        elif kind == "time":
            plan.append((kind, rng.uniform(0.2, 2.5)))
        else:
            plan.append((kind, rng.random()))
    return plan


def run_with_kills(
    env: dict[str, str], progress: Callable[[], int], total: int, seed: int, per_write: int
) -> list[dict[str, Any]]:
    """Kill the worker ten times as planned; return what happened at each kill.

    ``per_write`` is how many records one destination write delivers, so that an
    ``inside`` kill never waits for more writes than the run has left.
    """
    rng = random.Random(seed + 1)
    log = []
    for kind, value in kill_plan(seed):
        start = progress()
        # never more than a quarter of what is left, so every kill lands mid-run
        mark = start + max(1, int((total - start) * (value if kind == "progress" else 0.25) / 4))
        writes_left = (total - start) // per_write
        kill_after = max(1, min(int(value), writes_left - 1)) if kind == "inside" else None
        running = Worker(env, kill_after=kill_after)
        t0 = time.monotonic()
        deadline = t0 + (value if kind == "time" else 60.0)
        while running.proc.poll() is None:
            if kind != "inside" and (progress() >= mark or time.monotonic() >= deadline):
                os.kill(running.proc.pid, signal.SIGKILL)
                break
            time.sleep(rng.uniform(0.0005, 0.003))
        status, _, err = running.finish(timeout=60)
        assert status == -signal.SIGKILL, (kind, status, err)
        log.append({"kind": kind, "after_s": round(time.monotonic() - t0, 3), "held": progress()})
    return log


def finish(env: dict[str, str]) -> dict[str, Any]:
    status, out, err = Worker(env).finish(timeout=120)
    assert status in (0, 1), err
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def check_state(path: str, name: str, contacts: list[dict[str, Any]], dead: set[str]) -> None:
    store = StateStore(path, name)
    try:
        assert store.seen_count() == len(contacts)
        assert store.cursor() == max(c["updated_at"] for c in contacts)
        letters = store.dead_letters()
        assert sorted(d.key for d in letters) == sorted(dead)  # each exactly once
    finally:
        store.close()


def chat_figures(
    scenario: str, contacts: list[Any], valid: set[str], counts: Counter[str]
) -> dict[str, Any]:
    """What a chat scenario measured: records, expected, held, lost, duplicated."""
    return {
        "scenario": scenario,
        "records": len(contacts),
        "expected": len(valid),
        "held": sum(counts.values()),
        "lost": len(valid - set(counts)),
        "duplicated": sum(n - 1 for n in counts.values()),
    }


def sandbox_env(sb: Sandbox, state: str, **extra: str) -> dict[str, str]:
    return {**os.environ, **sb.env, "SYNC_STATE": str(state), **extra}


@pytest.mark.parametrize("seed", [2026])
def test_sigkill_chat_messages_exactly_once(state_url, seed, figures):
    options = {"crm": {"messy_rate": 0.01}}
    with Sandbox(contacts=CONTACTS, seed=seed, services=("crm", "chat"), options=options) as sb:
        chat = sb.state("chat")
        channel = chat.create_channel("crm-feed").id
        sb.set_faults("chat", **LIGHT_FAULTS)
        sb.set_faults("crm", **LIGHT_FAULTS)
        contacts = contacts_of(sb)
        valid = {c["id"] for c in contacts if "@" in c["email"]}
        env = sandbox_env(
            sb,
            state_url,
            SYNC_TARGET="chat",
            CHAT_CHANNEL_ID=channel,
            SYNC_BATCH_SIZE="25",
        )

        def per_contact() -> Counter[str]:
            return Counter(worker.contact_of_message(m["text"]) for m in chat.messages(channel))

        def held() -> int:
            return len(chat.get(channel).messages)

        log = run_with_kills(env, held, len(valid), seed, per_write=1)
        counts = per_contact()
        assert max(counts.values(), default=1) == 1, counts.most_common(3)  # no repeats so far
        report = finish(env)
        counts = per_contact()
        assert set(counts) == valid and set(counts.values()) == {1}  # 0 lost, 0 duplicated
        invalid = {c["id"] for c in contacts} - valid
        check_state(state_url, "crm-to-chat", contacts, invalid)
        figures.update(
            chat_figures(
                "CRM -> chat messages (not idempotent by itself), SIGKILL x10",
                contacts,
                valid,
                counts,
            ),  # fmt: skip
            dead_lettered=len(invalid),
            kills=log,
            final_run_written=report["written"],
        )


@pytest.mark.parametrize("seed", [2027])
def test_sigkill_mail_upserts_exactly_once(state_url, seed, figures):
    options = {"crm": {"messy_rate": 0.01}}
    with Sandbox(contacts=CONTACTS, seed=seed, services=("crm", "mail"), options=options) as sb:
        mail = sb.state("mail")
        list_id = str(mail.create_list("Kill test").id)
        sb.set_faults("mail", **LIGHT_FAULTS)
        sb.set_faults("crm", **LIGHT_FAULTS)
        contacts = contacts_of(sb)
        outcome = worker.mail_outcomes(contacts)
        env = sandbox_env(
            sb,
            state_url,
            SYNC_TARGET="mail",
            MAIL_LIST_ID=list_id,
            SYNC_BATCH_SIZE="20",
            SYNC_CONCURRENCY="2",
        )

        def held() -> int:
            return len(mail.get_list(list_id).members)

        log = run_with_kills(env, held, len(outcome["written"]), seed, per_write=20)
        expected = worker.expected_mail(contacts)
        subs = {s["email"]: s["name"] for s in mail.subscribers(list_id)}
        assert set(subs) <= set(expected)  # nothing that should not be there
        report = finish(env)
        subs = {s["email"]: s["name"] for s in mail.subscribers(list_id)}
        assert subs == expected
        check_state(state_url, "crm-to-mail", contacts, outcome["dead"])
        figures.update(
            scenario="CRM -> Mail upserts, SIGKILL x10",
            records=len(contacts),
            **worker.list_figures(expected, subs),
            dead_lettered=len(outcome["dead"]),
            kills=log,
            final_run_written=report["written"],
        )
