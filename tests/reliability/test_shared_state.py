"""PostgreSQL state under trouble: the server restarted mid-run; duplicate runs started at once.

The integration runs in ``sync_worker.py`` subprocesses against the sandbox's
chat service, whose messages are not idempotent by themselves (each carries
the batch's idempotency key), so a record delivered twice shows as a second
message. At the end every valid contact has exactly one message and every
invalid one is a dead letter exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
import sync_worker as worker
from test_kill import Worker, chat_figures, check_state, contacts_of, finish, sandbox_env

from apinotebook.sandbox import Sandbox

pytestmark = pytest.mark.skipif(
    __import__("sys").platform == "win32", reason="POSIX processes and signals"
)


def chat_world(sb: Sandbox, name: str) -> tuple[Any, str]:
    chat = sb.state("chat")
    return chat, chat.create_channel(name).id


def per_contact(chat: Any, channel: str) -> Counter[str]:
    return Counter(worker.contact_of_message(m["text"]) for m in chat.messages(channel))


def test_postgres_restarted_mid_run_loses_and_repeats_nothing(postgres, figures) -> None:  # type: ignore[no-untyped-def]
    url = postgres.new_database()
    with Sandbox(contacts=1_500, seed=31, services=("crm", "chat")) as sb:
        chat, channel = chat_world(sb, "restart")
        contacts = contacts_of(sb)
        valid = {c["id"] for c in contacts if "@" in c["email"]}
        env = sandbox_env(sb, url, SYNC_TARGET="chat", CHAT_CHANNEL_ID=channel,
                          SYNC_BATCH_SIZE="25")  # fmt: skip
        running = Worker(env)
        deadline = time.monotonic() + 120
        while len(chat.get(channel).messages) < len(valid) // 3:
            assert running.proc.poll() is None and time.monotonic() < deadline, "ended early"
            time.sleep(0.01)
        postgres.restart()  # every session is cut: the run's state connections and its lease
        held_at_restart = len(chat.get(channel).messages)
        status, _, err = running.finish(timeout=180)
        assert status in (0, 1, 2), err  # finished through the reconnect, or stopped cleanly
        report = finish(env)  # the next run resumes from the checkpoint
        counts = per_contact(chat, channel)
        assert set(counts) == valid and set(counts.values()) == {1}  # 0 lost, 0 duplicated
        check_state(url, "crm-to-chat", contacts, {c["id"] for c in contacts} - valid)
        figures.update(
            chat_figures(
                "CRM -> chat messages, PostgreSQL state, server restarted mid-run",
                contacts,
                valid,
                counts,
            ),  # fmt: skip
            held_at_restart=held_at_restart,
            first_run_exit=status,
            final_run_written=report["written"],
        )


@pytest.mark.scale
def test_duplicate_runs_started_together_x10(postgres, figures) -> None:  # type: ignore[no-untyped-def]
    rounds: list[dict[str, Any]] = []
    with Sandbox(contacts=300, seed=37, services=("crm", "chat")) as sb:
        contacts = contacts_of(sb)
        valid = {c["id"] for c in contacts if "@" in c["email"]}
        for i in range(10):
            chat, channel = chat_world(sb, f"twice-{i}")
            url = postgres.new_database()
            env = sandbox_env(sb, url, SYNC_TARGET="chat", CHAT_CHANNEL_ID=channel,
                              SYNC_BATCH_SIZE="10")  # fmt: skip
            pair = [Worker(env), Worker(env)]
            codes = sorted(w.finish(timeout=180)[0] for w in pair)
            counts = per_contact(chat, channel)
            rounds.append({"exit_codes": codes, "held": sum(counts.values())})
            # one ran, the other stopped with "already running" (3) or found nothing left
            assert codes[0] in (0, 1) and codes[1] in (0, 1, 3), codes
            assert set(counts) == valid and set(counts.values()) == {1}, (i, codes)
    figures.update(
        scenario="two runs of CRM -> chat started together on one PostgreSQL state, x10",
        records=len(contacts),
        expected=len(valid) * 10,
        held=sum(r["held"] for r in rounds),
        lost=len(valid) * 10 - sum(r["held"] for r in rounds),
        duplicated=0,
        rounds=rounds,
    )
