"""Secrets and masking.

A :class:`Secret` wraps a credential so it never shows up by accident: its
``repr`` and ``str`` are masked, and its value is registered so every
rendering the package produces (reprs, the inspector, ``to_dict``, HAR files,
curl strings, log lines, exception messages) replaces it with ``***``.

Masking is layered, because a credential can hide in many places:

1. by header name (``Authorization``, ``Cookie``, ``X-API-Key``, anything with
   *token*, *secret*, *password*, ... in its name): the value is masked, but
   an auth scheme such as ``Bearer`` is kept so the inspector stays useful;
2. by query-string, form-field and JSON key name (``access_token``,
   ``client_secret``, ``password``, ``api_key``, ...);
3. by value: every registered secret (every ``Secret`` ever created, plus
   tokens fetched at run time such as OAuth2 access tokens) is replaced
   wherever it appears in text.

Nothing is masked at record time (that would cost every call); masking
happens when something is rendered or exported. ``reveal_secrets=True`` on
an export is the one explicit way around it.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from apinotebook._exceptions import ConfigError, MissingSecretError

__all__ = [
    "MASK",
    "Secret",
    "carries_secret",
    "is_sensitive_header",
    "is_sensitive_name",
    "mask_body",
    "mask_header",
    "mask_headers",
    "mask_text",
    "mask_url",
    "masks_field",
    "register_secret",
    "reveal",
]

MASK = "***"

_SENSITIVE_NAME = re.compile(
    r"(?i)(authori[sz]ation|cookie|token|secret|passw(or)?d|passwd|pwd|api[-_]?key|"
    r"^key$|access[-_]?key|private[-_]?key|signature|^sig$|session|credential|^auth$)"
)
#: Header names are judged more broadly than body keys (``X-Auth-Key``,
#: ``Ocp-Apim-Subscription-Key``): any of these words in the name makes it a credential.
_HEADER_WORDS = frozenset(
    {"key", "token", "auth", "secret", "session", "signature", "password", "cookie",
     "subscription", "credential", "credentials", "apikey", "passwd", "pwd", "sig"}
)  # fmt: skip
#: headers whose names match but whose values are not credentials
_NOT_SECRET_HEADERS = frozenset({"idempotency-key", "sec-websocket-key", "keep-alive"})
_USERINFO = re.compile(r"(//)[^/@\s]*@")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
#: Header values with a scheme keep it: ``Bearer ***``.
_SCHEMES = ("bearer ", "basic ", "digest ", "token ", "apikey ", "negotiate ")
#: XML elements whose text is a credential (WS-Security passwords, tokens, keys).
_XML_SECRET = re.compile(
    r"(<(?:[\w.-]+:)?(?:Password|Passwd|Secret|ApiKey|Token|AccessToken|ClientSecret)\b[^>]*>)"
    r"([^<]*)(</(?:[\w.-]+:)?\w+>)",
    re.IGNORECASE,
)
#: Secrets shorter than this are not masked by value (they would mask common text).
_MIN_SECRET = 6


class _Registry:
    """Every secret value seen so far, and one regex that finds them all."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) < _MIN_SECRET or value in self._values:
            return
        with self._lock:
            self._values.add(value)
            self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is None and self._values:
            with self._lock:
                ordered = sorted(self._values, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(map(re.escape, ordered)))
        return pattern


_REGISTRY = _Registry()


def register_secret(value: str) -> None:
    """Mask ``value`` wherever apinotebook renders text from now on."""
    if value:
        _REGISTRY.add(value)


