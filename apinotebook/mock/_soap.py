"""A SOAP mock served from a WSDL, through zeep's own model of it.

The WSDL is read by :class:`apinotebook.SoapClient` (so every WSDL the client
reads, multi-file families included, can be mocked) and one SOAP port is served.
A request's operation is found by its ``SOAPAction`` (the ``action`` of a
SOAP 1.2 content type) or, failing that, by its body's element. Its body is
checked against the input message's types (:func:`~apinotebook.mock._xsd.check_element`);
a bad one gets a ``Client``/``Sender`` Fault naming the element, as a real
server does. The answer is the output message serialised by zeep's binding
from values made up for its types, deterministic per seed and operation.

``GET ?wsdl`` returns the WSDL with its ``soap:address`` pointing at the mock,
and its imports at ``/_wsdl/N``, where the documents it was read from are served
(those files only).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from apinotebook._core.files import read_regular_file
from apinotebook._core.xml import parse_xml
from apinotebook.mock._asgi import Reply, Request
from apinotebook.mock._xsd import check_element, facets_of, make_value

__all__ = ["SoapMock"]

_ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
_ENV12 = "http://www.w3.org/2003/05/soap-envelope"
_IMPORTS = (
    "{http://www.w3.org/2001/XMLSchema}import",
    "{http://www.w3.org/2001/XMLSchema}include",
    "{http://schemas.xmlsoap.org/wsdl/}import",
)
_WSDL_ADDRESSES = (
    "{http://schemas.xmlsoap.org/wsdl/soap/}address",
    "{http://schemas.xmlsoap.org/wsdl/soap12/}address",
)


class SoapMock:
    """A mock of one SOAP port: ``handle(request) -> reply``.

    Args:
        client: a :class:`~apinotebook.SoapClient` for the WSDL (its port is served).
        seed: the seed of every made-up value.
    """

    protocol = "soap"
    error_format = "soap11"

    def __init__(self, client: Any, *, seed: int = 0) -> None:
        self.client = client
        self.seed = seed
        #: the files the WSDL was read from (served at ``?wsdl`` and ``/_wsdl/N``)
        self.documents = [Path(d) for d in client.wsdl_documents if Path(d).is_file()]
        self._numbers = {os.path.realpath(p): i for i, p in enumerate(self.documents)}
        self.title = str(client.service or "")
        self.version = client.soap_version
        # zeep's binding of the client's port (soap/_client.py is at the 600-line limit,
        # so the attribute is read here rather than exposed there)
        binding = client._binding
        self.operations: dict[str, Any] = dict(binding.all())
        self.by_action: dict[str, str] = {}
        self.by_element: dict[str, str] = {}
        for name, op in self.operations.items():
            if op.soapaction:
                self.by_action.setdefault(op.soapaction.strip('"'), name)
            body = getattr(op.input, "body", None) if op.input is not None else None
            qname = getattr(body, "qname", None)
            if qname is not None:
                self.by_element.setdefault(str(qname), name)
            self.by_element.setdefault(name, name)  # rpc: the wrapper is named after it
        roots = []
        for path in self.documents:
            try:
                roots.append(parse_xml(read_regular_file(path, limit=None)))
            except Exception:  # noqa: BLE001 - zeep read it; a facet we cannot read is skipped
                continue
        self.facets = facets_of(roots)

    def __len__(self) -> int:
        return len(self.operations)

    # -- HTTP -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """Answer one SOAP request (or ``GET ?wsdl``)."""
        if request.method == "GET" and request.query.lower() in ("wsdl", "wsdl="):
            return self._wsdl(request.base)
        doc = re.fullmatch(r"/_wsdl/(\d{1,5})", request.path)
        if request.method == "GET" and doc:
            return self._wsdl(request.base, int(doc.group(1)))
        if request.method != "POST":
            reply = self._fault("Client", "SOAP requests are POSTed (GET ?wsdl for the WSDL)", 405)
            reply.headers.append(("allow", "POST"))
            return reply
        try:
            envelope = parse_xml(request.body)
        except Exception as exc:  # noqa: BLE001 - whatever lxml says: the body is not XML
            return self._fault("Client", f"the body is not an XML document: {exc}")
        body = _body_of(envelope)
        if body is None:
            return self._fault("Client", "no soap:Envelope/soap:Body in the request")
        payload = next((c for c in body if isinstance(c.tag, str)), None)
        name = self._operation_name(request, payload)
        if name is None:
            return self._fault("Client", "no operation of this service matches the SOAPAction "
                                         f"{_action(request)!r} or the body's element")  # fmt: skip
        op = self.operations[name]
        problem = self._check(op, payload)
        if problem:
            return self._fault("Client", f"invalid {name} request: {problem}", element=problem)
        return self._answer(name, op)

    def _operation_name(self, request: Request, payload: etree._Element | None) -> str | None:
        action = _action(request)
        if action and action in self.by_action:
            return self.by_action[action]
        if payload is not None:
            qname = etree.QName(payload)
            return self.by_element.get(str(qname)) or self.by_element.get(qname.localname)
        return None

    def _check(self, op: Any, payload: etree._Element | None) -> str | None:
        body = getattr(op.input, "body", None)
        if body is None or op.style == "rpc":
            return None
        if payload is None:
            return f"{body.name}: the body is empty"
        tag = etree.QName(payload)
        if tag.localname != body.name:
            return f"{tag.localname}: expected the element {body.name!r}"
        try:
            return check_element(body.type, payload, body.name)
        except Exception:  # noqa: BLE001 - a type construct the checker cannot walk: accept
            return None

    def _answer(self, name: str, op: Any) -> Reply:
        rng = random.Random(f"{self.seed}\0{name}")
        output = op.output
        if output is None:  # one-way operation
            return Reply(202, b"", None)
        body = getattr(output, "body", None)
        kwargs: dict[str, Any] = {}
        if body is not None:
            value = make_value(body.type, rng, self.facets)
            kwargs = value if isinstance(value, dict) else {"_value_1": value}
        try:
            message = output.serialize(**kwargs)
        except Exception as exc:  # noqa: BLE001 - values zeep refuses
            return self._fault("Server", f"the mock failed to make {name}'s answer: {exc}")
        data = etree.tostring(message.content, xml_declaration=True, encoding="utf-8")
        return Reply(200, data, self._content_type())

    def _content_type(self) -> str:
        if self.version == "1.2":
            return "application/soap+xml; charset=utf-8"
        return "text/xml; charset=utf-8"

    def _fault(self, code: str, message: str, status: int = 500, element: str = "") -> Reply:
        detail = f"<detail><element>{escape(element.partition(':')[0])}</element></detail>" \
            if element else ""  # fmt: skip
        if self.version == "1.2":
            sender = "env:Sender" if code == "Client" else "env:Receiver"
            xml = (f'<env:Envelope xmlns:env="{_ENV12}"><env:Body><env:Fault>'
                   f"<env:Code><env:Value>{sender}</env:Value></env:Code>"
                   f'<env:Reason><env:Text xml:lang="en">{escape(message)}</env:Text></env:Reason>'
                   f"{detail.replace('detail>', 'env:Detail>')}"
                   "</env:Fault></env:Body></env:Envelope>")  # fmt: skip
            status = 400 if code == "Client" and status == 500 else status
        else:
            xml = (f'<soap:Envelope xmlns:soap="{_ENV11}"><soap:Body><soap:Fault>'
                   f"<faultcode>soap:{code}</faultcode><faultstring>{escape(message)}</faultstring>"
                   f"{detail}</soap:Fault></soap:Body></soap:Envelope>")  # fmt: skip
        return Reply(status, ('<?xml version="1.0" encoding="utf-8"?>' + xml).encode(),
                     self._content_type())  # fmt: skip

    def _wsdl(self, base: str, number: int = 0) -> Reply:
        """Document ``number`` of the WSDL, its imports and address pointing at the mock."""
        if number >= len(self.documents):
            return Reply(404, b"no such WSDL document", "text/plain")
        path = self.documents[number]
        root = parse_xml(read_regular_file(path, limit=None))
        for node in root.iter(*_IMPORTS):
            attr = "schemaLocation" if node.get("schemaLocation") is not None else "location"
            value = node.get(attr)
            if value and "://" not in value:
                target = self._numbers.get(os.path.realpath(path.parent / value))
                if target is not None:
                    node.set(attr, f"{base}/_wsdl/{target}")
        for node in root.iter(*_WSDL_ADDRESSES):
            node.set("location", base)
        return Reply(200, etree.tostring(root, xml_declaration=True, encoding="utf-8"),
                     "text/xml; charset=utf-8")  # fmt: skip


def _action(request: Request) -> str:
    action = request.header("soapaction").strip().strip('"')
    if action:
        return action
    for part in request.header("content-type").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "action":
            return value.strip('"')
    return ""


def _body_of(envelope: etree._Element) -> etree._Element | None:
    for ns in (_ENV11, _ENV12):
        found = envelope.find(f"{{{ns}}}Body")
        if found is not None:
            return found
    return None
