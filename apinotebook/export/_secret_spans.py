"""Where in a string a literal credential sits, as spans, for the data-flow scan.

The strings here may be only partly known: :mod:`._dataflow` builds them from
the notebook's literals and writes :data:`UNKNOWN` for every character that
comes from somewhere else (an environment variable, a function argument, a
call). A span is reported only over known characters, so
``"Bearer " + os.environ["T"]`` is fine and ``"Bearer " + "abcd1234"`` is not.

The rules, by context:

- a credential position (``Bearer(x)``, ``Basic(u, x)``, a ``token=`` keyword,
  an ``Authorization`` header): after an optional scheme word, a fully known
  value that is not a placeholder; a partly known one only where a known run
  looks like a credential or a token;
- any string that is used (an argument, an assigned value, a dict value): a
  scheme word followed by a credential, a password in a URL, a credential-named
  query or form field (``?api_key=...``, ``password=...&...``), a ``name:
  "value"`` pair with a credential name (GraphQL arguments, JSON text), a
  token-shaped run;
- free text (comments, docstrings, a markdown line copied into the script):
  known token shapes, ``Bearer <something with digits>``, a password in a URL,
  ``password: xyz1`` / ``api_key=xyz1`` with letters and digits.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from apinotebook.export._secrets_scan import (
    cookie_problem,
    is_placeholder,
    looks_like_credential,
    looks_like_token,
    secret_strength,
)

__all__ = [
    "UNKNOWN",
    "Span",
    "basic_pair_spans",
    "cookie_spans",
    "credential_spans",
    "curl_spans",
    "string_spans",
    "text_spans",
]

#: stands for one character the scan does not know (it is never in a literal it reports)
UNKNOWN = "\x00"

_SCHEME = re.compile(r"(?i)^\s*(bearer|basic|token|apikey|api-key|digest)\s+")
_USERINFO = re.compile(r"://([^/@\s:?#]*):([^/@\s?#]+)@")
_QUERY = re.compile(r"(?:^|[?&;])([A-Za-z0-9_.\-\[\]]+)=([^&#\s;]*)")
_FORM = re.compile(r"^[\w.\-\[\]]+=[^&\s]*(&[\w.\-\[\]]+=[^&\s]*)+$|^[\w.\-\[\]]+=[^&\s=]+$")
_PAIR = re.compile(r"""(?:"|\b)([A-Za-z_][\w-]*)"?\s*:\s*"([^"\\\x00]*)\"""")
_TEXT_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{6,})")
_TEXT_PAIR = re.compile(r"""\b([A-Za-z_][\w-]*)["']?\s*[:=]\s*["']?([^\s"',;)`]{6,})""")
_WORDS = re.compile(r"[^\s\"'`<>()\[\]{},;]{20,}")


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of a string hold a credential, for ``reason``."""

    start: int
    end: int
    reason: str


def _runs(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The maximal known runs of ``text[start:end]``, as index pairs."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    for match in re.finditer(r"[^\x00]+", text[start:end]):
        out.append((start + match.start(), start + match.end()))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _placeholder(value: str) -> bool:
    return is_placeholder(value) or "{{" in value or value.startswith(("$", "%(", "{"))


def _partial(text: str, start: int, end: int, reason: str) -> list[Span]:
    """Spans of known runs inside a partly known value that look like credentials."""
    out = []
    for a, b in _runs(text, start, end):
        run = text[a:b].strip(" :=-_/.")
        if looks_like_token(run) or (looks_like_credential(run) and not _placeholder(run)):
            out.append(Span(a, b, reason))
    return out


def _value(text: str, start: int, end: int, reason: str, *, weak: bool = False) -> list[Span]:
    """A credential value at ``text[start:end]``: known and real, or a token-shaped run."""
    start, end = _trim(text, start, end)
    value = text[start:end]
    if not value:
        return []
    if UNKNOWN in value:
        return _partial(text, start, end, reason)
    if _placeholder(value) or "://" in value:
        return []
    if weak and not looks_like_credential(value):
        return []
    return [Span(start, end, reason)] if len(value) >= 4 else []


def credential_spans(text: str, what: str, *, weak: bool = False) -> list[Span]:
    """The credential in a value that goes to ``what`` (an auth object, a header...)."""
    scheme = _SCHEME.match(text)
    start = scheme.end() if scheme else 0
    return _value(text, start, len(text), f"a literal credential reaches {what}", weak=weak)


def cookie_spans(text: str) -> list[Span]:
    """Literal session values in a ``Cookie`` header."""
    out = []
    for match in re.finditer(r"([^;=\s]+)=([^;]*)", text):
        value = match.group(2)
        if UNKNOWN in value:
            out += _partial(text, match.start(2), match.end(2), "a literal cookie")
        elif cookie_problem(match.group(0)):
            out.append(Span(match.start(2), match.end(2), f"a literal cookie {match.group(1)!r}"))
    return out


def basic_pair_spans(text: str) -> list[Span]:
    """The password of a ``user:password`` pair (what Basic auth encodes with base64)."""
    user, colon, _ = text.partition(":")
    if not colon:
        return []
    start = len(user) + 1
    return _value(text, start, len(text), "a user:password pair encoded with base64")


def string_spans(text: str) -> list[Span]:
    """Credentials inside a string that the code uses, wherever it goes."""
    out: list[Span] = []
    scheme = _SCHEME.match(text)
    rest = text[scheme.end() :].strip() if scheme else ""
    if scheme and " " not in rest and not re.match(r"\w+=\"", rest):  # not realm="..."
        out += _value(text, scheme.end(), len(text), f"a literal {scheme.group(1).title()} value")
    for match in _USERINFO.finditer(text):
        out += _value(text, match.start(2), match.end(2), "a password in a URL")
    query = "?" in text and not any(c.isspace() for c in text)
    if query or _FORM.match(text):
        single = not query and "&" not in text  # "k=v" alone: only a credential-shaped value
        for match in _QUERY.finditer(text):
            if secret_strength(match.group(1)) == "strong" and match.group(2):
                reason = f"a literal {match.group(1)!r} in a query string or form"
                out += _value(text, match.start(2), match.end(2), reason, weak=single)
    for match in _PAIR.finditer(text):
        if secret_strength(match.group(1)) == "strong":
            reason = f"a literal {match.group(1)!r} argument or field"
            out += _value(text, match.start(2), match.end(2), reason)
    if "://" not in text:
        for a, b in _runs(text):
            if looks_like_token(text[a:b]):
                out.append(Span(a, b, "a string that looks like an API token or key"))
    return out


def text_spans(text: str) -> list[Span]:
    """Credentials in free text: a comment, a docstring, a markdown line."""
    out: list[Span] = []
    for match in _WORDS.finditer(text):
        word = match.group().strip(".:")
        if "://" not in word and looks_like_token(word):
            out.append(Span(match.start(), match.end(), "a token-shaped string"))
    for match in _TEXT_SCHEME.finditer(text):
        value = match.group(2)
        if any(c.isdigit() for c in value) and not _placeholder(value):
            out.append(Span(match.start(2), match.end(2), f"a {match.group(1).title()} credential"))
    for match in _USERINFO.finditer(text):
        out += _value(text, match.start(2), match.end(2), "a password in a URL")
    for start in re.finditer(r"\b[A-Za-z_]", text):  # every start: "Notes: password=x" too
        pair = _TEXT_PAIR.match(text, start.start())
        if pair is None:
            continue
        value = pair.group(2).rstrip(".")
        if secret_strength(pair.group(1)) != "strong" or _placeholder(value) or "://" in value:
            continue
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            reason = f"a literal {pair.group(1)!r}"
            out.append(Span(pair.start(2), pair.start(2) + len(value), reason))
    return out


def _header_spans(text: str, start: int, header: str) -> list[Span]:
    name, colon, _ = header.partition(":")
    if not colon:
        return []
    at = start + len(name) + 1
    if name.strip().lower() == "cookie":
        return [Span(at + s.start, at + s.end, s.reason) for s in cookie_spans(text[at:])]
    strength = secret_strength(name.strip())
    if strength is None:
        return []
    end = start + len(header)
    scheme = _SCHEME.match(text[at:end])
    at += scheme.end() if scheme else 0
    return _value(text, at, end, f"a literal {name.strip()} header", weak=strength == "weak")


def curl_spans(text: str) -> list[Span]:
    """Credentials in a curl command: ``-H 'Authorization: ...'``, ``-u user:pass``, URLs."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    out: list[Span] = []
    cursor = 0
    for i, word in enumerate(words):
        at = text.find(word, cursor)
        if at < 0:
            continue
        cursor = at + len(word)
        option = words[i - 1] if i else ""
        if option in ("-H", "--header"):
            out += _header_spans(text, at, word)
        elif option in ("-u", "--user"):
            user, colon, _ = word.partition(":")
            if colon:
                out += _value(text, at + len(user) + 1, cursor, "a literal password in -u")
        elif option in ("-b", "--cookie"):
            out += [Span(at + s.start, at + s.end, s.reason) for s in cookie_spans(word)]
        elif option.startswith(("-d", "--data")) or "://" in word or "?" in word:
            out += [Span(at + s.start, at + s.end, s.reason) for s in string_spans(word)]
    return out
