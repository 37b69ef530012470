"""The SOAP client: zeep for the contract, the shared HTTP core for the wire.

>>> billing = SoapClient(os.environ["BILLING_WSDL"],
...                      auth=Basic("billing-demo", Secret.from_env("BILLING_PASSWORD")))
>>> [op.signature() for op in billing.operations]                     # doctest: +SKIP
['ListCustomers(page: int = None, pageSize: int = None) -> ListCustomersResponse', ...]
>>> billing.call("GetInvoice", invoiceId="INV-00042-2").data           # doctest: +SKIP
{'id': 'INV-00042-2', 'number': '2025/00042/2', 'line': [{...}, ...], ...}

zeep parses the WSDL, builds each envelope (``binding._create``: WS-Addressing,
plugins and WS-Security included) and decodes each reply
(``binding.process_reply``); the HTTP exchange itself goes through
:class:`~apinotebook._core.http.HttpCore` like every other client, so each call is
an :class:`~apinotebook.Exchange` with both raw envelopes, its retries and a
place in the history. See :mod:`apinotebook.soap._wsdl` for how WSDLs are
fetched, checked and cached, and :mod:`apinotebook.soap._decode` for how
results, Faults and errors are told apart and turned into plain Python.

Retries: every operation is a POST, so it is only retried when it is
idempotent: ``idempotent=`` on the call decides; otherwise, when the client
was given ``idempotent_operations``, membership in it; otherwise the name:
read-only verbs (``Get``, ``List``, ``Search``, ``Find``, ``Query``,
``Check``, ``Lookup`` followed by a word boundary: ``GetInvoice``,
``get_invoice``, ``listCustomers``, not ``Listen``) are idempotent. SOAP 1.1
sends every Fault as a 500, so the decoder tells the send loop which to
retry: a ``soap:Client`` Fault ("invoice not found") never is, a
``soap:Server`` Fault is (for idempotent operations), like a 502/503/504.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable, Mapping
from difflib import get_close_matches
from typing import Any

import httpx

from apinotebook._core.contracts import after_response, contract_mode
from apinotebook._core.http import (
    DEFAULT_MAX_RESPONSE_SIZE,
    ClientBase,
    HistoryArg,
    HttpCore,
    default_tls,
    resolve_retry,
)
from apinotebook._core.secrets import MASK, mask_text, mask_url
from apinotebook._core.views import show
from apinotebook._exceptions import ConfigError, DecodeError, SpecError
from apinotebook._exchange import Exchange
from apinotebook.auth import WsseUsernameToken
from apinotebook.retry import Retry
from apinotebook.soap._arguments import raw_xml_arguments
from apinotebook.soap._decode import Decoded, decode_reply
from apinotebook.soap._signatures import SoapOperation, SoapParam, build_operation
from apinotebook.soap._wsdl import (
    WsdlContract,
    clear_wsdl_cache,
    load_contract,
    wsdl_cache_info,
    zeep_attr,
)

__all__ = [
    "SoapClient",
    "SoapOperation",
    "SoapParam",
    "clear_wsdl_cache",
    "is_read_only",
    "wsdl_cache_info",
]

_READ_ONLY = ("get", "list", "search", "find", "query", "check", "lookup")
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#: keyword arguments zeep itself understands on every operation
_ZEEP_KWARGS = frozenset({"_soapheaders"})

AuthArg = httpx.Auth | WsseUsernameToken | Iterable[httpx.Auth | WsseUsernameToken] | None


def is_read_only(operation: str) -> bool:
    """Whether an operation name reads as a query (``GetInvoice``, ``list_orders``)."""
    lowered = operation.lower()
    for verb in _READ_ONLY:
        if lowered.startswith(verb):
            rest = operation[len(verb) :]
            return not rest or not rest[0].islower()  # a word boundary: not "Listen"
    return False


def _split_auth(auth: AuthArg) -> tuple[httpx.Auth | None, WsseUsernameToken | None]:
    items: list[Any]
    if auth is None:
        items = []
    elif isinstance(auth, httpx.Auth | WsseUsernameToken | str | bytes) or not isinstance(
        auth, Iterable
    ):
        items = [auth]
    else:
        items = list(auth)
    http: list[httpx.Auth] = [a for a in items if isinstance(a, httpx.Auth)]
    wsse = [a for a in items if isinstance(a, WsseUsernameToken)]
    other = [a for a in items if not isinstance(a, httpx.Auth | WsseUsernameToken)]
    if other or len(http) > 1 or len(wsse) > 1:
        raise ConfigError(
            "auth= takes an HTTP auth (Basic, Bearer, ApiKey, ...), a WsseUsernameToken, or "
            f"one of each in a list; got {', '.join(type(a).__name__ for a in items)}. "
            "Wrap credentials: auth=Basic(user, Secret.from_env('PASSWORD'))."
        )
    return (http[0] if http else None), (wsse[0] if wsse else None)


class _NoFetch:
    """zeep's transport after parsing: documents are never fetched again."""

    def load(self, url: str) -> bytes:
        raise SpecError(f"unexpected late fetch of {mask_url(url)} after the WSDL was parsed")


