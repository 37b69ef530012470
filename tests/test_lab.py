"""``make lab``'s command: the sandbox plus JupyterLab with the sandbox in the kernel's env."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
