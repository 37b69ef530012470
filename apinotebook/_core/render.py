"""Static renderings of exchanges and histories: text and HTML.

These are what a notebook shows where widgets cannot run (nbconvert, GitHub,
a static viewer), and what the ``repr`` fallbacks use. Everything is masked.
In a live kernel with the ``notebook`` extra, an Exchange displays as the
inspector widget instead (:func:`exchange_mimebundle`).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from apinotebook._core.secrets import (
    MASK,
    mask_body,
    mask_headers,
    mask_text,
    mask_url,
    masks_field,
)
from apinotebook._core.views import widget_bundle
from apinotebook._core.xml import parse_xml

if TYPE_CHECKING:
    from apinotebook._exchange import Exchange
    from apinotebook._history import History

__all__ = [
    "exchange_html",
    "exchange_mimebundle",
    "history_html",
    "human_size",
    "iter_pretty_json",
    "pretty_body",
    "pretty_json",
]

_PREVIEW = 20_000
_STYLE = (
    "font-family:var(--jp-code-font-family,monospace);font-size:12px;"
    "border:1px solid #ddd;border-radius:4px;padding:6px;max-height:320px;overflow:auto"
)


def _status_color(status: int, ok: bool) -> str:
    if status == 0 or status >= 500:
        return "#b00020"
    if status >= 400 or not ok:
        return "#c75000"
    return "#1b7f3b"


def _scalar_json(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(mask_text(value), ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, bytes | bytearray):
        return json.dumps(f"<{len(value)} bytes>")
    isoformat = getattr(value, "isoformat", None)
    text = isoformat() if callable(isoformat) else str(value)
    return json.dumps(mask_text(str(text)), ensure_ascii=False)


def iter_pretty_json(value: Any, *, indent: int = 2) -> Iterator[str]:
    """Indented JSON for ``value``, masked, as a stream of small strings."""
    # an explicit stack instead of recursion: (iterator over items, is_mapping, depth)
    if not isinstance(value, Mapping | list | tuple):
        yield _scalar_json(value)
        return
    stack: list[tuple[Iterator[Any], bool, int, list[bool]]] = []

    def opening(container: Any, depth: int) -> str:
        is_map = isinstance(container, Mapping)
        if not container:
            return "{}" if is_map else "[]"
        items = iter(container.items()) if is_map else iter(container)
        stack.append((items, is_map, depth, [True]))
        return "{" if is_map else "["

    yield opening(value, 0)
    while stack:
        items, is_map, depth, first = stack[-1]
        pad = "\n" + " " * (indent * (depth + 1))
        item: Any = next(items, _END)
        if item is _END:
            stack.pop()
            yield "\n" + " " * (indent * depth) + ("}" if is_map else "]")
            continue
        prefix = pad if first[0] else "," + pad
        first[0] = False
        if is_map:
            key, child = item
            head = prefix + json.dumps(mask_text(str(key)), ensure_ascii=False) + ": "
            if masks_field(str(key), child):
                yield head + json.dumps(MASK)
                continue
        else:
            child = item
            head = prefix
        if isinstance(child, Mapping | list | tuple):
            yield head + opening(child, depth + 1)
        else:
            yield head + _scalar_json(child)


_END = object()


def pretty_json(value: Any, *, limit: int) -> str:
    """At most ``limit`` characters of masked, indented JSON for ``value``."""
    parts: list[str] = []
    size = 0
    for part in iter_pretty_json(value):
        parts.append(part)
        size += len(part)
        if size > limit:
            return "".join(parts)[:limit] + "\n…"
    return "".join(parts)


def pretty_body(content: bytes, content_type: str, *, limit: int = _PREVIEW) -> str:
    """The body pretty-printed (JSON indented, XML indented), masked, truncated.

    JSON goes through :func:`iter_pretty_json`, as in the inspector's Raw tab,
    so the static card and the widget show the same text.
    """
    text = None
    stripped = content[:64].lstrip()
    small = len(content) <= limit * 4
    if stripped[:1] in (b"{", b"[") and small:
        try:
            value = json.loads(content)
        except (ValueError, RecursionError):  # not JSON, or too deep to parse: as it is
            pass
        else:
            text = pretty_json(value, limit=limit + 1)  # masked as it is written
    elif stripped[:1] == b"<" and "html" not in content_type and small:
        try:
            from lxml import etree

            root = parse_xml(content, remove_blank_text=True)
            pretty = etree.tostring(root, pretty_print=True, encoding="unicode")
            text = mask_body(pretty, content_type)
        except Exception:  # noqa: BLE001 - a preview must never fail
            pass
    if text is None:
        text = mask_body(content[: limit * 4].decode("utf-8", errors="replace"), content_type)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({human_size(len(content))} in all; see .content)"
    return text


def exchange_html(ex: Exchange) -> str:
    """A compact HTML card for one exchange."""
    color = _status_color(ex.status, ex.ok)
    status = (
        f"{ex.status} {escape(ex.reason)}" if ex.status else f"failed: {escape(ex.error or '')}"
    )
    op = f" <b>{escape(ex.operation)}</b>" if ex.operation else ""
    retries = f" · {ex.retries} retries" if ex.retries else ""
    req_headers = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
        for k, v in mask_headers(list(ex.request.headers.multi_items()))
    )
    resp_headers = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
        for k, v in mask_headers(list(ex.headers.multi_items()))
    )
    body = escape(pretty_body(ex.content, ex.content_type))
    req_body = ""
    if ex.request.content:
        req_body = (
            "<details><summary>Request body</summary>"
            f"<pre style='{_STYLE}'>"
            f"{escape(pretty_body(ex.request.content, ex.request.headers.get('content-type', '')))}"
            "</pre></details>"
        )
    return (
        "<div class='apinotebook-exchange'>"
        f"<div><span style='color:{color};font-weight:bold'>{status}</span> · "
        f"{escape(ex.protocol)} · {escape(ex.method)}{op} "
        f"<code>{escape(mask_url(ex.url))}</code> · {ex.elapsed * 1000:.1f} ms · "
        f"{human_size(ex.size)}{retries}</div>"
        f"<details open><summary>Body</summary><pre style='{_STYLE}'>{body}</pre></details>"
        f"<details><summary>Response headers</summary><table>{resp_headers}</table></details>"
        f"<details><summary>Request headers</summary><table>{req_headers}</table></details>"
        f"{req_body}</div>"
    )


def history_html(history: History, *, last: int = 50) -> str:
    """An HTML table of the most recent exchanges."""
    items = history[-last:]
    rows = "".join(
        "<tr>"
        f"<td>{i}</td><td>{escape(ex.protocol)}</td><td>{escape(ex.method)}</td>"
        f"<td>{escape(ex.operation or '')}</td><td><code>{escape(mask_url(ex.url))}</code></td>"
        f"<td style='color:{_status_color(ex.status, ex.ok)}'>{ex.status or 'failed'}</td>"
        f"<td>{ex.elapsed * 1000:.1f} ms</td><td>{human_size(ex.size)}</td>"
        "</tr>"
        for i, ex in enumerate(items, start=max(0, len(history) - len(items)))
    )
    return (
        f"<div class='apinotebook-history'><div>{len(history)} exchanges "
        f"(keeping {history.maxlen})</div><table><thead><tr><th>#</th><th>protocol</th>"
        "<th>method</th><th>operation</th><th>url</th><th>status</th><th>time</th>"
        f"<th>size</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def exchange_mimebundle(ex: Exchange) -> dict[str, Any]:
    """The inspector widget in a live kernel; text and HTML anywhere else."""
    bundle: dict[str, Any] = {"text/plain": repr(ex), "text/html": exchange_html(ex)}
    if importlib.util.find_spec("anywidget") is not None:
        bundle.update(widget_bundle(ex))
    return bundle


def human_size(n: int) -> str:
    """``1234567`` -> ``"1.2 MB"``."""
    if n < 1000:
        return f"{n} B"
    size = float(n)
    for unit in ("kB", "MB", "GB"):
        size /= 1000
        if size < 1000:
            return f"{size:.1f} {unit}"
    return f"{size / 1000:.1f} TB"
