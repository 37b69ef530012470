"""The exported calendar → chat script signs its user in with the device flow, headless.

Course notebook 08 signs in with ``OAuth2DeviceCode`` (``store="file"``). Its
exported script, run on a "server" with an empty token folder, prints the link
and the code and polls; the test is the user on their phone (it types the code
on the sandbox's verification page); the run then completes. The next run finds
the stored refresh token by name and asks nobody. No token reaches the output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apinotebook.auth import FileTokenStore
from apinotebook.export import export_notebook
from apinotebook.sandbox import Sandbox

from .conftest import ROOT, sandbox_env

CODE = re.compile(r"enter the code (\S+)")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    options = {"auth": {"device_interval": 0.05}}
    with Sandbox(services=("auth", "calendar", "chat"), options=options) as box:
        yield box


def test_the_exported_script_runs_the_device_flow_headless(sb, tmp_path):
    script = export_notebook(
        ROOT / "notebooks" / "08_calendar_to_chat.ipynb", tmp_path / "calendar_to_chat.py"
    ).path
    text = script.read_text(encoding="utf-8")
    assert "OAuth2DeviceCode" in text and "approve_device" not in text  # the notebook's stand-in
    tokens = tmp_path / "tokens"
    env = sandbox_env({**sb.env, "APINOTEBOOK_TOKEN_DIR": str(tokens), "PYTHONUNBUFFERED": "1"})
    work = tmp_path / "server"
    work.mkdir()

    proc = subprocess.Popen(
        [sys.executable, str(script), "run"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        prompt = ""
        for line in proc.stdout:  # the script waits for the user: it must say so first
            prompt += line
            found = CODE.search(line)
            if found:
                sb.approve_device(found.group(1))  # the user, on another device
                break
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert found, prompt
    assert proc.returncode == 0, err
    assert sb.env["AUTH_ISSUER"] + "/device" in prompt

    stored = FileTokenStore(tokens).load("calendar-to-chat")
    assert stored is not None and stored.refresh_token is not None
    secrets = [stored.refresh_token.reveal(), stored.access_token.reveal()]
    assert not any(s in prompt + rest + err for s in secrets)

    # the next run (a cron job) reuses the stored refresh token: nobody is asked
    again = subprocess.run(
        [sys.executable, str(script), "run"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert again.returncode == 0, again.stderr
    assert "enter the code" not in again.stdout + again.stderr
    assert os.stat(tokens / "calendar-to-chat.json").st_mode & 0o077 == 0
    assert Path(tokens / "calendar-to-chat.json").exists()
