"""``apinotebook lab``: the sandbox plus JupyterLab on the course, in one command."""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from apinotebook._exceptions import ConfigError, MissingExtraError

__all__ = ["run_lab"]


def lab_command(notebooks: Path, *, port: int, token: str, open_browser: bool) -> list[str]:
    """The JupyterLab command line: loopback only, token kept, root allowed when root."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={notebooks}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def run_lab(args: argparse.Namespace, *, sandbox: Any) -> int:
    """Start the sandbox, then JupyterLab with the sandbox's variables; wait for it."""
    if importlib.util.find_spec("jupyterlab") is None:
        raise MissingExtraError("apinotebook lab", "notebook", module="jupyterlab")
    notebooks = Path(args.notebooks).resolve()
    if not notebooks.is_dir():
        raise ConfigError(f"notebook folder {str(notebooks)!r} does not exist")
    token = os.environ.get("APINOTEBOOK_LAB_TOKEN") or secrets.token_urlsafe(24)
    sandbox.start()
    env = dict(os.environ)
    env.update(sandbox.env)
    print(f"Sandbox running at {sandbox.url}; its URLs and credentials are in the kernel's env.")
    print(f"JupyterLab: http://127.0.0.1:{args.lab_port}/lab?token={token}", flush=True)
    cmd = lab_command(notebooks, port=args.lab_port, token=token, open_browser=not args.no_browser)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl+C: stop JupyterLab without its y/n prompt
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print("JupyterLab and the sandbox stopped.")
        return 0
    finally:
        sandbox.stop()
