"""curl in, curl out: read a ``curl`` command line, write one for any request.

>>> cmd = parse_curl("curl -u ada:s3cret-pw https://api.example.com/v1/items?limit=2")
>>> cmd.method, cmd.url, cmd.user
('GET', 'https://api.example.com/v1/items?limit=2', 'ada')
>>> print(to_curl(cmd.to_request()))
curl 'https://api.example.com/v1/items?limit=2' -H 'Authorization: Basic ***'

- :func:`to_curl` writes a copy-pasteable POSIX shell command with secrets
  masked (``reveal_secrets=True`` is the explicit way around that);
- :func:`parse_curl` reads the options API documentation and browsers' "Copy
  as cURL" use, without running a shell; ``$VAR`` is read from the environment;
- :func:`client_from_curl` (``RestClient.from_curl``) builds a client for the
  command's origin with its headers and auth; ``.replay()`` sends the request.

For every supported command, ``parse_curl(to_curl(req, reveal_secrets=True))``
gives back the request's method, URL, headers (less the ones httpx adds by
itself) and body.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote_plus, urlsplit

import httpx

from apinotebook._core.curlfmt import format_curl
from apinotebook._core.files import FileRefused, read_regular_file
from apinotebook._core.secrets import (
    Secret,
    is_sensitive_name,
    mask_header,
    mask_text,
    mask_url,
    register_secret,
)
from apinotebook._exceptions import ConfigError
from apinotebook._exchange import Request
from apinotebook.curl._shell import split_command

__all__ = ["CurlCommand", "parse_curl", "to_curl"]

_FORM = "application/x-www-form-urlencoded"
_NOT_TOKEN = frozenset(' \t"(),/:;<=>?@[\\]{}')


def to_curl(request: Request | httpx.Request, *, reveal_secrets: bool = False) -> str:
    """The request as a ``curl`` command line for a POSIX shell.

    Long commands are split over lines with backslash continuations. Headers
    httpx adds by itself (``Host``, ``Accept-Encoding``, ``Connection``,
    ``Content-Length``, its ``User-Agent``, ``Accept: */*``) are left out;
    ``--json`` is not used, so older curls run the command too. Credentials
    are masked (``Bearer ***``) unless ``reveal_secrets=True``.
    """
    if isinstance(request, httpx.Request):
        request = Request.from_httpx(request)
    return format_curl(
        request.method,
        request.url,
        request.headers,
        request.content,
        reveal_secrets=reveal_secrets,
    )


# -- curl -> request ----------------------------------------------------------------


@dataclass(frozen=True)
class CurlCommand:
    """What a ``curl`` command line asks for (see :func:`parse_curl`).

    Attributes:
        method: the HTTP method.
        url: the full URL, query string included (``-G`` data is in it).
        headers: ``(name, value)`` pairs in order, including the ones curl
            implies (``Content-Type`` for ``-d`` and ``--json``, ``Cookie``
            for ``-b``, ``User-Agent`` for ``-A``, ``Referer`` for ``-e``).
        body: the request body.
        user: the ``-u`` user name, if any.
        password: the ``-u`` password (a :class:`~apinotebook.Secret`).
        verify: ``False`` with ``-k``/``--insecure``.
        follow_redirects: ``True`` with ``-L``.
        timeout: seconds, from ``-m``/``--max-time``.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    user: str | None = None
    password: Secret | None = None
    verify: bool = True
    follow_redirects: bool = False
    timeout: float | None = None

    @property
    def params(self) -> list[tuple[str, str]]:
        """The query parameters, in order."""
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (any case), or ``None``."""
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[-1] if found else None

    def to_request(self) -> Request:
        """The request curl would send (``-u`` becomes an ``Authorization: Basic`` header)."""
        headers = list(self.headers)
        if self.user is not None and self.header("authorization") is None:
            password = self.password.reveal() if self.password is not None else ""
            token = base64.b64encode(f"{self.user}:{password}".encode()).decode("ascii")
            headers.append(("Authorization", f"Basic {token}"))
        raw = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in headers]
        return Request(self.method, self.url, httpx.Headers(raw), self.body)

    def to_curl(self, *, reveal_secrets: bool = False) -> str:
        """The command written back out, normalised (see :func:`to_curl`)."""
        return to_curl(self.to_request(), reveal_secrets=reveal_secrets)

    def __repr__(self) -> str:
        headers = [(k, mask_header(k, v)) for k, v in self.headers]
        user = f", user={self.user!r}" if self.user is not None else ""
        return mask_text(
            f"CurlCommand(method={self.method!r}, url={mask_url(self.url)!r}, "
            f"headers={headers!r}, body=<{len(self.body)} bytes>{user})"
        )


#: Options that take a value, by every name they go by.
_VALUE_OPTIONS = {
    "-X": "request", "--request": "request", "-H": "header", "--header": "header",
    "-d": "data", "--data": "data", "--data-ascii": "data", "--data-raw": "data-raw",
    "--data-binary": "data-binary", "--data-urlencode": "data-urlencode", "--json": "json",
    "-u": "user", "--user": "user", "--url": "url", "-b": "cookie", "--cookie": "cookie",
    "-A": "user-agent", "--user-agent": "user-agent", "-e": "referer", "--referer": "referer",
    "-m": "max-time", "--max-time": "max-time", "--oauth2-bearer": "oauth2-bearer",
    "-o": "ignore", "--output": "ignore", "-w": "ignore", "--write-out": "ignore",
    "--connect-timeout": "ignore", "--retry": "ignore", "--retry-delay": "ignore",
    "--retry-max-time": "ignore",
}  # fmt: skip
#: Options without a value.
_FLAGS = {
    "-G": "get", "--get": "get", "-I": "head", "--head": "head", "-L": "location",
    "--location": "location", "-k": "insecure", "--insecure": "insecure",
    "--compressed": "ignore", "-s": "ignore", "--silent": "ignore", "-S": "ignore",
    "--show-error": "ignore", "-v": "ignore", "--verbose": "ignore", "-i": "ignore",
    "--include": "ignore", "-f": "ignore", "--fail": "ignore", "--fail-with-body": "ignore",
    "-#": "ignore", "--progress-bar": "ignore", "-N": "ignore", "--no-buffer": "ignore",
    "-g": "ignore", "--globoff": "ignore", "--http1.1": "ignore", "--http2": "ignore",
}  # fmt: skip
SUPPORTED_OPTIONS = tuple(sorted({*_VALUE_OPTIONS, *_FLAGS}))


#: The largest file ``-d @file`` (and the like) reads unless ``max_file_size=`` says otherwise.
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


def _read_file(name: str, option: str, limit: int | None) -> bytes:
    if name == "-":
        raise ConfigError(
            f"{option} @- reads the body from standard input, which a pasted command does "
            "not have. Save the body to a file and use @filename."
        )
    try:
        return read_regular_file(Path(name).expanduser(), limit=limit)
    except FileRefused as exc:
        hint = (
            " Pass max_file_size= (bytes, or None for no limit) to read a larger file."
            if "limit" in exc.reason
            else " Only regular files are read."
        )
        raise ConfigError(f"{option} @{name}: the file {exc.reason}.{hint}") from None
    except OSError as exc:
        raise ConfigError(f"{option} @{name}: cannot read the file ({exc.strerror})") from None


def _urlencode_part(value: str, option: str, limit: int | None) -> str:
    """One ``--data-urlencode`` value, as curl encodes it."""
    if value.startswith("@") or ("@" in value and "=" not in value.partition("@")[0]):
        name, _, path = value.partition("@")
        if "=" not in name:
            content = _read_file(path, option, limit).decode("utf-8", "replace")
            return f"{name}={quote_plus(content)}" if name else quote_plus(content)
    name, eq, content = value.partition("=")
    if not eq:
        return quote_plus(value)
    return f"{name}={quote_plus(content)}" if name else quote_plus(content)


def _protect(name: str, value: str) -> None:
    """Register a credential found in a header so every rendering masks it."""
    if is_sensitive_name(name):
        scheme, _, token = value.partition(" ")
        register_secret(token if token and scheme.isalpha() else value)


class _State:
    """What the options said so far."""

    def __init__(self, max_file_size: int | None = DEFAULT_MAX_FILE_SIZE) -> None:
        self.max_file_size = max_file_size
        self.method: str | None = None
        self.urls: list[str] = []
        self.headers: list[tuple[str, str]] = []
        self.removed: set[str] = set()
        self.data: list[str | bytes] = []
        self.json: list[bytes] = []
        self.get = self.head = self.location = self.insecure = False
        self.user: str | None = None
        self.password: str | None = None
        self.timeout: float | None = None

    def flag(self, kind: str) -> None:
        if kind != "ignore":
            setattr(self, kind, True)

    def option(self, kind: str, value: str, name: str) -> None:
        if kind == "request":
            self.method = value.upper()
        elif kind == "header":
            self.header(value, name)
        elif kind in ("data", "data-binary"):
            if value.startswith("@"):
                raw = _read_file(value[1:], name, self.max_file_size)
                self.data.append(raw if kind == "data-binary" else raw.replace(b"\r", b"")
                                 .replace(b"\n", b""))  # fmt: skip
            else:
                self.data.append(value)
        elif kind == "data-raw":
            self.data.append(value)
        elif kind == "data-urlencode":
            self.data.append(_urlencode_part(value, name, self.max_file_size))
        elif kind == "json":
            self.json.append(_read_file(value[1:], name, self.max_file_size)
                             if value.startswith("@")
                             else value.encode())  # fmt: skip
        elif kind == "user":
            user, colon, password = value.partition(":")
            if not colon:
                raise ConfigError(
                    f"-u {user!r} has no password, so curl would prompt for one; write "
                    '-u user:password (or -u "user:$PASSWORD" to read it from the environment)'
                )
            self.user, self.password = user, password
        elif kind == "url":
            self.urls.append(value)
        elif kind == "cookie":
            if "=" not in value:
                raise ConfigError(
                    f"-b {value!r} names a cookie file, which is not supported; give the "
                    "cookies themselves: -b 'name=value; other=value'"
                )
            self.headers.append(("Cookie", value))
        elif kind == "user-agent":
            self.headers.append(("User-Agent", value))
        elif kind == "referer":
            self.headers.append(("Referer", value))
        elif kind == "oauth2-bearer":
            register_secret(value)
            self.headers.append(("Authorization", f"Bearer {value}"))
        elif kind == "max-time":
            try:
                self.timeout = float(value)
            except ValueError:
                raise ConfigError(f"{name} takes seconds, not {value!r}") from None

    def header(self, value: str, option: str) -> None:
        if value.startswith("@"):
            raise ConfigError(f"{option} @file (headers from a file) is not supported")
        name, colon, rest = value.partition(":")
        if not colon:
            if name.endswith(";"):  # "X-Empty;" sends the header with no value
                self.headers.append((name[:-1].strip(), ""))
                return
            raise ConfigError(f"{option} {value!r} is not a header: write 'Name: value'")
        name, rest = name.strip(), rest.strip()
        if not name or not name.isascii() or any(c in _NOT_TOKEN for c in name):
            raise ConfigError(f"{option} {value!r}: {name!r} is not a valid header name")
        if not rest:  # "Name:" removes the header curl would add
            self.removed.add(name.lower())
            self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
            return
        _protect(name, rest)
        self.headers.append((name, rest))

    def implied(self, name: str, value: str) -> None:
        lower = name.lower()
        if lower not in self.removed and all(k.lower() != lower for k, _ in self.headers):
            self.headers.append((name, value))


def _parse_options(words: list[str], max_file_size: int | None) -> _State:
    state = _State(max_file_size)
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            state.urls += words[i:]
            break
        if word.startswith("--"):
            if word in _FLAGS:
                state.flag(_FLAGS[word])
                continue
            if word in _VALUE_OPTIONS:
                if i >= len(words):
                    raise ConfigError(f"curl option {word} needs a value")
                state.option(_VALUE_OPTIONS[word], words[i], word)
                i += 1
                continue
            _unknown(word)
        if word.startswith("-") and len(word) > 1:
            j = 1
            while j < len(word):
                short = "-" + word[j]
                j += 1
                if short in _FLAGS:
                    state.flag(_FLAGS[short])
                elif short in _VALUE_OPTIONS:
                    if j < len(word):
                        value = word[j:]
                    elif i < len(words):
                        value, i = words[i], i + 1
                    else:
                        raise ConfigError(f"curl option {short} needs a value")
                    state.option(_VALUE_OPTIONS[short], value, short)
                    break
                else:
                    _unknown(short)
            continue
        state.urls.append(word)
    return state


def _unknown(option: str) -> None:
    raise ConfigError(
        f"curl option {option} is not supported. Supported options: {', '.join(SUPPORTED_OPTIONS)}."
    )


def _url(state: _State) -> str:
    if not state.urls:
        raise ConfigError("the curl command has no URL: add one (https://...) or --url URL")
    if len(state.urls) > 1:
        shown = ", ".join(repr(mask_url(u)) for u in state.urls)
        raise ConfigError(f"the curl command has more than one URL ({shown}); keep one")
    url = state.urls[0]
    if "://" not in url:
        url = "http://" + url  # what curl assumes
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{mask_url(url)!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{mask_url(url)!r} is not an http(s) URL with a host")
    return url


def parse_curl(
    command: str,
    *,
    env: Mapping[str, str] | None = None,
    max_file_size: int | None = DEFAULT_MAX_FILE_SIZE,
) -> CurlCommand:
    """Read a ``curl`` command line (nothing is run).

    Quoting follows the POSIX shell: single and double quotes, ``$'...'``,
    backslashes and backslash-newline continuations. ``$VAR`` and ``${VAR}``
    are read from ``env`` (default: ``os.environ``); an unset variable is an
    error, and values of variables named like credentials (``*_TOKEN``,
    ``*_KEY``, ...) are masked from then on. A ``| jq`` or ``> file`` after
    the command is ignored. ``-d @file``, ``--data-binary @file``, ``--json
    @file`` and ``--data-urlencode name@file`` read the file, relative to the
    working directory: a regular file of at most ``max_file_size`` bytes
    (default 10 MB, ``None`` for no limit); a device, FIFO or socket is refused.

    Raises:
        ConfigError: an unsupported option (the message lists the supported
            ones), no URL, bad quoting, or a file that cannot be read.
    """
    words = split_command(command, os.environ if env is None else env)
    if words[:1] == ["$"]:  # a pasted prompt
        words = words[1:]
    if not words or os.path.basename(words[0]) not in ("curl", "curl.exe"):
        first = repr(words[0]) if words else "nothing"
        raise ConfigError(f"expected a command starting with 'curl', got {first}")
    state = _parse_options(words[1:], max_file_size)
    url = _url(state)
    if state.json and state.data:
        raise ConfigError("the command mixes --json with -d/--data; use one of them")
    body = b""
    if state.json:
        body = b"".join(state.json)
        state.implied("Content-Type", "application/json")
        state.implied("Accept", "application/json")
    elif state.data:
        parts = [p if isinstance(p, bytes) else p.encode() for p in state.data]
        joined = b"&".join(parts)
        if state.get:
            url += ("&" if "?" in url else "?") + joined.decode("utf-8", "replace")
        else:
            body = joined
            state.implied("Content-Type", _FORM)
    method = state.method or ("HEAD" if state.head else "POST" if body else "GET")
    password = Secret(state.password) if state.password else None
    if state.user and password is None:
        register_secret(state.user)  # "-u sk_test_...:": the user name is the key
    return CurlCommand(
        method=method,
        url=url,
        headers=tuple(state.headers),
        body=body,
        user=state.user,
        password=password,
        verify=not state.insecure,
        follow_redirects=state.location,
        timeout=state.timeout,
    )
