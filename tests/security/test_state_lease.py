"""One run per integration and state file at a time, across processes; a dead holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from apinotebook import AlreadyRunningError, FatalIntegrationError
from apinotebook.integration import Integration, StateStore

WORKER = Path(__file__).with_name("lease_worker.py")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _start(tmp_path: Path, state: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            state,
            str(tmp_path / "deliveries.txt"),
            str(tmp_path / "go"),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _delivered(tmp_path: Path) -> Counter[str]:
    path = tmp_path / "deliveries.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(line.split()[1] for line in lines)


def _wait_for(path: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.01)


def test_two_processes_at_once_deliver_each_record_once(tmp_path: Path, state_url: str) -> None:
    workers = [
        _start(tmp_path, state_url, "--slow", "0.1"),
        _start(tmp_path, state_url, "--slow", "0.1"),
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.ready.*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # both imported and waiting: release them together
    (tmp_path / "go").touch()
    results = [(w.wait(60), w.stderr.read() if w.stderr else "") for w in workers]
    for w in workers:
        for stream in (w.stdout, w.stderr):
            if stream:
                stream.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3], results
    loser = next(err for code, err in results if code == 3)
    assert "already running" in loser
    delivered = _delivered(tmp_path)
    assert len(delivered) == 300 and set(delivered.values()) == {1}


def test_a_killed_holder_does_not_block_the_next_run(tmp_path: Path, state_url: str) -> None:
    (tmp_path / "go").touch()
    holder = _start(tmp_path, state_url, "--slow", "60")
    try:
        _wait_for(tmp_path / "deliveries.txt.started")
        blocked = _start(tmp_path, state_url)
        assert blocked.wait(60) == 3
        assert blocked.stderr is not None and "already running" in blocked.stderr.read()
        blocked.stderr.close()
        blocked.stdout.close()  # type: ignore[union-attr]
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate()
    after = _start(tmp_path, state_url)
    out, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert set(_delivered(tmp_path)) == {f"r{i:03d}" for i in range(300)}  # none lost


def test_the_second_run_can_wait_for_the_first(tmp_path: Path, state_url: str) -> None:
    (tmp_path / "go").touch()
    first = _start(tmp_path, state_url, "--slow", "0.1")  # 12 batches: about 1.2 s
    _wait_for(tmp_path / "deliveries.txt.started")
    second = _start(tmp_path, state_url, "--wait", "30")
    assert first.wait(60) == 0
    out, err = second.communicate(timeout=60)
    first.communicate()
    assert second.returncode == 0, err
    delivered = _delivered(tmp_path)
    assert len(delivered) == 300 and set(delivered.values()) == {1}


def _integration(path: str, gate: threading.Event, entered: threading.Event) -> Integration:
    sync = Integration("in-process", state=path, progress=None, read_ahead=0)
    sync.source(key="id")(lambda since: iter([{"id": "a"}]))

    @sync.destination
    def deliver(batch: object) -> None:
        entered.set()
        gate.wait(10)

    return sync


def test_two_integrations_in_one_process_share_the_lease(state_url: str) -> None:
    gate, entered = threading.Event(), threading.Event()
    first = _integration(state_url, gate, entered)
    second = _integration(state_url, threading.Event(), threading.Event())
    thread = threading.Thread(target=first.run)
    thread.start()
    try:
        assert entered.wait(10)
        with pytest.raises(AlreadyRunningError) as info:
            second.run()
        assert isinstance(info.value, FatalIntegrationError)
        message = str(info.value)
        assert "already running" in message and "wait=" in message and str(os.getpid()) in message
    finally:
        gate.set()
        thread.join(10)
    assert second.run().status == "ok"  # free again
    first.close()
    second.close()


def test_the_lease_is_an_interface_a_store_provides(state_url: str) -> None:
    store = StateStore(state_url, "x")
    other = StateStore(state_url, "x")
    lease = store.lease()
    lease.acquire(wait=0)
    try:
        with pytest.raises(AlreadyRunningError):
            other.lease().acquire(wait=0.2)
        third = StateStore(state_url, "y")
        assert third.lease().acquire(wait=0) is None  # per name
        third.close()
    finally:
        lease.release()
    other.lease().acquire(wait=0)
    store.close()
    other.close()
