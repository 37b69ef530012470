"""``apinotebook lab``: the sandbox plus JupyterLab on the course, in one command.

How JupyterLab is run, and why:

- **The port.** JupyterLab is told never to move to another port
  (``--ServerApp.port_retries=0``). A port given with ``--lab-port`` that is in use
  is an error; without ``--lab-port``, 8888 is used when it is free and a free
  port otherwise. The URL printed is the one JupyterLab writes to its server-info
  file (``jpserver-<pid>.json``) once it listens, never a guess.
- **The token.** It is not on JupyterLab's command line, which ``ps`` shows to
  every user: it is handed over in a private file (``JUPYTER_TOKEN_FILE``) that is
  deleted as soon as JupyterLab has started, so the kernels' environment does not
  carry it either.
- **Stopping.** JupyterLab runs in its own session, so Ctrl+C does not reach it
  directly (and it does not ask its y/n question); the launcher stops it on
  SIGINT, SIGTERM and SIGHUP, and JupyterLab shuts its kernels down. On Linux
  JupyterLab also gets SIGTERM when the launcher dies without cleaning up
  (``PR_SET_PDEATHSIG``), so it never outlives the sandbox whose credentials are
  in its environment.
"""

from __future__ import annotations

import argparse
import errno
import http.client
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from apinotebook._exceptions import ConfigError, MissingExtraError

__all__ = ["run_lab"]

DEFAULT_PORT = 8888
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_PARENT_ENV = "APINOTEBOOK_LAB_PARENT"

# Run in JupyterLab's process before JupyterLab itself: ask Linux to send SIGTERM
# when the launcher dies, and give up at once if it already has.
_LINUX_BOOT = (
    "import ctypes, os, runpy, signal, sys\n"
    f"parent = int(os.environ.pop({_PARENT_ENV!r}, '0') or 0)\n"
    "try:\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)\n"
    "except (AttributeError, OSError):\n"
    "    pass\n"
    "if parent and os.getppid() != parent:\n"
    "    sys.exit(1)\n"
    "runpy.run_module('jupyterlab', run_name='__main__', alter_sys=True)\n"
)


class _Stop(Exception):
    """A stop signal reached the launcher."""


def lab_command(notebooks: Path, *, port: int, open_browser: bool) -> list[str]:
    """The JupyterLab command line: loopback only, fixed port, no secret on it."""
    if sys.platform.startswith("linux"):
        cmd = [sys.executable, "-c", _LINUX_BOOT]
    else:
        cmd = [sys.executable, "-m", "jupyterlab"]
    cmd += [
        f"--ServerApp.root_dir={notebooks}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def choose_port(requested: int | None) -> int:
    """The port to give JupyterLab: the one asked for, else 8888 if free, else 0 (any)."""
    if requested is not None:
        if requested and not _port_is_free(requested):
            raise ConfigError(
                f"port {requested} is already in use on 127.0.0.1 (another Jupyter server?); "
                "choose another with --lab-port, or --lab-port 0 for a free one"
            )
        return requested
    return DEFAULT_PORT if _port_is_free(DEFAULT_PORT) else 0


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def run_lab(args: argparse.Namespace, *, sandbox: Any) -> int:
    """Start the sandbox, then JupyterLab with the sandbox's variables; wait for it."""
    if importlib.util.find_spec("jupyterlab") is None:
        raise MissingExtraError("apinotebook lab", "notebook", module="jupyterlab")
    notebooks = Path(args.notebooks).resolve()
    if not notebooks.is_dir():
        raise ConfigError(f"notebook folder {str(notebooks)!r} does not exist")
    port = choose_port(args.lab_port)
    token = os.environ.get("APINOTEBOOK_LAB_TOKEN") or secrets.token_urlsafe(24)
    try:
        with _stop_signals_raise():
            sandbox.start()
            try:
                print(
                    f"Sandbox running at {sandbox.url}; "
                    "its URLs and credentials are in the kernel's env."
                )
                return _serve(args, notebooks, port, token, sandbox.env)
            finally:
                with _signals_ignored():
                    sandbox.stop()
    except (KeyboardInterrupt, _Stop):  # stopped while the sandbox was starting
        return 0


def _serve(
    args: argparse.Namespace, notebooks: Path, port: int, token: str, sandbox_env: dict[str, str]
) -> int:
    private = Path(tempfile.mkdtemp(prefix="apinotebook-lab-"))  # mode 0700
    token_file = private / "token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    env = dict(os.environ)
    env.update(sandbox_env)
    for name in ("JUPYTER_TOKEN", "APINOTEBOOK_LAB_TOKEN"):
        env.pop(name, None)
    env["JUPYTER_TOKEN_FILE"] = str(token_file)
    env[_PARENT_ENV] = str(os.getpid())
    cmd = lab_command(notebooks, port=port, open_browser=not args.no_browser)
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        info = _wait_for_server_info(proc, _runtime_dir(env), token)
        shutil.rmtree(private, ignore_errors=True)
        if info is None:
            if port:
                raise ConfigError(
                    f"JupyterLab could not start on port {port} (see its log above); "
                    "choose another with --lab-port, or --lab-port 0 for a free one"
                )
            raise ConfigError("JupyterLab could not start (see its log above)")
        url = f"http://127.0.0.1:{info['port']}{info.get('base_url') or '/'}"
        print(f"JupyterLab: {url}lab?token={token}", flush=True)
        return proc.wait()
    except (KeyboardInterrupt, _Stop):
        if proc is not None:
            _stop(proc)
        print("JupyterLab and the sandbox stopped.", flush=True)
        return 0
    finally:
        shutil.rmtree(private, ignore_errors=True)
        if proc is not None and proc.poll() is None:  # an unexpected error: never orphan it
            _stop(proc)


def _runtime_dir(env: dict[str, str]) -> Path:
    if env.get("JUPYTER_RUNTIME_DIR"):
        return Path(env["JUPYTER_RUNTIME_DIR"])
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def _wait_for_server_info(
    proc: subprocess.Popen[bytes], runtime: Path, token: str
) -> dict[str, Any] | None:
    """JupyterLab's own record of where it listens, once it answers there; None if it exited.

    The server-info file is written just before JupyterLab binds its port, so the
    URL is trusted only once ``/api/status`` answers it with our token (another
    server on that port would refuse the token).
    """
    info_file = runtime / f"jpserver-{proc.pid}.json"
    info: dict[str, Any] | None = None
    while proc.poll() is None:
        if info is None:
            try:
                data = json.loads(info_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # not written yet, or half written
                data = None
            if isinstance(data, dict) and isinstance(data.get("port"), int):
                info = data
        if info is not None and _answers(info["port"], info.get("base_url") or "/", token):
            return info
        time.sleep(0.1)
    return None


def _answers(port: int, base_url: str, token: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", f"{base_url}api/status", headers={"Authorization": f"token {token}"})
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM JupyterLab (it shuts its kernels down), then kill its group if it hangs."""
    with _signals_ignored():
        try:
            proc.terminate()
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP interrupt the launcher like Ctrl+C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise _Stop(signum)

    previous = {sig: signal.signal(sig, _raise) for sig in _STOP_SIGNALS if sig != signal.SIGINT}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """A second Ctrl+C or SIGTERM does not cut the cleanup short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
