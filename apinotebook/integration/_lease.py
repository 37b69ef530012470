"""One run of an integration at a time: a lease per integration and state.

Two runs of the same integration on the same state would both read the same
checkpoint and both deliver what follows it. Every run (``run``, ``replay``,
webhook processing, the staged ``load``) holds the integration's lease while
it reads the checkpoint, delivers and checkpoints; a second run waits up to
``wait`` seconds for it, then stops with :class:`AlreadyRunningError` (exit
code 3 in exported scripts).

A state backend provides the lease through ``store.lease()``; anything with
:class:`Lease`'s two methods works, so a PostgreSQL store can hand out one
built on ``pg_try_advisory_lock``. The SQLite store's is :class:`FileLease`:
an OS lock (``flock``) on a small file beside the database,
``<state>.<integration>.lock``. The operating system releases it when the
holder's process ends, however it ends (SIGKILL, a crash, a reboot), so a
dead run never blocks the next one and there is no TTL to tune. As with
SQLite itself, this needs a local file system (not NFS).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from apinotebook._exceptions import AlreadyRunningError

__all__ = ["FileLease", "Lease", "LocalLease"]


class Lease(Protocol):
    """The right to run one integration; held for one run."""

    def acquire(self, *, wait: float = 0.0) -> None:
        """Take the lease, waiting up to ``wait`` seconds for the holder to finish.

        Raises:
            AlreadyRunningError: another run still holds it after ``wait`` seconds.
        """

    def release(self) -> None:
        """Give the lease back (a no-op when not held)."""


def _pause(deadline: float, step: float) -> bool:
    """Sleep a little before trying again; ``False`` once the deadline has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    time.sleep(min(step, left))
    return True


def _holder_text(info: dict[str, Any]) -> str:
    parts = []
    if info.get("pid"):
        parts.append(f"process {info['pid']}")
    if info.get("host"):
        parts.append(f"on {info['host']}")
    since = info.get("since")
    if isinstance(since, int | float):
        parts.append("since " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since)))
    return f" ({' '.join(parts)})" if parts else ""


def already_running(name: str, where: str, wait: float, holder: str = "") -> AlreadyRunningError:
    """The error a run gets when another run holds the lease."""
    waited = f" after waiting {wait:g}s" if wait else ""
    return AlreadyRunningError(
        f"{name} is already running{holder} on {where}{waited}, so this run stopped without "
        "reading or delivering anything. Let it finish, or wait for it: run(wait=SECONDS) / "
        "Integration(..., wait=SECONDS), or `run --wait SECONDS` in an exported script."
    )


class LocalLease:
    """A lease within this process (a ``":memory:"`` state, which no other process sees)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._held = False

    def acquire(self, *, wait: float = 0.0) -> None:
        """See :meth:`Lease.acquire`."""
        taken = self._lock.acquire(timeout=wait) if wait > 0 else self._lock.acquire(False)
        if not taken:
            raise already_running(self.name, "an in-memory state", wait)
        self._held = True

    def release(self) -> None:
        """See :meth:`Lease.release`."""
        if self._held:
            self._held = False
            self._lock.release()


class FileLease:
    """An OS lock on ``path``: released by the OS when the holding process dies.

    Args:
        path: the lock file (created if missing; never deleted, which keeps
            the lock race-free).
        name: the integration's name, for messages.
        where: what is locked, for messages (``state 'sync.db'``).
    """

    def __init__(self, path: str | Path, name: str, *, where: str = "") -> None:
        self.path = Path(path)
        self.name = name
        self.where = where or f"lock {str(self.path)!r}"
        self._fd: int | None = None

    def _try_lock(self, fd: int) -> bool:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            except OSError:
                return False
            return True
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self, *, wait: float = 0.0) -> None:
        """See :meth:`Lease.acquire`."""
        if self._fd is not None:
            raise already_running(self.name, self.where, 0, " (in this process)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + max(wait, 0.0)
        step = 0.02
        try:
            while not self._try_lock(fd):
                if not _pause(deadline, step):
                    holder = _holder_text(self._read_holder(fd))
                    raise already_running(self.name, self.where, wait, holder)
                step = min(step * 2, 0.5)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        try:  # who holds it, for the message the next run gets
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(info).encode())
        except OSError:
            pass

    @staticmethod
    def _read_holder(fd: int) -> dict[str, Any]:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            info = json.loads(os.read(fd, 4096) or b"{}")
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def release(self) -> None:
        """See :meth:`Lease.release`; closing the file releases the OS lock."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        self.release()
