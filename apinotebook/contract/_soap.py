"""SOAP: a response's Body against the WSDL's XML Schema, with lxml (libxml2).

The schemas are the WSDL's own (``wsdl:types``) and every XSD it imports, as
the SOAP client loaded them (no second fetch: a resolver answers each
``schemaLocation`` from those bytes and refuses anything else). They are
compiled once per contract into one :class:`lxml.etree.XMLSchema`. Each
element of the response's Body (a Fault excepted) is validated as a global
element; libxml2's errors carry the XPath of the offending node.
Document/literal services check fully; rpc-style bodies, whose wrapper is no
global element, are reported as not checkable.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree

from apinotebook._core.xml import SOAP11_ENV_NS, SOAP12_ENV_NS, WSDL_NS, XSD_NS, safe_parser
from apinotebook._exchange import Exchange
from apinotebook.contract._result import ContractResult, Violation

__all__ = ["check_soap", "compile_schema"]

_INLINE = "apinotebook-inline:"


class _Sources(etree.Resolver):
    """Answers ``schemaLocation`` from the documents the client loaded; refuses the rest."""

    def __init__(self, sources: Mapping[str, bytes]) -> None:
        super().__init__()
        self.sources = dict(sources)
        for key in list(self.sources):
            if not key.lower().startswith(("http://", "https://")):
                self.sources.setdefault(f"file://{key}", self.sources[key])

    def resolve(self, url: str, pubid: str, context: Any) -> Any:  # type: ignore[override]
        if url is None:
            return None
        content = self.sources.get(url)
        if content is None and url.startswith("file:"):
            content = self.sources.get(unquote(urlsplit(url).path))
        if content is None:
            raise etree.XMLSchemaParseError(f"the schema location {url} was not loaded")
        return self.resolve_string(content, context, base_url=url)


def _absolute_locations(schema: etree._Element, base: str) -> None:
    for node in schema.iter(f"{{{XSD_NS}}}import", f"{{{XSD_NS}}}include"):
        location = node.get("schemaLocation")
        if location:
            node.set("schemaLocation", urljoin(base, location))


def compile_schema(sources: Mapping[str, bytes], location: str) -> etree.XMLSchema:
    """One XMLSchema of every ``wsdl:types`` schema and imported XSD in ``sources``."""
    inline: dict[str, bytes] = {}
    imports: dict[str, list[str]] = {}
    for where, content in sources.items():
        root = etree.fromstring(content, safe_parser())
        if root.tag == f"{{{WSDL_NS}}}definitions":
            for i, schema in enumerate(root.iterfind(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")):
                copy = etree.fromstring(etree.tostring(schema), safe_parser())
                _absolute_locations(copy, where)
                key = f"{_INLINE}{len(inline)}-{i}"
                inline[key] = etree.tostring(copy)
                imports.setdefault(copy.get("targetNamespace", ""), []).append(key)
        elif root.tag == f"{{{XSD_NS}}}schema" and where == location:
            imports.setdefault(root.get("targetNamespace", ""), []).append(where)
    wrapper = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xs": XSD_NS})
    for namespace, keys in imports.items():
        for key in keys:  # libxml2 keeps the first schema of a namespace
            if namespace:
                etree.SubElement(
                    wrapper, f"{{{XSD_NS}}}import", namespace=namespace, schemaLocation=key
                )
            else:  # a schema without a target namespace joins the wrapper's own
                etree.SubElement(wrapper, f"{{{XSD_NS}}}include", schemaLocation=key)
    parser = safe_parser()
    parser.resolvers.add(_Sources({**sources, **inline}))
    document = etree.fromstring(etree.tostring(wrapper), parser, base_url=location)
    return etree.XMLSchema(document)


_lock = threading.Lock()
#: id(contract) -> (a weak reference to it, its schema or why there is none)
_compiled: dict[int, tuple[weakref.ref[Any], etree.XMLSchema | str]] = {}


def _schema_for(contract: Any) -> etree.XMLSchema | str:
    with _lock:
        entry = _compiled.get(id(contract))
    if entry is not None and entry[0]() is contract:
        return entry[1]
    sources = getattr(contract, "sources", None) or {}
    compiled: etree.XMLSchema | str
    if not sources:
        compiled = "the WSDL's documents were not kept"
    else:
        try:
            compiled = compile_schema(sources, str(contract.location))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            compiled = f"its XML Schema cannot be compiled: {exc}"[:300]
    with _lock:
        for key in [k for k, (ref, _) in _compiled.items() if ref() is None]:
            del _compiled[key]
        _compiled[id(contract)] = (weakref.ref(contract), compiled)
    return compiled


def check_soap(exchange: Exchange, contract: Any) -> ContractResult:
    """Check a SOAP exchange's Body against the XSDs of ``contract`` (a loaded WSDL)."""
    against = f"{exchange.operation or 'the operation'} (WSDL XML Schema)"
    result = ContractResult("soap", against)
    schema = _schema_for(contract)
    if isinstance(schema, str):
        result.checked, result.reason = False, schema
        return result
    try:
        root = etree.fromstring(exchange.content, safe_parser())
    except etree.XMLSyntaxError as exc:
        result.add(Violation("/", f"the response is not XML: {exc.msg}", kind="decode"))
        return result
    body = None
    for ns in (SOAP11_ENV_NS, SOAP12_ENV_NS):
        body = root.find(f"{{{ns}}}Body")
        if body is not None:
            break
    if body is None:
        result.add(Violation("/", "the response has no SOAP Body", kind="shape"))
        return result
    for part in body:
        if not isinstance(part.tag, str) or etree.QName(part).localname == "Fault":
            continue
        # validate the part as a document of its own, so paths start at the part
        document = etree.fromstring(etree.tostring(part), safe_parser())
        if schema.validate(document):
            continue
        for entry in list(schema.error_log):  # type: ignore[call-overload]
            if "No matching global declaration" in entry.message:
                result.checked = False
                result.reason = (
                    f"<{etree.QName(part).localname}> is not a global element of the schema "
                    "(an rpc-style body?)"
                )
                break
            result.add(
                Violation(
                    entry.path or "/",
                    entry.message,
                    kind=_kind(entry.type_name),
                    actual=None,
                )
            )
    return result


def _kind(type_name: str) -> str:
    name = type_name.upper()
    if "DATATYPE" in name or "VALUE" in name or "FACET" in name:
        return "type"
    if "MISSING" in name or "ELEMENT_CONTENT" in name:
        return "content"
    return "schema"
