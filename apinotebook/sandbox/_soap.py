"""A small SOAP 1.1 document/literal server built on zeep's WSDL machinery.

The sandbox's SOAP services (billing, the AeroCorp fare provider) are real
contracts: hand-written WSDL 1.1 and XSD files shipped in ``sandbox/wsdl/``.
:class:`SoapApp` serves one of them as a native ASGI app. No server framework
(spyne breaks on Python 3.12+) -- the work is split between the two libraries
the core already depends on:

- **lxml** parses incoming bytes with a hardened parser (no DTD loading, no
  entity expansion, no network, no huge trees; any DOCTYPE is rejected as
  SOAP 1.1 section 3 requires) and validates the Body's payload element against
  the contract's XSD with ``etree.XMLSchema``: zeep's own parsing is lenient
  (it logs and drops a value of the wrong type), so validation comes first and
  gives the client a precise message such as ``Element 'page': 'abc' is not a
  valid value of the atomic type 'xs:int'``.
- **zeep** loads the WSDL (``zeep.wsdl.Document`` over package files only, with
  ``forbid_dtd``/``forbid_entities``/``forbid_external``), turns the validated
  payload into Python values with the binding operation's input element
  (``element.parse``), builds the response envelope with the output message
  (``operation.output.serialize``) and renders Fault details with the fault
  message's element, so every response matches the WSDL.

zeep (and ``requests`` under it) takes ~0.4 s to import, so the contract is
loaded on the first POST and cached per process; what the constructor does is
cheap: it reads the WSDL, checks the handlers against the binding and pins the
served copy's ``soap:address`` and relative ``schemaLocation`` attributes to
the public URL. The contract side lives in :mod:`apinotebook.sandbox._soap_contract`.

HTTP behaviour:

==============================  =================================================
``GET {prefix}?wsdl``           the WSDL, address pinned (also ``/service.wsdl``)
``GET {prefix}/{name}.xsd``     an XSD the WSDL imports
``POST {prefix}``               dispatch by ``SOAPAction``, else by Body element
==============================  =================================================

Faults are SOAP 1.1 ``soap:Fault`` with HTTP 500, except: missing or wrong HTTP
Basic credentials get 401 and ``WWW-Authenticate``; a Content-Type other than
``text/xml`` gets 415; a method other than GET/POST gets 405. All of these
carry a Fault body.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree

from apinotebook._core.xml import has_dtd, safe_parser
from apinotebook._exceptions import ConfigError
from apinotebook.sandbox._context import Message, Receive, Scope, Send
from apinotebook.sandbox._soap_contract import (
    WSDL_DIR,
    Contract,
    ServedWsdl,
    declares_doctype,
    load_contract,
)

__all__ = ["WSDL_DIR", "SoapApp", "SoapAuth", "SoapFaultError"]

logger = logging.getLogger(__name__)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

#: A UsernameToken's ``Created`` may be this many seconds off the server clock.
TOKEN_WINDOW = 300.0

#: ``handler(params) -> result``: request fields in, response fields out.
Handler = Callable[[dict[str, Any]], Mapping[str, Any]]

_XML = b"text/xml; charset=utf-8"
_NAMESPACE = re.compile(r"\{[^}]*\}")


class SoapFaultError(Exception):
    """Raised by a handler (or the engine) to answer with a SOAP Fault.

    Args:
        code: machine-readable code for the Fault detail (``CUSTOMER_NOT_FOUND``).
        message: the ``faultstring``.
        detail: extra fields of the WSDL's fault element (``{"id": "CUST-1"}``).
        faultcode: ``soap:Client`` (the caller's fault), ``soap:Server``,
            ``soap:VersionMismatch``, ``soap:MustUnderstand`` or a ``wsse:`` code.
        status: HTTP status; SOAP 1.1 says 500 for every Fault.
        headers: extra HTTP response headers.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        detail: Mapping[str, Any] | None = None,
        faultcode: str = "soap:Client",
        status: int = 500,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = dict(detail or {})
        self.faultcode = faultcode
        self.status = status
        self.headers = list(headers)


@dataclass(frozen=True)
class SoapAuth:
    """Who may call a :class:`SoapApp`, and how they may prove it.

    Attributes:
        username: the one accepted user name.
        password: its password.
        basic: accept HTTP Basic (a failure is 401 with ``WWW-Authenticate``).
        username_token: accept a WS-Security UsernameToken in the SOAP Header
            (PasswordText, or PasswordDigest with Nonce and Created; a failure
            is a ``wsse:FailedAuthentication`` Fault).
        realm: the Basic realm.
        hint: names the credentials in error messages (environment variables).
    """

    username: str
    password: str
    basic: bool = True
    username_token: bool = True
    realm: str = "sandbox"
    hint: str = "ask the service owner"


class SoapApp:
    """Serve one WSDL as a SOAP 1.1 document/literal service (an ASGI app).

    Args:
        wsdl_path: the WSDL file; imported XSDs must sit beside it.
        address: the public URL of the endpoint, pinned into the served WSDL.
        handlers: one callable per binding operation, by operation name. It gets
            the request element's fields as a dict (missing optional fields are
            ``None``) and returns the response element's fields; it raises
            :class:`SoapFaultError` for a Fault.
        auth: credentials to require; ``None`` for an open service.
        latency: seconds to wait (``asyncio.sleep``) before answering a POST.
        fault_fields: the fault element's fields that take the code and message.
    """

    def __init__(
        self,
        wsdl_path: str | Path,
        *,
        address: str,
        handlers: Mapping[str, Handler],
        auth: SoapAuth | None = None,
        latency: float = 0.0,
        fault_fields: tuple[str, str] = ("code", "message"),
    ) -> None:
        self.wsdl_path = Path(wsdl_path).resolve()
        self.address = address.rstrip("/")
        self.auth = auth
        self.latency = max(0.0, latency)
        self.fault_fields = fault_fields
        self.served = ServedWsdl(self.wsdl_path, self.address)
        self.operations = self.served.operations
        for name in set(handlers) | set(self.operations):
            if name not in handlers:
                raise ConfigError(f"no handler for the WSDL operation {name!r}")
            if name not in self.operations:
                raise ConfigError.invalid_choice("operation", name, self.operations)
        self.handlers = dict(handlers)
        self.wsdl, self.files = self.served.wsdl, self.served.files
        self._parser = safe_parser()
        self._nonces: OrderedDict[str, float] = OrderedDict()

    def schema(self) -> etree.XMLSchema:
        """The XSD of the WSDL's (single) inline schema, for validation."""
        return self.served.schema()

    # -- ASGI ------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request."""
        if scope["type"] != "http":
            return
        root, path, method = scope.get("root_path", ""), scope["path"], scope["method"]
        sub = path[len(root) :] if path.startswith(root) else path
        body = await _read_body(receive)
        if method in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode("latin-1")
            wsdl = "wsdl" in {k.lower() for k, _ in parse_qsl(query, keep_blank_values=True)}
            status, content, ctype = self._get(sub, wsdl)
            await _respond(send, status, b"" if method == "HEAD" else content, ctype)
            return
        try:
            if sub not in ("", "/"):
                raise SoapFaultError(
                    "NOT_FOUND", f"No endpoint at {path}: POST to {root}", status=404
                )
            if method != "POST":
                raise SoapFaultError(
                    "METHOD_NOT_ALLOWED",
                    f"{method} is not allowed: POST a SOAP envelope, or GET {root}?wsdl",
                    status=405,
                    headers=[("allow", "GET, HEAD, POST")],
                )
            if self.latency:
                await asyncio.sleep(self.latency)
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            await _respond(send, 200, self.handle(body, headers), _XML)
        except SoapFaultError as fault:
            await _respond(send, fault.status, self.fault_envelope(fault), _XML, fault.headers)

    def _get(self, sub: str, wsdl: bool) -> tuple[int, bytes, bytes]:
        name = sub.lstrip("/")
        if (name == "" and wsdl) or name == "service.wsdl":
            return 200, self.wsdl, _XML
        if name in self.files:
            return 200, self.files[name], _XML
        text = (
            f"SOAP 1.1 endpoint: POST envelopes (Content-Type: text/xml) to {self.address}\n"
            f"WSDL: {self.address}?wsdl\nOperations: {', '.join(self.operations)}\n"
        )
        return (200 if name == "" else 404), text.encode(), b"text/plain; charset=utf-8"

    # -- one SOAP call ---------------------------------------------------------------

    def handle(self, body: bytes, headers: Mapping[str, str]) -> bytes:
        """Answer one POSTed envelope; raises :class:`SoapFaultError` for a Fault.

        Args:
            body: the raw request body.
            headers: request headers with lower-case names.
        """
        contract = load_contract(self.wsdl_path)
        ctype = headers.get("content-type", "")
        media = ctype.partition(";")[0].strip().lower()
        if media != "text/xml":
            hint = " (that is SOAP 1.2; this is a SOAP 1.1 service)" if "soap+xml" in media else ""
            raise SoapFaultError(
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content-Type {ctype or '(none)'!s} is not accepted{hint}: "
                "send a SOAP 1.1 envelope as text/xml; charset=utf-8",
                status=415,
            )
        if not body.strip():
            raise SoapFaultError(
                "EMPTY_BODY", "The request body is empty: POST a SOAP 1.1 Envelope"
            )
        envelope = self._parse(body)
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        self._check_headers(header)
        self._authenticate(header, headers)
        payload = self._payload(envelope)
        op = self._dispatch(contract, payload, headers.get("soapaction", ""))
        schema = self.schema()
        if not schema.validate(payload):
            log: Any = schema.error_log
            errors = [entry.message for entry in log]
            text = _NAMESPACE.sub("", errors[-1] if errors else "invalid")
            raise SoapFaultError("INVALID_REQUEST", f"Invalid {op.name} request: {text}")
        value = op.input.body.parse(payload, contract.types, context=contract.new_context())
        params = contract.to_python(value) if value is not None else {}
        try:
            result = self.handlers[op.name](params)
            message = op.output.serialize(**result)
            return bytes(etree.tostring(message.content, xml_declaration=True, encoding="utf-8"))
        except SoapFaultError:
            raise
        except Exception as exc:
            logger.exception("SOAP handler %s failed", op.name)
            raise SoapFaultError(
                "INTERNAL_ERROR",
                f"Internal error while handling {op.name} ({type(exc).__name__})",
                faultcode="soap:Server",
            ) from exc

    def _parse(self, body: bytes) -> etree._Element:
        dtd = SoapFaultError(
            "DTD_FORBIDDEN",
            "A SOAP message must not contain a Document Type Declaration (DOCTYPE)",
        )
        if declares_doctype(body):  # refuse before libxml2 even reads the DTD
            raise dtd
        try:
            root = etree.fromstring(body, self._parser)
        except etree.XMLSyntaxError as exc:
            raise SoapFaultError(
                "INVALID_XML", f"The request body is not well-formed XML: {exc.msg}"
            ) from None
        if has_dtd(root):  # e.g. in UTF-16, which the byte scan cannot read
            raise dtd
        qname = etree.QName(root)
        if qname.localname != "Envelope":
            raise SoapFaultError(
                "NOT_AN_ENVELOPE",
                f"The root element is {qname.localname!r}; expected a SOAP 1.1 Envelope "
                f"({{{SOAP_ENV}}}Envelope)",
            )
        if qname.namespace != SOAP_ENV:
            which = "the SOAP 1.2 namespace" if qname.namespace == SOAP12_ENV else "namespace"
            raise SoapFaultError(
                "VERSION_MISMATCH",
                f"The Envelope is in {which} {qname.namespace!r}; this service speaks "
                f"SOAP 1.1 ({SOAP_ENV})",
                faultcode="soap:VersionMismatch",
            )
        return root

    @staticmethod
    def _check_headers(header: etree._Element | None) -> None:
        for block in () if header is None else header:
            must = block.get(f"{{{SOAP_ENV}}}mustUnderstand", "0").strip() in ("1", "true")
            if must and block.tag != f"{{{WSSE}}}Security":
                name = etree.QName(block).localname
                raise SoapFaultError(
                    "MUST_UNDERSTAND",
                    f"Header {name!r} is marked mustUnderstand but this service does not know it",
                    faultcode="soap:MustUnderstand",
                )

    @staticmethod
    def _payload(envelope: etree._Element) -> etree._Element:
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        if body is None:
            raise SoapFaultError("MISSING_BODY", "The Envelope has no soap:Body element")
        children = [child for child in body if isinstance(child.tag, str)]
        if len(children) != 1:
            raise SoapFaultError(
                "INVALID_REQUEST", f"soap:Body must hold exactly one element, not {len(children)}"
            )
        return children[0]

    def _dispatch(self, contract: Contract, payload: etree._Element, action: str) -> Any:
        action = action.strip().strip('"').strip()
        valid = ", ".join(sorted(contract.operations))
        if action:
            op = contract.by_action.get(action) or contract.operations.get(action)
            if op is None:
                raise SoapFaultError(
                    "UNKNOWN_OPERATION",
                    f"Unknown SOAPAction {action!r}. Operations: {valid}",
                )
            if payload.tag != op.input.body.qname.text:
                raise SoapFaultError(
                    "INVALID_REQUEST",
                    f"SOAPAction {action!r} expects {op.input.body.qname.text} in the Body, "
                    f"got {payload.tag}",
                )
            return op
        op = contract.by_element.get(payload.tag)
        if op is not None:
            return op
        qname = etree.QName(payload)
        for candidate in contract.operations.values():
            expected = candidate.input.body.qname
            if expected.localname == qname.localname:
                raise SoapFaultError(
                    "INVALID_REQUEST",
                    f"{qname.localname} must be in namespace {expected.namespace!r}, "
                    f"not {qname.namespace or '(none)'!r}",
                )
        raise SoapFaultError(
            "UNKNOWN_OPERATION",
            f"No operation takes a {qname.localname!r} element. Operations: {valid}",
        )

    # -- authentication ----------------------------------------------------------------

    def _authenticate(self, header: etree._Element | None, headers: Mapping[str, str]) -> None:
        auth = self.auth
        if auth is None:
            return
        authorization = headers.get("authorization", "")
        basic = auth.basic and authorization[:6].lower() == "basic "
        token = (
            None if header is None else header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        )
        if basic:
            self._check_basic(auth, authorization[6:].strip())
        if token is not None and auth.username_token:
            self._check_token(auth, token)
        elif not basic:
            ways = ["HTTP Basic credentials"] if auth.basic else []
            ways += ["a WS-Security UsernameToken"] if auth.username_token else []
            message = f"Authentication required: send {' or '.join(ways)} ({auth.hint})"
            if auth.basic:
                raise SoapFaultError(
                    "AUTH_REQUIRED", message, status=401, headers=[self._challenge()]
                )
            raise SoapFaultError("AUTH_REQUIRED", message, faultcode="wsse:FailedAuthentication")

    def _challenge(self) -> tuple[str, str]:
        realm = self.auth.realm if self.auth else "sandbox"
        return ("www-authenticate", f'Basic realm="{realm}", charset="UTF-8"')

    def _check_basic(self, auth: SoapAuth, encoded: str) -> None:
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:  # binascii.Error and UnicodeDecodeError
            user, sep, password = "", "", ""
        if not (sep and _same(user, auth.username) and _same(password, auth.password)):
            raise SoapFaultError(
                "AUTH_FAILED", "HTTP Basic credentials were rejected", status=401,
                headers=[self._challenge()],
            )  # fmt: skip

    def _check_token(self, auth: SoapAuth, token: etree._Element) -> None:
        def text(tag: str, ns: str = WSSE) -> str:
            return (token.findtext(f"{{{ns}}}{tag}") or "").strip()

        password = token.find(f"{{{WSSE}}}Password")
        kind = "" if password is None else password.get("Type", "#PasswordText")
        kind = kind.rsplit("#", 1)[-1].rsplit(":", 1)[-1]
        if kind == "PasswordText":
            ok = _same(text("Password"), auth.password)
        elif kind == "PasswordDigest":
            ok = self._check_digest(auth, text("Password"), text("Nonce"), text("Created", WSU))
        else:
            raise SoapFaultError(
                "INVALID_SECURITY",
                f"Unsupported UsernameToken password {kind or '(none)'!r}: "
                "send a PasswordText or PasswordDigest Password",
                faultcode="wsse:InvalidSecurity",
            )
        if not (ok and _same(text("Username"), auth.username)):
            raise SoapFaultError(
                "AUTH_FAILED", "The WS-Security UsernameToken was rejected",
                faultcode="wsse:FailedAuthentication",
            )  # fmt: skip

    def _check_digest(self, auth: SoapAuth, given: str, nonce: str, created: str) -> bool:
        """``Base64(SHA-1(nonce + created + password))``, fresh and not replayed."""
        try:
            raw = base64.b64decode(nonce, validate=True)
            when = datetime.fromisoformat(created)
            if not (raw and created):
                raise ValueError("missing")
        except ValueError:
            raise SoapFaultError(
                "INVALID_SECURITY",
                "PasswordDigest needs a Base64 Nonce and an ISO 8601 wsu:Created",
                faultcode="wsse:InvalidSecurity",
            ) from None
        now = time.time()
        if abs(now - when.replace(tzinfo=when.tzinfo or UTC).timestamp()) > TOKEN_WINDOW:
            raise SoapFaultError(
                "MESSAGE_EXPIRED",
                f"wsu:Created {created} is more than {TOKEN_WINDOW:g} s off the server clock",
                faultcode="wsse:MessageExpired",
            )
        digest = hashlib.sha1(raw + created.encode() + auth.password.encode()).digest()
        if not _same(given, base64.b64encode(digest).decode()):
            return False
        while self._nonces and next(iter(self._nonces.values())) < now:
            self._nonces.popitem(last=False)  # forget nonces older than the window
        if nonce in self._nonces:
            raise SoapFaultError(
                "NONCE_REPLAYED", "This Nonce was already used: send a fresh one every time",
                faultcode="wsse:FailedAuthentication",
            )  # fmt: skip
        self._nonces[nonce] = now + 2 * TOKEN_WINDOW
        return True

    # -- faults --------------------------------------------------------------------------

    def fault_envelope(self, fault: SoapFaultError) -> bytes:
        """The SOAP 1.1 envelope for ``fault``, its detail typed by the WSDL."""
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
        nsmap = {"wsse": WSSE} if fault.faultcode.startswith("wsse:") else None
        node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault", nsmap=nsmap)
        etree.SubElement(node, "faultcode").text = fault.faultcode
        etree.SubElement(node, "faultstring").text = fault.message
        detail = etree.SubElement(node, "detail")
        code_field, message_field = self.fault_fields
        values = {code_field: fault.code, message_field: fault.message, **fault.detail}
        try:
            element = load_contract(self.wsdl_path).fault_element
            element.render(detail, element(**values))
        except Exception:  # an untyped detail beats no Fault at all
            for child in list(detail):
                detail.remove(child)
            etree.SubElement(detail, code_field).text = fault.code
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _respond(
    send: Send, status: int, content: bytes, ctype: bytes, extra: Iterable[tuple[str, str]] = ()
) -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(content)).encode())]
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
