"""A deployment on a real Prefect server, two process workers, PostgreSQL state, a worker killed.

``prefect server start`` (its embedded SQLite database, loopback only), a
``process`` work pool, ``python flow.py deploy --pool``, two ``prefect worker
start`` processes. A partitioned CRM -> chat integration runs from the
deployment; the worker running it is SIGKILLed with its flow-run process
mid-run (as a machine would be lost); a second deployment run on the other
worker resumes every partition from its checkpoint in PostgreSQL. Chat
messages are not idempotent by themselves, so a record delivered twice would
show as a second message: at the end each valid contact has exactly one.

Slow (minutes): marked ``scale``, run by ``make scale``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from apinotebook.export import export_notebook

from .conftest import NOTEBOOKS, sandbox_env

pytestmark = [
    pytest.mark.prefect,
    pytest.mark.sandbox,
    pytest.mark.scale,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups"),
]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


class Processes:
    """Background processes, each in its own session (killed as a group)."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(command, cwd=self.folder, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        log.close()
        self.started[name] = proc
        return proc

    def kill(self, name: str) -> None:
        proc = self.started[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for name in list(self.started):
            try:
                self.kill(name)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def contacts_of(box: Any) -> list[dict[str, Any]]:
    store, out, cursor = box.state("crm"), [], None
    while True:
        page = store.list_contacts(limit=500, cursor=cursor)
        out += page["data"]
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]


def test_two_workers_a_killed_worker_and_shared_state_lose_and_repeat_nothing(
    crm_registered: None, tmp_path: Path, postgres: Any
) -> None:
    pytest.importorskip("prefect")
    psutil = pytest.importorskip("psutil")
    from apinotebook.sandbox import Sandbox

    prefect_bin = shutil.which("prefect", path=str(Path(sys.executable).parent))
    assert prefect_bin is not None
    folder = tmp_path / "flow"
    folder.mkdir()
    export_notebook(NOTEBOOKS / "crm_to_chat_partitioned.ipynb", folder / "flow.py",
                    target="prefect")  # fmt: skip
    port = _free_port()
    box = Sandbox(seed=11, contacts=400, services=("crm", "chat")).start()
    chat = box.state("chat")
    channel = chat.create_channel("workers").id
    env = {
        **sandbox_env(box.env),
        "CHAT_CHANNEL_ID": channel,
        "APINOTEBOOK_STATE": postgres.new_database(),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "DO_NOT_TRACK": "1",
    }
    procs = Processes(folder, env)

    def messages() -> Counter[str]:
        return Counter(m["text"].partition(":")[0] for m in chat.messages(channel))

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True,
                              timeout=600, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout + done.stderr

    def flow_run_state(run_id: str) -> str:
        r = httpx.get(f"{env['PREFECT_API_URL']}/flow_runs/{run_id}", timeout=30)
        return str(r.json()["state"]["type"]) if r.status_code == 200 else ""

    def finished(run_id: str) -> str:
        state = flow_run_state(run_id)
        return state if state in ("COMPLETED", "FAILED", "CRASHED") else ""

    try:
        procs.start("server", prefect_bin, "server", "start", "--host", "127.0.0.1",
                    "--port", str(port))  # fmt: skip

        def healthy() -> bool:
            try:
                return httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        _wait("the Prefect server", healthy, 600)
        run(prefect_bin, "work-pool", "create", "pool", "--type", "process")
        run(sys.executable, "flow.py", "deploy", "--pool", "pool", "--name", "shared")
        workers = [procs.start(f"worker{i}", prefect_bin, "worker", "start", "--pool", "pool",
                               "--limit", "1") for i in (1, 2)]  # fmt: skip
        started = run(prefect_bin, "deployment", "run", "crm-to-chat/shared")
        first = re.search(r"UUID:\s*([0-9a-f-]{36})", started)
        assert first, started
        valid = {c["id"] for c in contacts_of(box) if "@" in c["email"]}
        _wait("the first run to deliver a third", lambda: len(messages()) >= len(valid) // 3, 900)
        busy = [w for w in workers if psutil.Process(w.pid).children(recursive=True)]
        assert busy, "no worker is running the flow"
        victim = next(name for name, p in procs.started.items() if p is busy[0])
        procs.kill(victim)  # the worker and its flow-run process, as if the machine died
        held_at_kill = sum(messages().values())
        assert held_at_kill < len(valid), "the run finished before the kill"
        again = run(prefect_bin, "deployment", "run", "crm-to-chat/shared")
        second = re.search(r"UUID:\s*([0-9a-f-]{36})", again)
        assert second, again
        state = _wait("the second run", lambda: finished(second.group(1)), 900)
        assert state == "COMPLETED", procs.log("worker1") + procs.log("worker2")
        counts = messages()
        assert set(counts) == valid, f"lost {len(valid - set(counts))}"  # 0 lost
        assert set(counts.values()) == {1}, counts.most_common(3)  # 0 duplicated
    finally:
        procs.stop_all()
        box.stop()
