"""Exported scripts take ``--record CASSETTE`` and ``--replay CASSETTE``: an offline dry run.

The CRM-to-newsletter notebook (REST source, GraphQL destination, a ``%%rest`` and a
``%%graphql`` cell) is exported, run once against the sandbox with ``--record``; the
sandbox is stopped, and the same script runs end to end from the cassette alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apinotebook.export import export_notebook

from .conftest import NOTEBOOKS, run_script, sandbox_env

pytestmark = [pytest.mark.sandbox]


def test_record_a_run_then_replay_it_with_the_sandbox_stopped(
    crm_registered: None, tmp_path: Path
) -> None:
    from apinotebook.sandbox import Sandbox

    script = export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", tmp_path / "sync.py").path
    cassette = tmp_path / "cassettes" / "sync.har"
    box = Sandbox(seed=5, contacts=60, companies=4).start()
    try:
        env = sandbox_env(box.env)
        live = run_script(script, "--record", str(cassette), "run", "--json",
                          "--state", str(tmp_path / "live.db"), env=env, cwd=tmp_path)  # fmt: skip
    finally:
        box.stop()
    assert live.returncode in (0, 1), live.stderr
    recorded = json.loads(live.stdout)
    assert recorded["read"] > 0 and recorded["written"] > 0
    data = cassette.read_bytes()
    for name in ("CRM_TOKEN", "MAIL_API_KEY"):
        assert env[name].encode() not in data, name
    entries = json.loads(data)["log"]["entries"]
    protocols = {e["_apinotebook"]["protocol"] for e in entries}
    assert protocols == {"rest", "graphql"}

    # nothing listens any more: the same run, from the cassette, with a fresh state
    state = str(tmp_path / "offline.db")
    offline = run_script(script, "--replay", str(cassette), "run", "--json", "--state", state,
                         env=env, cwd=tmp_path)  # fmt: skip
    assert offline.returncode == live.returncode, offline.stderr
    replayed = json.loads(offline.stdout)
    for count in ("read", "written", "failed", "skipped_filtered", "dead_lettered"):
        assert replayed[count] == recorded[count], count
    assert cassette.read_bytes() == data  # replaying never writes

    # without the cassette the run cannot reach the services
    unplugged = run_script(script, "run", "--state", str(tmp_path / "x.db"), env=env, cwd=tmp_path)
    assert unplugged.returncode == 2

    # a run that needs a call the cassette lacks stops with the reason, not a network error
    again = run_script(script, "--replay", str(cassette), "run", "--state", state,
                       env=env, cwd=tmp_path)  # fmt: skip
    assert again.returncode == 2
    assert "No recorded answer for" in again.stderr and "closest recorded request" in again.stderr


def test_cassette_options_are_checked(tmp_path: Path) -> None:
    script = export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", tmp_path / "sync.py").path
    both = run_script(script, "--replay", "a.har", "--record", "b.har", "run", env={}, cwd=tmp_path)
    assert both.returncode == 2 and "cannot be used together" in both.stderr
    missing = run_script(script, "--replay", "nope.har", "run", env={}, cwd=tmp_path)
    assert missing.returncode == 2
    assert "no cassette at nope.har" in missing.stderr
    helped = run_script(script, "--help", env={}, cwd=tmp_path)
    assert "--replay CASSETTE" in helped.stdout and "--record CASSETTE" in helped.stdout
