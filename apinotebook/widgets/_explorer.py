"""What the three explorers share: a panel, an Inspector below it, and form helpers.

:class:`Explorer` is an ``ipywidgets.VBox`` holding the explorer's own
anywidget panel (the form, tree or editor) and, once a request was sent, an
:class:`~apinotebook.widgets.Inspector` of its exchange under it, like
:class:`~apinotebook.widgets.HistoryView` shows one under its table. The
panel calls :meth:`Explorer.show` with each exchange it produces.

The helpers turn what a form holds (text) into Python values with messages
that say what to fix, and write masked Python call code for *Copy as code*.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

import ipywidgets

from apinotebook._core.render import exchange_html
from apinotebook._core.secrets import MASK, is_sensitive_name, mask_text, masks_field
from apinotebook._exceptions import ConfigError, ResponseError
from apinotebook._exchange import Exchange
from apinotebook.widgets._base import FallbackMixin, Widget, _static, css
from apinotebook.widgets._code import _env_name, _mask_value
from apinotebook.widgets._inspector import Inspector
from apinotebook.widgets._snippets import py_str

__all__ = [
    "Explorer",
    "call_code",
    "coerce_scalar",
    "dict_code",
    "env_value",
    "explorer_css",
    "exchange_reply",
    "keyword_args",
    "pairs_code",
    "parse_json",
    "py_literal",
    "run_call",
    "value_code",
]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
#: the longest call that stays on one line in *Copy as code*
_ONE_LINE = 88


def explorer_css() -> str:
    """The shared stylesheet plus the explorers' own (``static/explorers.css``)."""
    return css() + "\n" + _static("explorers.css")


# -- values from a form ----------------------------------------------------------------


def parse_json(text: str, *, what: str) -> Any:
    """``text`` as JSON; ``None`` when it is blank.

    Raises:
        ConfigError: not JSON; the message says where (line and column).
    """
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Fix it (or empty it) and try again."
        ) from None


def coerce_scalar(text: str, kind: str | None, *, label: str) -> Any:
    """A form's text as the Python value for a schema type.

    ``kind`` is a JSON-schema type (``integer``, ``number``, ``boolean``,
    ``string``, ``array``, ``object``) or an XSD built-in (``int``, ``long``,
    ``decimal``, ``double``, ``boolean``, ...); anything else stays text.

    Raises:
        ConfigError: the text does not read as that type; the message names ``label``.
    """
    value = text.strip()
    lowered = (kind or "").lower()
    if lowered in ("integer", "int", "long", "short", "byte", "unsignedint", "unsignedlong",
                   "unsignedshort", "nonnegativeinteger", "positiveinteger",
                   "negativeinteger", "nonpositiveinteger"):  # fmt: skip
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{label} must be a whole number; got {text!r}") from None
    if lowered in ("number", "float", "double"):
        try:
            if lowered == "number" and value.lstrip("+-").isdigit():
                return int(value)
            return float(value)
        except ValueError:
            raise ConfigError(f"{label} must be a number; got {text!r}") from None
    if lowered == "decimal":
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ConfigError(f"{label} must be a decimal number; got {text!r}") from None
    if lowered == "boolean":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{label} must be true or false; got {text!r}")
    if lowered in ("array", "object"):
        parsed = parse_json(value, what=label)
        expected = list if lowered == "array" else dict
        if not isinstance(parsed, expected):
            raise ConfigError(f"{label} must be a JSON {lowered}; got {text!r}")
        return parsed
    return text


# -- code ------------------------------------------------------------------------------


def env_value(name: str) -> str:
    """``os.environ["NAME"]`` for a credential the code must not contain."""
    return f'os.environ["{_env_name(name)}"]'


def call_code(target: str, args: Sequence[str], *, result: str = "ex") -> str:
    """``ex = target(arg, ...)``: one line when short, one argument a line otherwise."""
    one = f"{result} = {target}({', '.join(args)})"
    if len(one) <= _ONE_LINE and "\n" not in one:
        code = one
    else:
        inner = "".join(f"    {arg},\n" for arg in args)
        code = f"{result} = {target}(\n{inner})"
    if "os.environ[" in code:
        code = "import os\n\n" + code
    return mask_text(code)


def py_literal(value: Any, *, indent: int = 0) -> str:
    """``value`` as Python source: double-quoted strings, one item a line when long."""
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, Decimal):
        return py_str(str(value))
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, Mapping):
        items = [
            f"{py_literal(str(k))}: {py_literal(v, indent=indent + 4)}" for k, v in value.items()
        ]
        opening, closing = "{", "}"
    elif isinstance(value, list | tuple):
        items = [py_literal(v, indent=indent + 4) for v in value]
        opening, closing = "[", "]"
    else:
        return py_str(str(value))
    flat = opening + ", ".join(items) + closing
    if len(flat) + indent <= _ONE_LINE - 8 and "\n" not in flat:
        return flat
    pad = " " * (indent + 4)
    return opening + "\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + closing