class Secret:
    """A credential that masks itself.

    >>> token = Secret("s3cr3t-value", name="CRM_TOKEN")
    >>> token
    Secret(name='CRM_TOKEN')
    >>> f"{token}"
    '***'
    >>> token.reveal()
    's3cr3t-value'
    """

    __slots__ = ("_value", "name")

    def __init__(self, value: str, *, name: str | None = None) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str) or not value:
            raise ConfigError("a Secret needs a non-empty string value")
        self._value = value
        self.name = name
        register_secret(value)

    @classmethod
    def from_env(cls, name: str, default: str | None = None) -> Secret:
        """Read the secret from environment variable ``name``.

        Raises:
            MissingSecretError: the variable is unset (or empty) and there is
                no ``default``; the message names the variable.
        """
        value = os.environ.get(name) or default
        if not value:
            raise MissingSecretError(name)
        return cls(value, name=name)

    def reveal(self) -> str:
        """The plain value. Call it only where the value must leave the process."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(name={self.name!r})" if self.name else f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError(
            "a Secret cannot be pickled: its value would be written out in clear. "
            "Store the name of the environment variable instead."
        )

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def reveal(value: str | Secret) -> str:
    """The plain text of ``value``, whether it is a ``Secret`` or a string."""
    return value.reveal() if isinstance(value, Secret) else value


def as_secret(value: str | Secret, *, name: str | None = None) -> Secret:
    """Wrap ``value`` in a :class:`Secret` (a no-op for a ``Secret``)."""
    return value if isinstance(value, Secret) else Secret(value, name=name)


def is_sensitive_name(name: str) -> bool:
    """Whether a header, parameter or field called ``name`` holds a credential."""
    return bool(_SENSITIVE_NAME.search(name))


def masks_field(name: str, value: Any) -> bool:
    """Whether a field ``name`` holding ``value`` is masked: the one rule for every view.

    A credential name, whatever its value (a list of passwords too), except
    ``None`` and booleans (``"password_set": true`` says nothing secret).
    """
    return value is not None and not isinstance(value, bool) and is_sensitive_name(name)


def is_sensitive_header(name: str) -> bool:
    """Whether a header called ``name`` holds a credential (a broader rule than for keys)."""
    lower = name.lower()
    if lower in _NOT_SECRET_HEADERS:
        return False
    if is_sensitive_name(name):
        return True
    return any(word.lower() in _HEADER_WORDS for word in _WORDS.findall(name))


def carries_secret(value: str) -> bool:
    """Whether ``value`` contains a registered secret (a ``Secret`` or an auth object's)."""
    pattern = _REGISTRY.pattern()
    return bool(value) and pattern is not None and pattern.search(value) is not None


def mask_text(text: str) -> str:
    """Replace every registered secret value in ``text``."""
    pattern = _REGISTRY.pattern()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def mask_header(name: str, value: str) -> str:
    """Mask one header value, keeping an auth scheme such as ``Bearer``."""
    if is_sensitive_header(name):
        lower = value.lower()
        for scheme in _SCHEMES:
            if lower.startswith(scheme):
                return value[: len(scheme)] + MASK
        return MASK
    return mask_text(value)


def mask_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    """Masked copies of ``(name, value)`` pairs."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(name, mask_header(name, value)) for name, value in items]


def mask_url(url: str) -> str:
    """Mask credentials in a URL: user info, sensitive query parameters, known secrets."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not even a URL (an unclosed IPv6 bracket): mask what looks like one
        return mask_text(_USERINFO.sub(r"\1***@", url))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_sensitive_name(k) for k, _ in pairs):
            query = urlencode([(k, MASK if is_sensitive_name(k) else v) for k, v in pairs])
            query = query.replace("%2A%2A%2A", MASK)
    return mask_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def _mask_json(value: Any) -> Any:
    """Sensitive keys masked at any depth, whatever their value (a list of passwords too).

    Iterative, so a deeply nested document cannot exhaust the stack.
    """
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        node = parent[key]
        if isinstance(node, dict):
            copy = dict(node)
            parent[key] = copy
            for k, v in copy.items():
                if masks_field(str(k), v):
                    copy[k] = MASK
                elif isinstance(v, dict | list):
                    stack.append((copy, k))
        elif isinstance(node, list):
            copy_list = list(node)
            parent[key] = copy_list
            stack.extend(
                (copy_list, i) for i, v in enumerate(copy_list) if isinstance(v, dict | list)
            )
    return root[0]


_MULTIPART_FIELD = re.compile(
    r'(Content-Disposition:[^\r\n]*\bname="(?P<name>[^"]*)"[^\r\n]*\r?\n'
    r"(?:[^\r\n]+\r?\n)*\r?\n)(?P<value>.*?)(?=\r?\n--)",
    re.IGNORECASE | re.DOTALL,
)


def _mask_multipart(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if not is_sensitive_name(match.group("name")):
            return match.group(0)
        return match.group(1) + MASK

    return _MULTIPART_FIELD.sub(replace, text)


def mask_body(text: str, content_type: str | None = None) -> str:
    """Mask credentials in a request or response body.

    JSON objects and form bodies have sensitive keys masked (the JSON is
    re-serialised only when something was masked); then registered secret
    values are replaced anywhere, which covers XML (WS-Security passwords)
    and free text.
    """
    ctype = (content_type or "").lower()
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):  # JSON whatever the declared type (text/plain too)
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            masked = _mask_json(parsed)
            if masked != parsed:
                try:
                    text = json.dumps(masked, ensure_ascii=False)
                except RecursionError:  # too deep to write back: show nothing of it
                    text = MASK
    elif stripped.startswith("<"):
        text = _XML_SECRET.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    elif "multipart/form-data" in ctype:
        text = _mask_multipart(text)
    elif "x-www-form-urlencoded" in ctype:
        pairs = parse_qsl(text, keep_blank_values=True)
        if any(is_sensitive_name(k) for k, _ in pairs):
            text = urlencode([(k, MASK if is_sensitive_name(k) else v) for k, v in pairs])
            text = text.replace("%2A%2A%2A", MASK)
    return mask_text(text)