class SoapClient(ClientBase):
    """A client for one SOAP service, described by its WSDL.

    Args:
        wsdl: the WSDL's URL, a local path, or its content (bytes or text).
        auth: HTTP auth (``Basic``, ``Bearer``, any ``httpx.Auth``) for the
            WSDL and the calls, a :class:`~apinotebook.WsseUsernameToken` for a
            WS-Security header in every envelope, or a list with one of each.
        service: the ``wsdl:service`` to use (default: the first).
        port: the ``wsdl:port`` to use (default: the first SOAP port).
        address: the endpoint URL, instead of the port's ``soap:address``.
        timeout: seconds (or an ``httpx.Timeout``) per attempt.
        retry: a :class:`~apinotebook.retry.Retry`, ``False``, or a number of attempts.
        transport: an ``httpx`` transport (``httpx.MockTransport`` in tests),
            used for the WSDL documents and the calls.
        history: ``True`` (the shared history), a ``History``, or ``None``.
        max_response_size: bytes; larger bodies (and WSDL documents) are refused.
        verify: TLS verification (on by default).
        idempotent_operations: the operations that may be retried; by default
            read-only names are (see the module docs).
        strict: zeep's strict XML parsing; ``False`` tolerates sloppy services.
        trusted_locations: hosts or directories the WSDL may import documents
            from, besides its own origin or directory.
        check_contracts: check each response's Body against the WSDL's XML Schema
            (``True``: keep the result; ``"raise"``: raise ContractViolationError).

    Raises:
        SpecError: the WSDL is malformed, unsafe (DTD, entities, foreign imports)
            or not a WSDL.
        ConfigError: unknown ``service``/``port``, or bad options.
        HTTPStatusError: fetching the WSDL failed with a 4xx/5xx status.
    """

    def __init__(
        self,
        wsdl: str | os.PathLike[str] | bytes,
        *,
        auth: AuthArg = None,
        service: str | None = None,
        port: str | None = None,
        address: str | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        retry: Retry | bool | int | None = None,
        transport: httpx.BaseTransport | None = None,
        history: HistoryArg = True,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        verify: Any = True,
        idempotent_operations: Iterable[str] | None = None,
        strict: bool = True,
        trusted_locations: Iterable[str] = (),
        check_contracts: bool | str = False,
    ) -> None:
        self._contract_mode = contract_mode(check_contracts)
        http_auth, wsse = _split_auth(auth)
        self._auth, self._wsse = http_auth, wsse
        if verify is True and transport is None:
            verify = default_tls()  # shared, so a client for a cached WSDL is cheap to make
        options: dict[str, Any] = {
            "auth": http_auth,
            "timeout": timeout,
            "transport": transport,
            "max_response_size": max_response_size,
            "verify": verify,
        }
        contract, cached = load_contract(
            wsdl,
            strict=strict,
            trusted_locations=list(trusted_locations),
            max_size=max_response_size,
            core=lambda: HttpCore(retry=resolve_retry(retry), history=None, **options),
            close_core=transport is None,
        )
        self._contract: WsdlContract = contract
        #: whether the parsed WSDL came from the process-wide cache
        self.from_cache = cached
        self.service, self.port, self._binding, wsdl_address = self._select(service, port)
        self.address = address or wsdl_address
        self._zeep = zeep_attr("zeep.client", "Client")(
            contract.document,
            wsse=wsse.zeep_wsse() if wsse else None,
            transport=_NoFetch(),
            settings=contract.settings,
            service_name=self.service,
            port_name=self.port,
        )
        self._ops: dict[str, Any] = dict(self._binding.all())
        self._operations: tuple[SoapOperation, ...] | None = None
        if idempotent_operations is not None:
            names = frozenset(idempotent_operations)
            for name in names:
                if name not in self._ops:
                    raise self._unknown(name, what="idempotent_operations entry")
            self._idempotent: frozenset[str] | None = names
        else:
            self._idempotent = None
        self._core = HttpCore(retry=resolve_retry(retry), history=history, **options)

    # -- the contract ----------------------------------------------------------------

    def _soap_ports(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for sname, svc in self._contract.document.services.items():
            ports = {
                pname: p
                for pname, p in svc.ports.items()
                if type(p.binding).__name__ in ("Soap11Binding", "Soap12Binding")
            }
            out[str(sname)] = ports
        return out

    def _select(
        self, service: str | None, port: str | None
    ) -> tuple[str | None, str | None, Any, str | None]:
        services = self._soap_ports()
        if not any(services.values()) and service is None:  # no ports (ONVIF): bare bindings
            bindings = [
                b
                for b in self._contract.document.bindings.values()
                if type(b).__name__ in ("Soap11Binding", "Soap12Binding")
            ]
            if not bindings or port:
                raise SpecError(
                    f"The WSDL {mask_url(self._contract.location)} defines no SOAP service port"
                    + ("" if bindings else " or binding")
                    + "; a SOAP client needs one (with address=, a bare binding is enough)."
                )
            return None, None, bindings[0], None
        if service is None and port is not None:
            service = next((s for s, ports in services.items() if port in ports), None)
            if service is None:
                valid = [p for ports in services.values() for p in ports]
                raise ConfigError.invalid_choice("port", port, valid)
        if service is None:
            service = next((s for s, ports in services.items() if ports), None)
            if service is None:
                raise SpecError("The WSDL's services have no SOAP 1.1 or 1.2 port")
        if service not in services:
            raise ConfigError.invalid_choice("service", service, services)
        ports = services[service]
        if port is None:
            if not ports:
                raise ConfigError(f"Service {service!r} has no SOAP 1.1 or 1.2 port")
            port = next(iter(ports))
        if port not in ports:
            raise ConfigError(
                f"Unknown port {port!r} in service {service!r}. Its SOAP ports: "
                f"{', '.join(map(repr, ports)) or 'none'}."
            )
        chosen = ports[port]
        return service, port, chosen.binding, (chosen.binding_options or {}).get("address")

    @property
    def services(self) -> dict[str, list[str]]:
        """Every service in the WSDL and its SOAP ports: ``{"BillingService": [...]}``."""
        return {s: list(ports) for s, ports in self._soap_ports().items()}

    @property
    def soap_version(self) -> str:
        """``"1.1"`` or ``"1.2"``, from the binding."""
        return "1.2" if type(self._binding).__name__ == "Soap12Binding" else "1.1"

    @property
    def documentation(self) -> str | None:
        """The service's ``wsdl:documentation``."""
        return self._contract.service_docs.get(self.service or "")

    @property
    def wsdl_location(self) -> str:
        """Where the WSDL came from (URL or path)."""
        return self._contract.location

    @property
    def wsdl_documents(self) -> tuple[str, ...]:
        """Every document the WSDL was assembled from (imports included)."""
        return self._contract.documents

    @property
    def wsdl_warnings(self) -> tuple[str, ...]:
        """What zeep skipped while parsing (an invalid message part, an incomplete operation)."""
        return self._contract.warnings

    @property
    def parse_seconds(self) -> float:
        """How long fetching and parsing the WSDL took (the first time)."""
        return self._contract.parse_seconds

    @property
    def operations(self) -> list[SoapOperation]:
        """The port's operations with their parameters, results and documentation."""
        if self._operations is None:
            binding = self._binding
            keys = [
                str(getattr(getattr(binding.port_type, "name", None), "text", "")),
                str(getattr(binding.name, "text", "")),
            ]
            docs = self._contract.operation_docs
            self._operations = tuple(
                build_operation(
                    op,
                    service=self.service,
                    port=self.port,
                    enums=self._contract.enums,
                    documentation=next((docs[(k, name)] for k in keys if (k, name) in docs), None),
                )
                for name, op in self._ops.items()
            )
        return list(self._operations)

    def operation(self, name: str) -> SoapOperation:
        """One operation by name (``ConfigError`` with close matches if unknown)."""
        for op in self.operations:
            if op.name == name:
                return op
        raise self._unknown(name)

    def _unknown(self, name: str, *, what: str = "operation") -> ConfigError:
        names = sorted(self._ops)
        close = get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        listed = (
            ", ".join(names) if len(names) <= 30 else f"{len(names)} operations; see .operations"
        )
        where = f"{self.service}/{self.port}" if self.service else "the binding"
        return ConfigError(f"Unknown {what} {name!r} on {where}.{hint} Valid: {listed}.")

    def is_idempotent(self, name: str) -> bool:
        """Whether calls to ``name`` may be retried (see the module docs)."""
        if self._idempotent is not None:
            return name in self._idempotent
        return is_read_only(name)

    # -- envelopes ---------------------------------------------------------------------

    def _check_arguments(self, name: str, kwargs: Mapping[str, Any]) -> None:
        op = self.operation(name)
        accepted: set[str] = set(_ZEEP_KWARGS)
        required: list[str] = []
        for param in op.input:
            names = [c.name for c in param.children] if param.kind == "choice" else [param.name]
            accepted.update(names)
            if (
                param.kind in ("element", "attribute")
                and not param.optional
                and (param.default is None)
            ):
                required.append(param.name)
        unknown = sorted(set(kwargs) - accepted)
        missing = [r for r in required if r not in kwargs]
        problems = []
        if unknown:
            close = {u: get_close_matches(u, sorted(accepted - _ZEEP_KWARGS), n=1) for u in unknown}
            problems.append(
                "unknown "
                + ", ".join(
                    f"{u!r}" + (f" (did you mean {c[0]!r}?)" if c else "") for u, c in close.items()
                )
            )
        if missing:
            problems.append("missing required " + ", ".join(map(repr, missing)))
        if problems:
            raise ConfigError(
                f"Bad arguments for {name}: {'; '.join(problems)}. Signature: {op.signature()}"
            )

    def _create(
        self, name: str, params: Mapping[str, Any] | None, kwargs: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        if name not in self._ops:
            raise self._unknown(name)
        arguments = {**dict(params or {}), **kwargs}
        self._check_arguments(name, arguments)
        op = self.operation(name)
        arguments = raw_xml_arguments(op.input, arguments)
        args: tuple[Any, ...] = ()
        body = getattr(self._ops[name].input, "body", None)
        if body is not None and not hasattr(body.type, "elements_nested"):
            # a document/literal body that is one simple-typed element: zeep takes it positionally
            args = (arguments.pop(str(body.name), None),)
        options = {"address": self.address or ""}
        try:
            envelope, headers = self._binding._create(
                name, args, arguments, client=self._zeep, options=options
            )
        except Exception as exc:  # noqa: BLE001 - TypeError, zeep's ValidationError and kin
            detail = mask_text(str(exc)).split(". Signature: `")[0].rstrip(".")
            kind = "" if isinstance(exc, TypeError) else f"{type(exc).__name__}: "
            raise ConfigError(
                f"Bad arguments for {name}: {kind}{detail}. Signature: {op.signature()}"
            ) from exc
        http_headers = {str(k): str(v) for k, v in dict(headers).items()}
        if self.soap_version == "1.2":
            http_headers.pop("SOAPAction", None)
        else:
            http_headers["Content-Type"] = "text/xml; charset=utf-8"
        return envelope, http_headers

    def build_envelope(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        reveal_secrets: bool = False,
        **kwargs: Any,
    ) -> str:
        """The pretty-printed request envelope of ``name(**kwargs)``, without sending it.

        A WS-Security password is masked unless ``reveal_secrets=True``.
        Parameters whose names clash with this method's own can be passed in
        the ``params`` mapping.
        """
        from lxml import etree

        envelope, _ = self._create(name, params, kwargs)
        if not reveal_secrets:  # by element too: a short password is not masked by value
            for node in envelope.iter(f"{{{_WSSE}}}Password"):
                if str(node.get("Type", "")).endswith("#PasswordText"):
                    node.text = MASK
        text = etree.tostring(envelope, pretty_print=True, encoding="unicode")
        return text if reveal_secrets else mask_text(text)

    def build_request(
        self, name: str, params: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> httpx.Request:
        """The ``httpx.Request`` a call would send (no I/O)."""
        etree_to_string = zeep_attr("zeep.wsdl.utils", "etree_to_string")
        envelope, headers = self._create(name, params, kwargs)
        if not self.address:
            raise ConfigError(
                f"The port {self.port!r} has no soap:address; pass address= to SoapClient"
            )
        return self._core.build_request(
            "POST", self.address, content=etree_to_string(envelope), headers=headers
        )

    # -- calls ---------------------------------------------------------------------------

    def _decoder(self, name: str) -> tuple[Callable[[Exchange], Exchange], list[Decoded]]:
        operation = self._ops[name]
        outcomes: list[Decoded] = []

        def decode(exchange: Exchange) -> Exchange:
            try:
                outcome = decode_reply(
                    exchange.status,
                    exchange.headers,
                    exchange.content,
                    client=self._zeep,
                    operation=operation,
                )
            except Exception as exc:  # noqa: BLE001 - the hook must not raise
                outcome = Decoded(error=DecodeError, message=f"{type(exc).__name__}: {exc}")
            outcomes.append(outcome)
            meta = dict(exchange.meta)
            if outcome.fault is not None:
                meta["fault"] = outcome.fault
                # a Client Fault ("not found", bad input) is final; a Server Fault may pass
                code = str(outcome.fault.get("code") or "").lower()
                meta["retryable"] = "server" in code
            if outcome.message is not None:
                meta["soap_error"] = outcome.message
            if outcome.error is None and outcome.fault is None:
                return exchange.replace(payload=outcome.payload, meta=meta)
            return exchange.replace(meta=meta)

        return decode, outcomes

    def _finish(self, name: str, exchange: Exchange, outcomes: list[Decoded]) -> Exchange:
        after_response(exchange, self._contract, "off")  # checkable even when it raises below
        if exchange.fault is not None:
            exchange.raise_for_status()  # raises SoapFault
        outcome = outcomes[-1] if outcomes else None
        if outcome is not None and outcome.error is not None:
            raise outcome.error(
                f"{name} (POST {mask_url(exchange.url)}, status {exchange.status}): "
                f"{outcome.message}",
                exchange=exchange,
            )
        return after_response(exchange, self._contract, self._contract_mode)

    def call(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> Exchange:
        """Call operation ``name``; its result is ``exchange.data`` (plain Python).

        Keyword arguments are the operation's parameters (see
        :attr:`operations`); nested types are dicts, repeated ones lists.
        Parameters whose names clash with ``idempotent`` can be passed in the
        ``params`` mapping. ``idempotent=True`` lets the retry policy repeat
        the POST.

        Raises:
            ConfigError: unknown operation, unknown or missing arguments.
            SoapFault: the service answered with a Fault (``code``,
                ``detail``, ``exchange``); the exchange is in the history.
            HTTPStatusError: a 4xx/5xx that is not a Fault (an HTML error page,
                an empty 500).
            DecodeError: the response is not a SOAP envelope, has a DTD, or does
                not match the WSDL.
            TransportError: no response arrived (after retries).
        """
        request = self.build_request(name, params, **kwargs)
        decode, outcomes = self._decoder(name)
        exchange = self._core.send(
            request, protocol="soap", operation=name, decode=decode,
            idempotent=self.is_idempotent(name) if idempotent is None else idempotent,
        )  # fmt: skip
        return self._finish(name, exchange, outcomes)

    async def acall(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> Exchange:
        """Async :meth:`call`."""
        request = self.build_request(name, params, **kwargs)
        decode, outcomes = self._decoder(name)
        exchange = await self._core.asend(
            request, protocol="soap", operation=name, decode=decode,
            idempotent=self.is_idempotent(name) if idempotent is None else idempotent,
        )  # fmt: skip
        return self._finish(name, exchange, outcomes)

    # -- lifecycle -------------------------------------------------------------------------

    def explore(self, *, name: str = "client", operation: str | None = None) -> Any:
        """A WsdlExplorer in a notebook (needs the ``notebook`` extra).

        Services, ports and operations, a form per operation, a live envelope
        preview, *Run*.

        Args:
            name: the client's variable in *Copy as code*.
            operation: an operation of this client's port to open the form with.
        """
        return show(self, name=name, operation=operation)

    def for_port(self, service: str, port: str) -> SoapClient:
        """A client for another port of the same WSDL.

        It shares this client's parsed WSDL and HTTP setup (auth, retries,
        history, connection pool); only the binding and the address differ.

        Raises:
            ConfigError: unknown service or port (the message lists the valid ones).
        """
        other = copy.copy(self)
        other.service, other.port, other._binding, other.address = self._select(service, port)
        other._zeep = zeep_attr("zeep.client", "Client")(
            self._contract.document,
            wsse=self._zeep.wsse,
            transport=_NoFetch(),
            settings=self._contract.settings,
            service_name=other.service,
            port_name=other.port,
        )
        other._ops = dict(other._binding.all())
        other._operations = None
        return other

    def __repr__(self) -> str:
        where = f"{self.service}/{self.port}" if self.service else "binding"
        auth = [repr(a) for a in (self._auth, self._wsse) if a is not None]
        shown = f" auth={', '.join(auth)}" if auth else ""
        address = mask_url(self.address) if self.address else "(no address)"
        return f"<SoapClient {where} {address} · {len(self._ops)} operations{shown}>"
