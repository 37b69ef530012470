"""Turn a SOAP response into plain Python, a Fault, or a typed error.

:func:`decode_reply` never raises: it returns a :class:`Decoded` saying what
the response is, so it can run inside ``HttpCore``'s ``decode=`` hook (before
the exchange is recorded) and the client raises afterwards.

The order of the checks, and what each outcome becomes:

1. an empty body: ``None`` for 202/204 (one-way operations), else an error;
2. the body is read with a hardened lxml parser; not XML → ``DecodeError``
   for a 2xx, ``HTTPStatusError`` for a 4xx/5xx (an HTML error page, a proxy's
   message); a DOCTYPE → ``DecodeError`` (XXE / billion laughs are refused);
3. a ``soap:Fault`` in the Body (SOAP 1.1 or 1.2), whatever the status →
   a fault dict ``{code, message, detail, actor}`` (plus ``subcodes`` for
   SOAP 1.2);
4. a 4xx/5xx without a Fault → ``HTTPStatusError``;
5. otherwise zeep decodes the envelope with the operation's output message
   (``binding.process_reply``: MTOM/XOP, WS-Security verification and
   plugins included) and the result becomes plain Python.

**Results** follow zeep's unwrapping: the response wrapper element
(``GetInvoiceResponse``) is dropped; when it holds exactly one child element
and no attributes, that child's value is the result (``GetInvoice`` → the
invoice dict; a single repeated element → a list); when that child is itself
a single-field complex value, it is unwrapped once more; otherwise the result
is a dict of the wrapper's children. ``zeep.helpers.serialize_object`` turns
zeep's objects into dicts and lists; values keep their Python types
(``Decimal``, ``date``, ``datetime``, ``bytes``); ``xsd:any`` content becomes
an XML string.

**Fault details** are typed by the WSDL when the detail element is declared
(the operation's ``wsdl:fault`` messages, or any global element), and read
generically otherwise (child element names → values, repeated names → lists).
A detail with one complex child (the usual ``<ErrorInfo>...</ErrorInfo>``)
becomes that child's fields; several children become a dict keyed by their
local names; a detail with only text becomes the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Any

from lxml import etree

from apinotebook._core.secrets import mask_body
from apinotebook._core.xml import declares_dtd, has_dtd, safe_parser
from apinotebook._exceptions import DecodeError, HTTPStatusError, ResponseError
from apinotebook.soap._wsdl import zeep_attr

__all__ = ["Decoded", "decode_reply", "to_plain"]

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
_SNIPPET = 200
_DTD_REFUSED = (
    "The response contains a Document Type Declaration (<!DOCTYPE ...>). It was refused: a "
    "SOAP message must not have one, and DTDs enable entity-expansion ('billion laughs') and "
    "external-entity (XXE) attacks."
)


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a response turned out to be."""

    payload: Any = None
    fault: dict[str, Any] | None = None
    error: type[ResponseError] | None = None
    message: str | None = None


class _Response:
    """The slice of ``requests.Response`` that zeep's ``process_reply`` reads."""

    def __init__(self, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = 200
        self.headers = headers
        self.content = content
        self.encoding = "utf-8"


def to_plain(value: Any) -> Any:
    """Turn zeep's result objects into dicts, lists and scalars (recursively)."""
    serialize_object = zeep_attr("zeep.helpers", "serialize_object")
    return _leftovers(serialize_object(value, target_cls=dict))


def _leftovers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _leftovers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_leftovers(v) for v in value]
    if isinstance(value, etree._Element):
        return etree.tostring(value, encoding="unicode")
    if type(value).__name__ == "AnyObject" and hasattr(value, "value"):
        return to_plain(value.value)
    if isinstance(value, datetime | time) and value.tzinfo is not None:
        offset = value.utcoffset()
        if offset is not None and not isinstance(value.tzinfo, timezone):
            return value.replace(tzinfo=timezone(offset))  # isodate's tzinfo -> stdlib's
    return value


def _snippet(content: bytes, content_type: str) -> str:
    text = content[:_SNIPPET].decode("utf-8", "replace").strip()
    return mask_body(text, content_type)


def _fail(status: int, what: str, content: bytes, ctype: str, *, always_decode: bool = False) -> (
    Decoded
):  # fmt: skip
    head = _snippet(content, ctype)
    shown = f" Body starts with: {head!r}" if head else ""
    if status >= 400 and not always_decode:
        return Decoded(
            error=HTTPStatusError,
            message=f"The server answered {status} with {what}, not a SOAP Fault.{shown}",
        )
    return Decoded(error=DecodeError, message=f"Expected a SOAP envelope but got {what}.{shown}")