def value_code(value: Any, *, indent: int = 0) -> str:
    """A Python literal for ``value`` with credential fields masked."""
    return py_literal(_mask_value(value), indent=indent)


def _field_code(key: str, value: Any) -> str:
    """A credential read from the environment (a list or object of them: masked), else the value."""
    if not masks_field(key, value):
        return value_code(value, indent=4)
    return env_value(key) if isinstance(value, str | int) else value_code(MASK)


def keyword_args(values: Mapping[str, Any]) -> list[str]:
    """``name=value`` for each item: credentials from the environment, the rest masked."""
    return [f"{key}={_field_code(key, value)}" for key, value in values.items()]


def dict_code(values: Mapping[str, Any]) -> str:
    """A dict literal whose credential values come from the environment."""
    items = [f"{py_str(str(k))}: {_field_code(str(k), v)}" for k, v in values.items()]
    return "{" + ", ".join(items) + "}"


def pairs_code(pairs: Sequence[tuple[str, Any]]) -> str:
    """A dict literal for ``pairs``, or a list of tuples when a name repeats."""
    if len({name for name, _ in pairs}) == len(pairs):
        return dict_code(dict(pairs))
    items = [
        f"({py_str(k)}, {env_value(k) if is_sensitive_name(k) else value_code(v)})"
        for k, v in pairs
    ]
    return "[" + ", ".join(items) + "]"


# -- the explorer and its inspector ----------------------------------------------------


def exchange_reply(exchange: Exchange, *, error: str = "") -> dict[str, Any]:
    """What the front end hears after a call: the outcome in a few fields (masked)."""
    fault = exchange.fault
    return {
        "status": exchange.status,
        "ok": exchange.ok,
        "summary": exchange.summary(),
        "fault": mask_text(f"{fault.get('code')}: {fault.get('message')}") if fault else "",
        "error": mask_text(error),
    }


def run_call(call: Callable[[], Exchange], show: Callable[[Exchange], None]) -> dict[str, Any]:
    """Run ``call``; show its exchange (also a Fault's or a 4xx's) and describe the outcome.

    Errors without an exchange (bad arguments, no connection) propagate: the
    widget turns them into an ``error`` reply.
    """
    try:
        exchange = call()
    except ResponseError as exc:
        if exc.exchange is None:
            raise
        show(exc.exchange)
        return exchange_reply(exc.exchange, error=str(exc))
    show(exchange)
    return exchange_reply(exchange)


class Explorer(FallbackMixin, ipywidgets.VBox):  # type: ignore[misc]
    """An explorer's panel with an Inspector of the last exchange below it.

    Subclasses build ``panel`` (a :class:`~apinotebook.widgets.Widget`) and
    pass it here; the panel calls :meth:`show` after each call.
    """

    def __init__(self, panel: Widget, /, *, result_name: str = "ex") -> None:
        self.panel = panel
        self.output = ipywidgets.Box()
        self._inspector: Inspector | None = None
        self._exchange: Exchange | None = None
        self._result_name = result_name
        self._sent = 0
        super().__init__(children=[panel, self.output])

    @property
    def exchange(self) -> Exchange | None:
        """The exchange of the last *Send*/*Run* (``None`` before the first)."""
        return self._exchange

    def show(self, exchange: Exchange) -> None:
        """Show ``exchange`` in an Inspector below the panel (closing the previous one)."""
        inspector = Inspector(exchange, name=self._result_name)
        old, self._inspector = self._inspector, inspector
        self._exchange = exchange
        self._sent += 1
        self.output.children = [inspector]
        if old is not None:
            old.close()

    def handle_message(self, content: Any) -> dict[str, Any] | None:
        """Answer a front-end message as the panel does (for tests and scripting)."""
        return self.panel.handle_message(content)

    def close(self) -> None:
        """Close the panel and the inspector."""
        inspector = self.__dict__.get("_inspector")
        if inspector is not None:
            inspector.close()
            self._inspector = None
        for part in ("panel", "output"):
            widget = self.__dict__.get(part)
            if widget is not None:
                widget.close()
        super().close()

    def _panel_html(self) -> str:
        """The static HTML of the explorer itself (override)."""
        return f"<pre>{escape(self._text_fallback())}</pre>"

    def _html_fallback(self) -> str:
        html = self._panel_html()
        if self._exchange is not None:
            html += "<div><b>Last call</b></div>" + exchange_html(self._exchange)
        return html
