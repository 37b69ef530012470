"""The Inspector: one exchange in tabs (Body, Table, Headers, Request, Raw, Timing, Code).

The widget's synced state is small whatever the body's size: a status line,
the top-level children of the body's tree, the first page of the raw text
and the request. Everything else is asked for by the front end with a
message and answered from the parsed body, which stays in the kernel:

===========  ==============================================  =====================
request      fields                                          reply
===========  ==============================================  =====================
children     view, path, offset, limit                       path, offset, total, children
search       view, query, limit                              matches, complete, scanned
select       view, path                                      location, snippet, preview
table        offset, limit                                   columns, rows, total
raw          which (response, request), offset, limit        text, more
===========  ==============================================  =====================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import traitlets

from apinotebook._core.paths import AmbiguousRecords, find_records
from apinotebook._core.render import exchange_html, human_size
from apinotebook._core.secrets import (
    MASK,
    is_sensitive_header,
    mask_headers,
    mask_text,
    mask_url,
    masks_field,
)
from apinotebook._core.xml import parse_xml
from apinotebook._exchange import Exchange
from apinotebook.widgets._base import Widget, esm
from apinotebook.widgets._code import curl_code, python_code
from apinotebook.widgets._text import PAGE, TextCursor, body_cursor, masked_head
from apinotebook.widgets._tree import DEFAULT_LIMIT, JsonTree, TreePathError, XmlTree

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Inspector"]

TABS = ("Body", "Table", "Headers", "Request", "Raw", "Timing", "Code")
#: the request body's first page is smaller: it is rarely what one came to see
_REQUEST_PAGE = 16 * 1024
_TABLE_PAGE = 50
_CELL = 200


def _safe_xml(content: bytes) -> Any:
    """The document element, parsed without DTDs, entities or network; ``None`` if not XML."""
    from lxml import etree

    try:
        root = parse_xml(content, remove_blank_text=True)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if getattr(root.getroottree().docinfo, "doctype", ""):
        return None  # a DTD: refused, as the SOAP client does
    return root


def _looks_json(content: bytes, content_type: str) -> bool:
    return "json" in content_type or content.lstrip()[:1] in (b"{", b"[")


def _looks_xml(content: bytes, content_type: str) -> bool:
    return "html" not in content_type and content.lstrip()[:1] == b"<"


def _records(data: Any) -> int | None:
    """How many rows ``to_frame()`` would give, without building it (``None``: not tabular)."""
    try:
        value = find_records(data)[1]
    except AmbiguousRecords:
        return None
    if isinstance(value, Mapping) and isinstance(value.get("edges"), list):
        value = value["edges"]
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return len(value)
    return None


def _version(ex: Exchange) -> str:
    """The API version the request asked for and the answer named (``version=`` and the like)."""
    said = []
    for where, headers in (("sent", ex.request.headers), ("answered", ex.headers)):
        for name, value in headers.multi_items():
            if "version" in name.lower() and not is_sensitive_header(name):
                said.append(f"{name}: {mask_text(value)} ({where})")
    accept = str(ex.request.headers.get("accept", ""))
    if "version=" in accept:
        said.append(f"Accept: {accept} (sent)")
    return "; ".join(said)


def _conventions(ex: Exchange) -> dict[str, Any]:
    """Rate limit, API version and cache state for the status line."""
    limit = ex.rate_limit
    low = False
    if limit is not None and limit.remaining is not None:
        low = limit.exhausted or (bool(limit.limit) and limit.remaining < 0.1 * (limit.limit or 0))
    return {
        "rate_limit": str(limit) if limit is not None else "",
        "rate_limit_low": low,
        "api_version": _version(ex),
        "cache": str(ex.meta.get("cache") or ""),
    }


def _contract_state(exchange: Exchange) -> dict[str, Any]:
    """The last contract check's result (masked), or ``{}`` when it was not checked."""
    result = exchange.meta.get("contract_result")
    if result is None:
        return {}
    state: dict[str, Any] = result.to_dict()
    for violation in state["violations"]:
        violation["message"] = mask_text(str(violation["message"]))
    return state


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if masks_field(column.rpartition(".")[2], value):
        return MASK
    return masked_head(str(value), _CELL)


