"""A real PostgreSQL server for the tests: one per session, in a temp dir, on loopback.

The server binaries come from the distribution's packages (``.ci/run``
installs ``postgresql``; Debian puts them in ``/usr/lib/postgresql/NN/bin``).
PostgreSQL refuses to run as root, so under root the cluster belongs to the
``postgres`` system user and its commands run through ``runuser``.

Tests that need it skip only when the binaries (or psycopg) are missing and
``APINOTEBOOK_REQUIRE_POSTGRES`` is unset; CI sets it, so they cannot skip
there silently. The core profile (``APINOTEBOOK_TEST_PROFILE=core``: the
Python 3.12/3.13 runs with only the core and ``[sandbox]``) has no psycopg by
design and skips them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

REQUIRE = "APINOTEBOOK_REQUIRE_POSTGRES"
USER = "apinotebook"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are, or ``None``."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def missing(reason: str) -> None:
    """Skip, unless CI said PostgreSQL must be there."""
    if os.environ.get(REQUIRE):
        pytest.fail(f"{reason}, and {REQUIRE} is set: install it (see .ci/run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """``initdb`` + ``pg_ctl start`` in a temp dir; :meth:`stop` removes it all."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="apinotebook-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> PostgresServer:
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        self._start()
        return self

    def _start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o", options,
            "start", check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{self.log()}")

    def restart(self) -> None:
        """Stop (fast: sessions are cut) and start again on the same port."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self._start()

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database: its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start one, or skip/fail (see the module docstring)."""
    if os.environ.get("APINOTEBOOK_TEST_PROFILE") == "core":  # by design: no [postgres] extra
        pytest.skip("the core profile (Python 3.12/3.13 runs) tests without the [postgres] extra")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg is not installed (pip install 'apinotebook[postgres]')")
    found = bindir()
    if found is None:
        missing("the PostgreSQL server binaries are not installed (apt-get install postgresql)")
    assert found is not None
    return PostgresServer(found).start()
