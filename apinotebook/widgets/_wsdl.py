"""WsdlExplorer: a SOAP service's operations, a form per operation, a live envelope, Run.

>>> WsdlExplorer(billing)         # doctest: +SKIP
>>> billing.explore()             # doctest: +SKIP

The left side lists services → ports → operations with their documentation.
Picking an operation shows its signature and a form generated from its input
types: nested types as fieldsets, optional elements behind an *include*
checkbox, repeated ones with *add*/*remove*, enumerations as selects and a
choice as a select of its alternatives. While you type, the kernel builds
the request envelope (``client.build_envelope``, debounced, secrets masked)
and the preview shows it, or what is wrong with the arguments. *Run* calls
the operation and shows an :class:`~apinotebook.widgets.Inspector` with both
envelopes; a Fault shows there too.

Big WSDLs stay responsive: the synced state holds the operation names and
the first line of their documentation; each form is sent when it is picked.

==========  ==============================  ==================================
request     fields                          reply
==========  ==============================  ==================================
operation   service, port, name             form (signature, docs, input tree)
preview     service, port, name, values     envelope, problem
run         service, port, name, values     status, ok, summary, fault, error
code        service, port, name, values     code
==========  ==============================  ==================================
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import traitlets

from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._exceptions import ConfigError
from apinotebook._exchange import Exchange
from apinotebook.widgets._base import Widget, esm
from apinotebook.widgets._explorer import (
    Explorer,
    call_code,
    coerce_scalar,
    explorer_css,
    keyword_args,
    run_call,
    value_code,
)
from apinotebook.widgets._snippets import py_str

if TYPE_CHECKING:
    from apinotebook.soap import SoapClient, SoapOperation, SoapParam

__all__ = ["WsdlExplorer", "WsdlPanel", "coerce_arguments", "param_form"]

_DOC_SHORT = 160
_DOC_LIMIT = 4_000


def _short(text: str | None, limit: int = _DOC_SHORT) -> str:
    text = mask_text((text or "").strip())
    first = text.split("\n", 1)[0]
    return first if len(first) <= limit else first[:limit] + "…"


def param_form(param: SoapParam) -> dict[str, Any]:
    """One parameter (and its children) as the form builds it."""
    return {
        "name": param.name,
        "kind": param.kind,
        "type": param.type_name,
        "base": param.base_type,
        "optional": param.optional,
        "repeated": param.repeated,
        "enum": list(param.enum),
        "default": param.default,
        "children": [param_form(c) for c in param.children],
    }


def operation_form(op: SoapOperation) -> dict[str, Any]:
    """What the form needs for one operation (masked, bounded)."""
    output = op.output.describe() if op.output is not None else "(nothing)"
    return {
        "name": op.name,
        "signature": op.signature(),
        "documentation": mask_text((op.documentation or "")[:_DOC_LIMIT]),
        "soap_action": op.soap_action or "",
        "soap_version": op.soap_version,
        "style": op.style,
        "input": [param_form(p) for p in op.input],
        "output": output[:_DOC_LIMIT],
    }


def _coerce(param: SoapParam, value: Any, label: str) -> Any:
    if param.repeated:
        items = value if isinstance(value, list) else [value]
        return [_single(param, item, f"{label}[{i}]") for i, item in enumerate(items)]
    return _single(param, value, label)


def _single(param: SoapParam, value: Any, label: str) -> Any:
    if param.children:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{label} is a {param.type_name}: give its fields as a dict")
        return coerce_arguments(param.children, value, prefix=f"{label}.")
    if isinstance(value, str):
        if param.enum and value and value not in param.enum:
            raise ConfigError(f"{label} must be one of {', '.join(param.enum)}; got {value!r}")
        return coerce_scalar(value, param.base_type, label=label) if value.strip() else value
    return value


def coerce_arguments(
    params: Sequence[SoapParam], values: Mapping[str, Any], *, prefix: str = ""
) -> dict[str, Any]:
    """The form's values (text) as the operation's Python arguments.

    Numbers, decimals and booleans are converted by their XSD base type;
    blank simple values are left out (so a missing required one is reported
    by name); unknown names pass through for the client to report.

    Raises:
        ConfigError: a value does not read as its type; the message names it.
    """
    by_name: dict[str, SoapParam] = {}
    for param in params:
        for option in param.children if param.kind == "choice" else [param]:
            by_name[option.name] = option
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        found = by_name.get(name)
        out[name] = value if found is None else _coerce(found, value, f"{prefix}{name}")
    return out


def _port_client(client: SoapClient, service: str, port: str) -> SoapClient:
    """A client for another port of the same WSDL, sharing the HTTP core (auth, history)."""
    for_port = getattr(client, "for_port", None)
    if callable(for_port):
        other: SoapClient = for_port(service, port)
        return other
    clone = copy.copy(client)
    clone.service, clone.port, clone._binding, address = client._select(service, port)
    clone.address = address
    clone._ops = dict(clone._binding.all())
    clone._operations = None
    return clone


class WsdlPanel(Widget):
    """The operations, form and envelope preview of :class:`WsdlExplorer` (``static/wsdl.js``)."""

    _esm = esm("wsdl.js")
    _css = explorer_css()

    summary = traitlets.Dict().tag(sync=True)
    #: services -> ports -> operation names and the first line of their docs
    services: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)

    def __init__(
        self,
        client: SoapClient,
        /,
        *,
        name: str = "client",
        operation: str | None = None,
        show: Callable[[Exchange], None] | None = None,
    ) -> None:
        self._client = client
        self._name = name
        self._show = show or (lambda exchange: None)
        self._ports: dict[tuple[str, str], SoapClient] = {}
        if client.service is not None and client.port is not None:
            self._ports[(client.service, client.port)] = client
        if operation is not None:
            client.operation(operation)  # raises with close matches
        tree = self._tree()
        super().__init__(
            summary={
                "wsdl": mask_url(client.wsdl_location),
                "service": client.service or "",
                "port": client.port or "",
                "address": mask_url(client.address) if client.address else "",
                "soap_version": client.soap_version,
                "documentation": _short(client.documentation, _DOC_LIMIT),
                "operations": sum(len(p["operations"]) for s in tree for p in s["ports"]),
                "name": name,
                "operation": operation or "",
            },
            services=tree,
        )

    def _tree(self) -> list[dict[str, Any]]:
        client = self._client
        if client.service is None:  # a bare binding: one nameless "port"
            ops = [{"name": op.name, "doc": _short(op.documentation)} for op in client.operations]
            return [{"service": "", "ports": [{"port": "", "active": True,
                                                "soap_version": client.soap_version,
                                                "address": mask_url(client.address or ""),
                                                "operations": ops}]}]  # fmt: skip
        out = []
        for service, ports in client.services.items():
            entries = []
            for port in ports:
                other = self._port(service, port)
                entries.append({
                    "port": port,
                    "active": other is client,
                    "soap_version": other.soap_version,
                    "address": mask_url(other.address or ""),
                    "operations": [{"name": op.name, "doc": _short(op.documentation)}
                                   for op in other.operations],
                })  # fmt: skip
            out.append({"service": service, "ports": entries})
        return out

    def _port(self, service: str, port: str) -> SoapClient:
        key = (service, port)
        if key not in self._ports:
            self._ports[key] = _port_client(self._client, service, port)
        return self._ports[key]

    def _target(self, content: Mapping[str, Any]) -> tuple[SoapClient, SoapOperation]:
        service, port = str(content.get("service") or ""), str(content.get("port") or "")
        client = self._port(service, port) if service and port else self._client
        return client, client.operation(str(content.get("name", "")))

    def _arguments(self, op: SoapOperation, content: Mapping[str, Any]) -> dict[str, Any]:
        values = content.get("values") or {}
        if not isinstance(values, Mapping):
            raise ConfigError("values must map parameter names to values")
        return coerce_arguments(op.input, values)

    # -- requests --------------------------------------------------------------------------

    def msg_operation(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The form of one operation: signature, documentation, input tree."""
        _, op = self._target(content)
        return {"form": operation_form(op)}

    def msg_preview(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The request envelope for the form's values (masked), or what is wrong with them."""
        client, op = self._target(content)
        try:
            envelope = client.build_envelope(op.name, self._arguments(op, content))
        except ConfigError as exc:
            return {"envelope": "", "problem": mask_text(str(exc))}
        return {"envelope": envelope, "problem": ""}

    def msg_run(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Call the operation; the Inspector (with both envelopes) shows below."""
        client, op = self._target(content)
        arguments = self._arguments(op, content)
        return run_call(lambda: client.call(op.name, arguments), self._show)

    def msg_code(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The call as Python, with credential fields masked."""
        client, op = self._target(content)
        arguments = self._arguments(op, content)
        if all(k.isidentifier() for k in arguments):
            args = [py_str(op.name), *keyword_args(arguments)]
        else:
            args = [py_str(op.name), value_code(arguments, indent=4)]
        code = call_code(f"{self._name}.call", args)
        if client is not self._client:
            where = f"service={py_str(client.service or '')}, port={py_str(client.port or '')}"
            code = (
                f"# {op.name} is on another port of the WSDL\n"
                f"{self._name} = SoapClient({py_str(mask_url(client.wsdl_location))}, {where})\n"
                + code
            )
        return {"code": code}

    def _text_fallback(self) -> str:
        s = self.summary
        where = f"{s['service']}/{s['port']}" if s.get("service") else "binding"
        address = s["address"] or "(no address)"
        return f"<WsdlExplorer {where} {address} · {s['operations']} operations>"


class WsdlExplorer(Explorer):
    """Browse a WSDL's operations, fill in a generated form, preview the envelope, run it.

    Args:
        client: a :class:`~apinotebook.soap.SoapClient`.
        name: the client's variable in *Copy as code* (``client.call(...)``).
        operation: an operation (of the client's port) to open the form with.
    """

    def __init__(self, client: SoapClient, /, *, name: str = "client",
                 operation: str | None = None) -> None:  # fmt: skip
        from apinotebook.soap import SoapClient

        if not isinstance(client, SoapClient):
            raise ConfigError(f"WsdlExplorer takes a SoapClient, not {type(client).__name__}")
        self._client = client
        super().__init__(WsdlPanel(client, name=name, operation=operation, show=self.show))

    @property
    def client(self) -> SoapClient:
        """The client (its port) the calls go through by default."""
        return self._client

    def _text_fallback(self) -> str:
        return self.panel._text_fallback()

    def _panel_html(self) -> str:
        panel = self.panel
        parts = [f"<div>WSDL <code>{escape(panel.summary['wsdl'])}</code></div>"]
        signatures = {op.name: op.signature() for op in self._client.operations}
        for service in panel.services:
            for port in service["ports"]:
                shown = signatures if port["active"] else {}
                rows = "".join(
                    f"<tr><td><code>{escape(shown.get(op['name'], op['name']))}</code></td>"
                    f"<td>{escape(op['doc'])}</td></tr>"
                    for op in port["operations"]
                )
                title = "/".join(filter(None, (service["service"], port["port"])))
                parts.append(f"<div><b>{escape(title)}</b> (SOAP {escape(port['soap_version'])})"
                             f"</div><table><tbody>{rows}</tbody></table>")  # fmt: skip
        return f"<div class='apinotebook-wsdl'>{''.join(parts)}</div>"