class Inspector(Widget):
    """An interactive view of one :class:`~apinotebook.Exchange`.

    Args:
        exchange: what to show.
        name: the variable the Python snippets read from (``ex.json()[...]``).
    """

    _esm = esm("inspector.js")

    summary = traitlets.Dict().tag(sync=True)
    tabs = traitlets.List(traitlets.Unicode()).tag(sync=True)
    trees = traitlets.List(traitlets.Dict()).tag(sync=True)
    body_note = traitlets.Unicode("").tag(sync=True)
    table = traitlets.Dict().tag(sync=True)
    headers = traitlets.List(traitlets.List()).tag(sync=True)
    request = traitlets.Dict().tag(sync=True)
    raw = traitlets.List(traitlets.Dict()).tag(sync=True)
    timing = traitlets.Dict().tag(sync=True)
    code = traitlets.Dict().tag(sync=True)
    variable = traitlets.Unicode("ex").tag(sync=True)
    #: the exchange's contract check, when it was checked (``ex.check_contract()``)
    contract = traitlets.Dict().tag(sync=True)

    def __init__(self, exchange: Exchange, /, *, name: str = "ex") -> None:
        if not isinstance(exchange, Exchange):
            from apinotebook._exceptions import ConfigError

            raise ConfigError(f"Inspector shows an Exchange, not {type(exchange).__name__}")
        self._exchange = exchange
        self._trees: dict[str, JsonTree | XmlTree] = {}
        self._cursors: dict[str, TextCursor] = {}
        self._frame: pd.DataFrame | None = None
        parsed, has_parsed, note = self._build_trees(name)
        super().__init__(
            summary=self._summary(),
            tabs=list(TABS),
            trees=[
                {"view": view, "kind": tree.kind, "label": label, "root": tree.root()}
                for view, (tree, label) in self._labelled().items()
            ],
            body_note=note,
            table=self._table_info(),
            headers=[list(p) for p in mask_headers(list(exchange.headers.multi_items()))],
            request=self._request_state(),
            raw=self._raw_state(parsed, has_parsed),
            timing=self._timing(),
            code={"curl": curl_code(exchange), "python": python_code(exchange, name=name)},
            variable=name,
            contract=_contract_state(exchange),
        )

    # -- building the first view ---------------------------------------------------------

    @property
    def exchange(self) -> Exchange:
        """The exchange shown."""
        return self._exchange

    def _labelled(self) -> dict[str, tuple[JsonTree | XmlTree, str]]:
        labels = {"json": "JSON", "xml": "XML", "data": "ex.data", "fault": "ex.fault"}
        return {view: (tree, labels.get(view, view)) for view, tree in self._trees.items()}

    def _build_trees(self, name: str) -> tuple[Any, bool, str]:
        """Parse the body into trees; return the parsed JSON (if any) and a note."""
        ex = self._exchange
        content, ctype = ex.content, ex.content_type
        parsed: Any = None
        has_parsed = False
        note = ""
        if not content.strip():
            note = (
                "The body is empty." if ex.status else f"No response: {mask_text(ex.error or '')}"
            )
        elif _looks_json(content, ctype) and not _looks_xml(content, ctype):
            try:
                parsed = ex.json()
            except Exception as exc:  # noqa: BLE001 - shown to the user instead of a tree
                note = mask_text(str(exc))
            else:
                has_parsed = True
                self._trees["json"] = JsonTree(parsed, protocol=ex.protocol, name=name)
        elif _looks_xml(content, ctype):
            root = _safe_xml(content)
            if root is None:
                note = "The body is not well-formed XML (or declares a DTD); see Raw."
            else:
                self._trees["xml"] = XmlTree(root, name=name)
        else:
            note = f"A {ctype or 'untyped'} body of {human_size(len(content))}; the text is below."
        if ex.protocol == "soap":
            if ex.fault is not None:
                self._trees["fault"] = JsonTree(ex.fault, protocol="soap", view="fault", name=name)
            else:
                try:
                    data = ex.data
                except Exception:  # noqa: BLE001 - undecodable: the XML tree still shows it
                    data = None
                if isinstance(data, Mapping | list):
                    self._trees["data"] = JsonTree(data, protocol="soap", view="data", name=name)
        return parsed, has_parsed, note

    def _summary(self) -> dict[str, Any]:
        ex = self._exchange
        fault = ex.fault
        try:
            graphql_errors = len(ex.errors)
        except Exception:  # noqa: BLE001 - a summary must not fail
            graphql_errors = 0
        return {
            "status": ex.status,
            "reason": ex.reason,
            "ok": ex.ok,
            "protocol": ex.protocol,
            "method": ex.method,
            "url": mask_url(ex.url),
            "operation": ex.operation or "",
            "elapsed_ms": round(ex.elapsed * 1000, 3),
            "size": ex.size,
            "content_type": ex.content_type,
            "retries": ex.retries,
            "error": mask_text(ex.error or ""),
            "fault": mask_text(f"{fault.get('code')}: {fault.get('message')}") if fault else "",
            "graphql_errors": graphql_errors,
            "started_at": ex.started_at.isoformat(),
            **_conventions(ex),
        }

    def _table_info(self) -> dict[str, Any]:
        try:
            rows = _records(self._exchange.data) if self._exchange.content else None
        except Exception:  # noqa: BLE001 - undecodable bodies are simply not tabular
            rows = None
        if rows is None:
            return {"available": False, "rows": None,
                    "note": "The body has no list of records to show as a table."}  # fmt: skip
        return {"available": True, "rows": rows, "note": ""}

    def _request_state(self) -> dict[str, Any]:
        request = self._exchange.request
        ctype = str(request.headers.get("content-type", ""))
        cursor = body_cursor(request.content, ctype)
        self._cursors["request"] = cursor
        return {
            "method": request.method,
            "url": mask_url(request.url),
            "headers": [list(p) for p in mask_headers(list(request.headers.multi_items()))],
            "body": {"which": "request", **cursor.read(0, _REQUEST_PAGE)}
            if request.content
            else {},
        }

    def _raw_state(self, parsed: Any, has_parsed: bool) -> list[dict[str, Any]]:
        ex = self._exchange
        entries: list[dict[str, Any]] = []
        if ex.content:
            cursor = body_cursor(ex.content, ex.content_type, parsed=parsed, has_parsed=has_parsed)
            self._cursors["response"] = cursor
            label = "Response envelope" if ex.protocol == "soap" else "Response body"
            entries.append({"which": "response", "label": label, **cursor.read(0, PAGE)})
        if ex.protocol == "soap" and ex.request.content:
            page = self._cursors["request"].read(0, _REQUEST_PAGE)
            entries.append({"which": "request", "label": "Request envelope", **page})
        return entries

    def _timing(self) -> dict[str, Any]:
        ex = self._exchange
        return {
            "started_at": ex.started_at.isoformat(),
            "elapsed_ms": round(ex.elapsed * 1000, 3),
            "attempts": [
                {
                    "number": a.number,
                    "status": a.status,
                    "error": mask_text(a.error) if a.error else None,
                    "elapsed": a.elapsed,
                    "wait": a.wait,
                }
                for a in ex.attempts
            ],
        }

    # -- requests from the front end -----------------------------------------------------

    def _tree(self, content: Mapping[str, Any]) -> JsonTree | XmlTree:
        view = content.get("view") or next(iter(self._trees), "")
        tree = self._trees.get(str(view))
        if tree is None:
            valid = ", ".join(self._trees) or "none (the body has no tree)"
            raise TreePathError(f"no tree view {view!r}; valid: {valid}")
        return tree

    def msg_children(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """A page of a node's children."""
        tree = self._tree(content)
        return tree.children(
            content.get("path") or [],
            offset=content.get("offset", 0),
            limit=content.get("limit", DEFAULT_LIMIT),
        )

    def msg_search(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Matching paths (bounded)."""
        return self._tree(content).search(str(content.get("query", "")),
                                          limit=int(content.get("limit", 200)))  # fmt: skip

    def msg_select(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The path, snippet and preview of one node."""
        return self._tree(content).detail(content.get("path") or [])

    def msg_raw(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """A page of the raw (pretty, masked) response or request body."""
        which = str(content.get("which", "response"))
        cursor = self._cursors.get(which)
        if cursor is None:
            raise TreePathError(f"no {which} body to read; valid: {', '.join(self._cursors)}")
        return {"which": which, **cursor.read(int(content.get("offset", 0)),
                                              int(content.get("limit", PAGE)))}  # fmt: skip

    def msg_table(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """A page of ``exchange.to_frame()`` as strings (masked)."""
        offset = max(0, int(content.get("offset", 0)))
        limit = max(1, min(int(content.get("limit", _TABLE_PAGE)), 500))
        if self._frame is None:
            self._frame = self._exchange.to_frame()
        frame = self._frame
        columns = [str(c) for c in frame.columns]
        page = frame.iloc[offset : offset + limit]
        rows = [[_cell(col, value) for col, value in zip(columns, row, strict=True)]
                for row in page.itertuples(index=False, name=None)]  # fmt: skip
        return {"offset": offset, "total": len(frame), "columns": columns, "rows": rows,
                "expression": f"{self.variable}.to_frame()"}  # fmt: skip

    # -- fallbacks -----------------------------------------------------------------------

    def _text_fallback(self) -> str:
        return f"<Inspector {self._exchange.summary()}>"

    def _html_fallback(self) -> str:
        return exchange_html(self._exchange)

    def close(self) -> None:
        """Close the widget and drop the parsed body."""
        for attr in ("_trees", "_cursors"):
            held = self.__dict__.get(attr)
            if held is not None:
                held.clear()
        self._frame = None
        super().close()