def decode_reply(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    client: Any,
    operation: Any,
) -> Decoded:
    """Decode one response to ``operation`` (a zeep binding operation); never raises."""
    ctype = headers.get("content-type", "")
    media = ctype.partition(";")[0].strip().lower()
    if not content.strip():
        if status in (202, 204) or (status < 300 and operation.output is None):
            return Decoded()
        return _fail(status, f"an empty body (status {status})", content, ctype)
    if media != "multipart/related":
        try:
            root = etree.fromstring(content, safe_parser())
        except etree.XMLSyntaxError as exc:
            if declares_dtd(content):
                return Decoded(error=DecodeError, message=_DTD_REFUSED)
            what = "HTML (an error or login page?)" if b"<html" in content[:500].lower() else (
                f"a body that is not XML ({media or 'no content-type'}: {exc.msg})"
            )  # fmt: skip
            return _fail(status, what, content, ctype)
        if has_dtd(root):
            return Decoded(error=DecodeError, message=_DTD_REFUSED)
        qname = etree.QName(root)
        if qname.localname != "Envelope" or qname.namespace not in (SOAP11_ENV, SOAP12_ENV):
            what = f"XML whose root is <{qname.localname}>"
            if qname.localname.lower() == "html":
                what = "HTML (an error or login page?)"
            return _fail(status, what, content, ctype)
        fault = root.find(f"{{{qname.namespace}}}Body/{{{qname.namespace}}}Fault")
        if fault is not None:
            return Decoded(fault=read_fault(fault, qname.namespace, client=client,
                                            operation=operation))  # fmt: skip
        if status >= 400:
            return _fail(status, "a SOAP envelope without a Fault", content, ctype)
        expected = operation.binding.nsmap.get("soap-env")
        if expected and qname.namespace != expected:
            version = "1.2" if qname.namespace == SOAP12_ENV else "1.1"
            return Decoded(
                error=DecodeError,
                message=f"The response is a SOAP {version} envelope but the binding "
                f"speaks the other version ({expected}).",
            )
    try:
        result = operation.binding.process_reply(client, operation, _Response(headers, content))
        return Decoded(payload=to_plain(result))
    except Exception as exc:  # zeep raises many unrelated types on a bad response  # noqa: BLE001
        return Decoded(
            error=DecodeError,
            message=f"The {operation.name} response does not match the WSDL "
            f"({type(exc).__name__}: {exc}).",
        )


# -- faults ---------------------------------------------------------------------------------


def read_fault(node: etree._Element, ns: str, *, client: Any, operation: Any) -> dict[str, Any]:
    """A Fault element as ``{code, message, detail, actor}`` (SOAP 1.1 or 1.2)."""

    def text(*paths: str) -> str | None:
        for path in paths:
            found = node.findtext(path, namespaces={"e": ns})
            if found is not None and found.strip():
                return found.strip()
        return None

    if ns == SOAP12_ENV:
        subcodes = [
            (v.text or "").strip()
            for v in node.iterfind("e:Code//e:Subcode/e:Value", namespaces={"e": ns})
        ]
        out: dict[str, Any] = {
            "code": text("e:Code/e:Value"),
            "message": text("e:Reason/e:Text"),
            "detail": _detail(node.find(f"{{{ns}}}Detail"), client=client, operation=operation),
            "actor": text("e:Role", "e:Node"),
        }
        if subcodes:
            out["subcodes"] = subcodes
        return out
    detail = node.find("detail")
    if detail is None:
        detail = node.find(f"{{{ns}}}detail")
    return {
        "code": text("faultcode", "e:faultcode"),
        "message": text("faultstring", "e:faultstring"),
        "detail": _detail(detail, client=client, operation=operation),
        "actor": text("faultactor", "e:faultactor"),
    }


def _detail(node: etree._Element | None, *, client: Any, operation: Any) -> Any:
    if node is None:
        return None
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        return (node.text or "").strip() or None
    values = [(etree.QName(c).localname, _typed(c, client=client, operation=operation))
              for c in children]  # fmt: skip
    if len(values) == 1 and isinstance(values[0][1], dict):
        return values[0][1]
    return _group(values)


def _group(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            existing = out[key]
            out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[key] = value
    return out


def _typed(element: etree._Element, *, client: Any, operation: Any) -> Any:
    """The detail child parsed with its WSDL element, else read generically."""
    context_cls = zeep_attr("zeep.xsd.context", "XmlParserContext")
    declared = None
    for message in getattr(operation.abstract, "fault_messages", {}).values():
        for part in message.parts.values():
            if part.element is not None and part.element.qname == element.tag:
                declared = part.element
    types = client.wsdl.types
    try:
        if declared is None:
            declared = types.get_element(element.tag)
        value = declared.parse(element, types, context=context_cls(settings=client.settings))
        return to_plain(value)
    except Exception:  # noqa: BLE001 - undeclared or off-contract detail: read it as XML
        return generic_xml(element)


def generic_xml(element: etree._Element) -> Any:
    """Element content as plain Python without a schema (names → values)."""
    children = [c for c in element if isinstance(c.tag, str)]
    attributes = {f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()}
    if not children:
        value = (element.text or "").strip() or None
        return {**attributes, "_value": value} if attributes else value
    return {**attributes, **_group([(etree.QName(c).localname, generic_xml(c))
                                    for c in children])}  # fmt: skip
