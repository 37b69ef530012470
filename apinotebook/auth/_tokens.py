"""Where OAuth 2.0 tokens live: a :class:`TokenSet` and the stores that keep one by name.

Tokens never go into a notebook, its outputs, the history, a HAR file or an
exported script. They stay in memory by default; to outlive the kernel (so an
exported script reuses the refresh token) they go, by *name*, into the
operating system's keyring or into a JSON file outside the notebook folder
that only its owner can read (``0600``, in a ``0700`` folder):

- ``store="memory"`` (default): this process only;
- ``store="keyring"``: the OS keyring (``pip install 'apinotebook[keyring]'``),
  service ``apinotebook-oauth``, user = the name;
- ``store="file"``: ``~/.config/apinotebook/tokens/<name>.json``, or the
  folder named by ``APINOTEBOOK_TOKEN_DIR``; a folder inside the current
  working directory (the notebook folder) is refused.

Every token read or received is registered as a secret, so it is masked
wherever apinotebook renders text.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from apinotebook._core.secrets import Secret
from apinotebook._exceptions import ConfigError, MissingExtraError

__all__ = [
    "FileTokenStore",
    "KeyringTokenStore",
    "MemoryTokenStore",
    "TokenSet",
    "TokenStore",
    "resolve_store",
    "store_lock",
]

KEYRING_SERVICE = "apinotebook-oauth"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint gave: every token held as a :class:`Secret`.

    ``expires_at`` is wall-clock time (``time.time()``), so it survives a
    store; ``None`` when the server did not say.
    """

    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: float | None = None
    scope: str | None = None
    token_type: str = "Bearer"
    id_token: Secret | None = field(default=None, repr=False)

    @classmethod
    def from_response(cls, payload: dict[str, Any], previous: TokenSet | None = None) -> TokenSet:
        """Build from a token response; a refresh without a new refresh token keeps the old."""
        expires_in = payload.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float | str) and str(expires_in).strip():
            try:
                expires_at = time.time() + float(expires_in)
            except ValueError:
                expires_at = None
        refresh = payload.get("refresh_token")
        id_token = payload.get("id_token")
        kept = previous.refresh_token if previous is not None else None
        return cls(
            access_token=Secret(str(payload["access_token"])),
            refresh_token=Secret(str(refresh)) if refresh else kept,
            expires_at=expires_at,
            scope=payload.get("scope") or (previous.scope if previous else None),
            token_type=str(payload.get("token_type") or "Bearer"),
            id_token=Secret(str(id_token)) if id_token else None,
        )

    def expires_in(self) -> float | None:
        """Seconds left (negative once expired), or ``None`` when unknown."""
        return None if self.expires_at is None else self.expires_at - time.time()

    def expired(self, leeway: float) -> bool:
        """Whether the access token expires within ``leeway`` seconds."""
        left = self.expires_in()
        return left is not None and left <= leeway

    def to_json(self) -> str:
        """The stored form (plain text: only a store writes it, never a notebook)."""
        data: dict[str, Any] = {
            "access_token": self.access_token.reveal(),
            "refresh_token": self.refresh_token.reveal() if self.refresh_token else None,
            "expires_at": self.expires_at,
            "scope": self.scope,
            "token_type": self.token_type,
            "id_token": self.id_token.reveal() if self.id_token else None,
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        """Read the stored form back; every token is registered as a secret again."""
        data = json.loads(text)
        if not isinstance(data, dict) or not data.get("access_token"):
            raise ValueError("not a stored token set")
        return cls(
            access_token=Secret(str(data["access_token"])),
            refresh_token=Secret(str(data["refresh_token"])) if data.get("refresh_token") else None,
            expires_at=float(data["expires_at"]) if data.get("expires_at") is not None else None,
            scope=data.get("scope"),
            token_type=str(data.get("token_type") or "Bearer"),
            id_token=Secret(str(data["id_token"])) if data.get("id_token") else None,
        )


class TokenStore(Protocol):
    """Keeps one :class:`TokenSet` per name."""

    def load(self, name: str) -> TokenSet | None:
        """The stored tokens, or ``None``."""

    def save(self, name: str, tokens: TokenSet) -> None:
        """Store (replace) the tokens."""

    def delete(self, name: str) -> None:
        """Forget the tokens (no error when there are none)."""


_MEMORY: dict[str, TokenSet] = {}
_MEMORY_LOCK = threading.Lock()


class MemoryTokenStore:
    """This process only: re-running a notebook cell that builds the flow keeps the tokens."""

    def load(self, name: str) -> TokenSet | None:
        """The stored tokens, or ``None``."""
        with _MEMORY_LOCK:
            return _MEMORY.get(name)

    def save(self, name: str, tokens: TokenSet) -> None:
        """Store (replace) the tokens."""
        with _MEMORY_LOCK:
            _MEMORY[name] = tokens

    def delete(self, name: str) -> None:
        """Forget the tokens."""
        with _MEMORY_LOCK:
            _MEMORY.pop(name, None)

    def __repr__(self) -> str:
        return "MemoryTokenStore()"


class FileTokenStore:
    """One JSON file per name, owner-only, outside the notebook folder.

    Args:
        directory: where the files go; default ``$APINOTEBOOK_TOKEN_DIR`` or
            ``~/.config/apinotebook/tokens``.

    Raises:
        ConfigError: the directory is inside the current working directory,
            where a notebook (and its git repository) would pick it up
            (a hidden folder of the home directory, like the default, is fine).
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        default = os.environ.get("APINOTEBOOK_TOKEN_DIR") or Path.home() / ".config" / (
            "apinotebook/tokens"
        )
        self.directory = Path(directory or default).expanduser().resolve()
        cwd = Path.cwd().resolve()
        inside = self.directory == cwd or cwd in self.directory.parents
        # Jupyter started in the home folder: ~/.config and other hidden folders are fine
        hidden = inside and self.directory.relative_to(cwd).parts[:1] != ()
        if hidden and cwd == Path.home().resolve():
            inside = not self.directory.relative_to(cwd).parts[0].startswith(".")
        if inside:
            raise ConfigError(
                f"Token files must live outside the notebook folder ({cwd}); "
                "pass another directory= or set APINOTEBOOK_TOKEN_DIR."
            )

    def path(self, name: str) -> Path:
        """The file that holds ``name``'s tokens."""
        return self.directory / f"{_checked(name)}.json"

    def load(self, name: str) -> TokenSet | None:
        """The stored tokens, or ``None`` (missing, unreadable or too widely readable)."""
        path = self.path(name)
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(
                    f"{path} is readable by other users; run chmod 600 on it or delete it."
                )
            return TokenSet.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError as exc:
            if isinstance(exc, ConfigError):
                raise
            return None

    def save(self, name: str, tokens: TokenSet) -> None:
        """Write the file with mode 0600 (atomically: a reader never sees half of it)."""
        path = self.path(name)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(tokens.to_json())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def delete(self, name: str) -> None:
        """Remove the file."""
        self.path(name).unlink(missing_ok=True)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold ``name``'s lock file: one refresh at a time across processes.

        Two processes (a notebook and an exported script, or two scheduled runs)
        whose tokens expire together must not both present the refresh token: with
        rotation the second presentation reuses a rotated-away token, and the
        server revokes the whole family. The one that waited finds the fresh
        tokens in the file. An advisory ``flock`` (``msvcrt.locking`` on Windows)
        on ``<name>.lock``; the operating system releases it if the process dies.
        """
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / f"{_checked(name)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_file(fd)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.directory)!r})"


def _lock_file(fd: int) -> None:
    """Block until this process holds an exclusive lock on ``fd``."""
    if sys.platform == "win32":
        import msvcrt

        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after 10 s: keep waiting
                continue
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def store_lock(store: TokenStore, name: str) -> contextlib.AbstractContextManager[None]:
    """The store's cross-process lock for ``name`` (a no-op for stores without one)."""
    lock = getattr(store, "lock", None)
    return lock(name) if callable(lock) else contextlib.nullcontext()


class KeyringTokenStore:
    """The operating system's keyring, through the ``keyring`` package."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        try:
            import keyring
        except ModuleNotFoundError as exc:
            raise MissingExtraError("Keyring token storage", "keyring", module="keyring") from exc
        self._keyring = keyring
        self.service = service

    def load(self, name: str) -> TokenSet | None:
        """The stored tokens, or ``None``."""
        text = self._keyring.get_password(self.service, _checked(name))
        if not text:
            return None
        try:
            return TokenSet.from_json(text)
        except ValueError:
            return None

    def save(self, name: str, tokens: TokenSet) -> None:
        """Store (replace) the tokens."""
        self._keyring.set_password(self.service, _checked(name), tokens.to_json())

    def delete(self, name: str) -> None:
        """Forget the tokens."""
        try:
            self._keyring.delete_password(self.service, _checked(name))
        except self._keyring.errors.PasswordDeleteError:
            pass

    def __repr__(self) -> str:
        return f"KeyringTokenStore({self.service!r})"


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"token name {name!r} must be 1-100 letters, digits, dots, dashes or underscores"
        )
    return name


def resolve_store(store: str | TokenStore | None) -> TokenStore:
    """``"memory"``, ``"keyring"``, ``"file"`` or a store object."""
    if store is None or store == "memory":
        return MemoryTokenStore()
    if store == "keyring":
        return KeyringTokenStore()
    if store == "file":
        return FileTokenStore()
    if isinstance(store, str):
        raise ConfigError.invalid_choice("token store", store, ("memory", "keyring", "file"))
    return store
