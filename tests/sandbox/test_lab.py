"""``make lab``'s command: the sandbox plus JupyterLab with the sandbox in the kernel's env."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cmdline(pid: int) -> bytes:
    """A process's command line; empty once it has exited (children come and go)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def _kernel_of(server: int, timeout: float = 30.0) -> int:
    """The one ipykernel child of JupyterLab, once it has started."""
    deadline = time.monotonic() + timeout
    while True:
        kernels = [pid for pid in _children(server) if b"ipykernel" in _cmdline(pid)]
        if len(kernels) == 1 or time.monotonic() > deadline:
            (kernel,) = kernels
            return kernel
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_lab_serves_the_course_with_the_sandbox_in_the_environment(tmp_path):
    port, token = _free_port(), "test-token-0123456789"
    env = dict(
        os.environ,
        APINOTEBOOK_LAB_TOKEN=token,
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
    )
    env.pop("SANDBOX_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "apinotebook.cli",
        "lab",
        "--no-browser",
        "--lab-port",
        str(port),
        "--notebooks",
        str(ROOT / "notebooks"),
    ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"{base}/api/status", params={"token": token}, timeout=2)
                if status.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.5)
        assert status is not None and status.status_code == 200
        # the token is kept: without it the API refuses
        assert httpx.get(f"{base}/api/contents", timeout=5).status_code == 403
        names = {
            item["name"]
            for item in httpx.get(
                f"{base}/api/contents", params={"token": token}, timeout=5
            ).json()["content"]
        }
        assert "00_start_here.ipynb" in names and "README.md" in names
        # kernels inherit the server's environment: the sandbox's URLs and credentials
        (server,) = [p for p in _children(proc.pid)]
        environ = dict(
            item.split("=", 1)
            for item in Path(f"/proc/{server}/environ").read_bytes().decode().split("\0")
            if "=" in item
        )
        assert environ["CRM_TOKEN"] and environ["MAIL_API_KEY"] and environ["BILLING_WSDL"]
        assert httpx.get(environ["SANDBOX_URL"] + "/", timeout=5).json()["urls"]["crm"]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == 0  # Ctrl+C stops JupyterLab and the sandbox cleanly


# --- the launcher's port, token and lifetime ---------------------------------------


def _launch(tmp_path: Path, *args: str, token: str = "test-token-0123456789"):
    """Start ``apinotebook lab`` in its own session; its output lines go to a queue."""
    env = dict(
        os.environ,
        APINOTEBOOK_LAB_TOKEN=token,
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
    )
    env.pop("SANDBOX_URL", None)
    cmd = [sys.executable, "-m", "apinotebook.cli", "lab", "--no-browser"]
    cmd += ["--notebooks", str(ROOT / "notebooks"), *args]
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def _pump() -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                lines.put(line)

    pump = threading.Thread(target=_pump, daemon=True)
    pump.start()
    proc.pump = pump  # type: ignore[attr-defined]
    return proc, lines


def _printed_url(proc, lines: queue.Queue[str], timeout: float = 90) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            assert proc.poll() is None, "".join(seen)
            continue
        seen.append(line)
        if line.startswith("JupyterLab: "):
            return line.split(" ", 1)[1].strip()
    raise AssertionError("no URL printed:\n" + "".join(seen))


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone too


def _wait_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _cleanup(proc, *pids: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    proc.pump.join(30)  # the output pipe closes once every process holding it is gone


def test_lab_refuses_a_lab_port_that_is_taken_instead_of_moving(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        proc, lines = _launch(tmp_path, "--lab-port", str(port))
        try:
            proc.wait(30)
        finally:
            _cleanup(proc, *_children(proc.pid))
    out = "".join(lines.queue)
    assert proc.returncode == 2, out
    assert f"port {port} is already in use" in out
    assert "JupyterLab: http" not in out


def test_lab_prints_the_url_jupyterlab_serves_and_keeps_the_token_off_its_command_line(
    tmp_path,
):
    token = "secret-token-" + os.urandom(8).hex()
    held = socket.socket()
    try:  # 8888 taken: by us if we can, else it is taken by something else already
        held.bind(("127.0.0.1", 8888))
        held.listen()
        holding = True
    except OSError:
        holding = False
    try:
        proc, lines = _launch(tmp_path, token=token)
        server = None
        try:
            url = _printed_url(proc, lines)
            (server,) = _children(proc.pid)
            parsed = httpx.URL(url)
            assert parsed.params["token"] == token
            if holding:
                assert parsed.port != 8888
            # the printed URL is this JupyterLab, as its own server-info file says
            info = json.loads((tmp_path / "rt" / f"jpserver-{server}.json").read_text())
            assert info["port"] == parsed.port
            base = f"http://127.0.0.1:{parsed.port}"
            assert httpx.get(f"{base}/api/status", params={"token": token}).status_code == 200
            assert httpx.get(f"{base}/api/contents", timeout=5).status_code == 403
            # the token is neither on the command line (ps) nor in the kernels' environment
            assert token not in Path(f"/proc/{server}/cmdline").read_bytes().decode()
            assert token not in Path(f"/proc/{server}/environ").read_bytes().decode()
            assert token not in Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        finally:
            _cleanup(proc, *([server] if server else _children(proc.pid)))
    finally:
        held.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_killing_the_launcher_stops_jupyterlab_and_its_kernels(tmp_path, sig):
    token = "test-token-0123456789"
    proc, lines = _launch(tmp_path, "--lab-port", "0", token=token)
    server = kernel = None
    try:
        url = _printed_url(proc, lines)
        (server,) = _children(proc.pid)
        port = httpx.URL(url).port
        assert port and _port_open(port)
        started = httpx.post(
            f"http://127.0.0.1:{port}/api/kernels", params={"token": token}, json={}, timeout=30
        )
        assert started.status_code == 201, started.text
        kernel = _kernel_of(server)
        os.kill(proc.pid, sig)  # the one process, not its group
        proc.wait(30)
        if sig != signal.SIGKILL:
            assert proc.returncode == 0
        assert _wait_gone(server), "JupyterLab outlived the launcher"
        assert _wait_gone(kernel), "the kernel outlived the launcher"
        assert not _port_open(port)
    finally:
        _cleanup(proc, *(pid for pid in (server, kernel) if pid))
