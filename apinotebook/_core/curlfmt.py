"""Write a ``curl`` command for a request: a copy-pasteable POSIX shell line, secrets masked.

The one curl formatter: :meth:`Exchange.to_curl`, :func:`apinotebook.curl.to_curl`
and the widgets' *Copy as curl* all come here. It takes the request's parts, not
a model object, so the model can use it without an import cycle.
"""

from __future__ import annotations

import shlex

import httpx

from apinotebook._core.secrets import mask_body, mask_header, mask_url

__all__ = ["format_curl"]

#: Headers httpx (or curl) adds by itself: left out of generated commands.
_AUTOMATIC = frozenset({"host", "accept-encoding", "connection", "content-length"})
_WIDTH = 80


def _is_automatic(name: str, value: str, url: httpx.URL) -> bool:
    lower = name.lower()
    if lower == "host":
        return value == url.netloc.decode("ascii")
    if lower in _AUTOMATIC:
        return True
    if lower == "user-agent":
        return value.startswith(("apinotebook/", "python-httpx/"))
    return lower == "accept" and value == "*/*"


def _body_text(content: bytes) -> str | None:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def format_curl(
    method: str, url: str, headers: httpx.Headers, content: bytes, *, reveal_secrets: bool = False
) -> str:
    """The request as a ``curl`` command line for a POSIX shell.

    Long commands are split over lines with backslash continuations. Headers
    httpx adds by itself (``Host``, ``Accept-Encoding``, ``Connection``,
    ``Content-Length``, its ``User-Agent``, ``Accept: */*``) are left out;
    ``--json`` is not used, so older curls run the command too. Credentials
    are masked (``Bearer ***``) unless ``reveal_secrets=True``.
    """
    parsed = httpx.URL(url)
    text = _body_text(content) if content else ""
    head: list[str] = ["curl"]
    if method == "HEAD" and not content:
        head.append("-I")
    elif not (method == "GET" and not content or method == "POST" and content):
        head += ["-X", method]
    head.append(shlex.quote(url if reveal_secrets else mask_url(url)))
    options: list[str] = []
    ctype: str | None = None
    encoding = headers.encoding
    for raw_name, raw_value in headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode(encoding, "replace")
        if _is_automatic(name, value, parsed):
            continue
        if name.lower() == "content-type":
            ctype = value
        shown = value if reveal_secrets else mask_header(name, value)
        options.append(f"-H {shlex.quote(f'{name}: {shown}')}")
    comment = ""
    if content:
        if text is None:
            comment = (
                f"# the body is {len(content):,} bytes of binary data: curl reads it from "
                "standard input (append < body.bin)\n"
            )
            options.append("--data-binary @-")
        else:
            if ctype is None:
                options.append("-H 'Content-Type:'")  # curl would add a form type otherwise
            body = text if reveal_secrets else mask_body(text, ctype)
            options.append(f"--data-raw {shlex.quote(body)}")
    line = " ".join(head + options)
    if len(line) <= _WIDTH and "\n" not in line:
        return comment + line
    return comment + " \\\n  ".join([" ".join(head), *options])
