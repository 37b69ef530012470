"""Static renderings of exchanges and histories: text and HTML.

These are what a notebook shows where widgets cannot run (nbconvert, GitHub,
a static viewer), and what the ``repr`` fallbacks use. Everything is masked.
In a live kernel with the ``notebook`` extra, an Exchange displays as the
inspector widget instead (:func:`exchange_mimebundle`).
"""

from __future__ import annotations

import importlib.util
import json
from html import escape
from typing import TYPE_CHECKING, Any

from apinotebook._core.secrets import mask_body, mask_headers, mask_url
from apinotebook._core.views import widget_bundle
from apinotebook._core.xml import parse_xml

if TYPE_CHECKING:
    from apinotebook._exchange import Exchange
    from apinotebook._history import History

__all__ = ["exchange_html", "exchange_mimebundle", "history_html", "human_size", "pretty_body"]

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


def pretty_body(content: bytes, content_type: str, *, limit: int = _PREVIEW) -> str:
    """The body pretty-printed (JSON indented, XML indented), masked, truncated."""
    text = content[: limit * 4].decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped[:1] in "{[" and len(content) <= limit * 4:
        try:
            text = json.dumps(json.loads(content), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, or too deep to indent: as it is
            pass
    elif stripped.startswith("<") and "html" not in content_type and len(content) <= limit * 4:
        try:
            from lxml import etree

            root = parse_xml(content, remove_blank_text=True)
            text = etree.tostring(root, pretty_print=True, encoding="unicode")
        except Exception:  # noqa: BLE001 - a preview must never fail
            pass
    text = mask_body(text, content_type)
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
