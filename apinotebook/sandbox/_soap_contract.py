"""The contract side of the SOAP engine: the bundled WSDL and XSD files, read safely.

:class:`ServedWsdl` is a contract as the endpoint serves it (``soap:address``
and relative ``schemaLocation`` attributes pinned to the public URL) plus the
inline XSD for validating requests; building one is cheap. :func:`load_contract`
parses a WSDL with zeep (``zeep.wsdl.Document`` over the package files only,
with ``forbid_dtd``/``forbid_entities``/``forbid_external``) once per process,
on the first SOAP call: zeep (and ``requests`` under it) takes ~0.4 s to
import. :func:`declares_doctype` and the SOAP client's hardened parser
(:func:`apinotebook.soap._wsdl.safe_parser`) keep hostile XML out.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from apinotebook._core.xml import WSDL_NS, XSD_NS, safe_parser
from apinotebook._exceptions import ConfigError

__all__ = [
    "WSDL_DIR",
    "Contract",
    "ServedWsdl",
    "declares_doctype",
    "load_contract",
]

#: Where the bundled WSDL and XSD files live.
WSDL_DIR = Path(__file__).with_name("wsdl")

WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"


@dataclass(frozen=True)
class Contract:
    """What the server needs of a WSDL, as zeep objects (untyped, hence Any)."""

    operations: dict[str, Any]  # name -> zeep SoapOperation
    by_action: dict[str, Any]  # soapAction -> operation
    by_element: dict[str, Any]  # "{ns}InputElement" -> operation
    types: Any  # zeep.xsd.Schema
    fault_element: Any  # the element of the first wsdl:fault message
    new_context: Callable[[], Any]  # a fresh zeep XmlParserContext
    to_python: Callable[..., Any]  # zeep's serialize_object(..., target_cls=dict)


class _PackageFiles:
    """A zeep transport that reads only the bundled contract files."""

    def load(self, url: str) -> bytes:
        path = Path(url).resolve()
        if path.parent != WSDL_DIR.resolve():
            raise ConfigError(f"the sandbox contracts may only import files beside them, not {url}")
        return path.read_bytes()


_CONTRACTS: dict[Path, Contract] = {}
_CONTRACTS_LOCK = threading.Lock()


def load_contract(path: Path) -> Contract:
    """Parse ``path`` with zeep once per process; cheap afterwards."""
    with _CONTRACTS_LOCK:
        cached = _CONTRACTS.get(path)
        if cached is not None:
            return cached
        # zeep is imported here, not at module level (~0.4 s), and kept untyped (Any)
        zeep_settings: Any = importlib.import_module("zeep.settings")
        zeep_wsdl: Any = importlib.import_module("zeep.wsdl")
        zeep_context: Any = importlib.import_module("zeep.xsd.context")
        zeep_helpers: Any = importlib.import_module("zeep.helpers")
        settings = zeep_settings.Settings(
            strict=True,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
            xml_huge_tree=False,
        )
        doc = zeep_wsdl.Document(str(path), _PackageFiles(), settings=settings)
        ops = {n: op for b in doc.bindings.values() for n, op in b._operations.items()}
        faults = [m for op in ops.values() for m in op.abstract.fault_messages.values()]
        contract = Contract(
            operations=ops,
            by_action={op.soapaction: op for op in ops.values() if op.soapaction},
            by_element={op.input.body.qname.text: op for op in ops.values()},
            types=doc.types,
            fault_element=next(iter(faults[0].parts.values())).element if faults else None,
            new_context=functools.partial(zeep_context.XmlParserContext, settings=settings),
            to_python=functools.partial(zeep_helpers.serialize_object, target_cls=dict),
        )
        _CONTRACTS[path] = contract
        return contract


class ServedWsdl:
    """A bundled WSDL as served: its operations, and address and imports pinned.

    Args:
        path: the WSDL file; the XSDs it imports must sit beside it.
        address: the endpoint's public URL, written into ``soap:address`` and
            into each relative ``schemaLocation``.

    Attributes:
        operations: the binding's operation names, sorted.
        wsdl: the WSDL document as served.
        files: the imported XSD documents as served, by file name.
    """

    def __init__(self, path: Path, address: str) -> None:
        self.path, self.address = path, address
        tree = etree.parse(str(path), safe_parser())
        binding_ops = tree.findall(f"{{{WSDL_NS}}}binding/{{{WSDL_NS}}}operation")
        self.operations = tuple(sorted(str(op.get("name")) for op in binding_ops))
        self.files: dict[str, bytes] = {}
        for node in tree.iterfind(f".//{{{WSDL_SOAP_NS}}}address"):
            node.set("location", address)
        self._pin_imports(tree.getroot())
        self.wsdl: bytes = etree.tostring(tree, xml_declaration=True, encoding="utf-8")
        self._schema: etree.XMLSchema | None = None

    def _pin_imports(self, root: etree._Element) -> None:
        for node in root.iter(f"{{{XSD_NS}}}import", f"{{{XSD_NS}}}include"):
            location = node.get("schemaLocation")
            if not location or "/" in location or ":" in location:
                continue
            node.set("schemaLocation", f"{self.address}/{location}")
            if location not in self.files:
                self.files[location] = b""  # guards against import cycles
                xsd = etree.parse(str(self.path.with_name(location)), safe_parser())
                self._pin_imports(xsd.getroot())
                self.files[location] = etree.tostring(xsd, xml_declaration=True, encoding="utf-8")

    def schema(self) -> etree.XMLSchema:
        """The XSD of the WSDL's (single) inline schema, for validation."""
        if self._schema is None:
            tree = etree.parse(str(self.path), safe_parser())
            inline = tree.findall(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
            if len(inline) != 1:
                raise ConfigError(f"{self.path.name}: expected one inline xsd:schema")
            doc = etree.fromstring(
                etree.tostring(inline[0]), safe_parser(), base_url=str(self.path)
            )
            self._schema = etree.XMLSchema(doc)
        return self._schema


def declares_doctype(body: bytes) -> bool:
    """Whether the prolog (declaration, comments, PIs) is followed by a DOCTYPE.

    A linear scan, not a regular expression: no backtracking on hostile input.
    """
    pos = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while pos < len(body) and body[pos] in b" \t\r\n":
            pos += 1
        for start, end in ((b"<?", b"?>"), (b"<!--", b"-->")):
            if body.startswith(start, pos):
                close = body.find(end, pos + len(start))
                if close < 0:
                    return False
                pos = close + len(end)
                break
        else:
            return body.startswith(b"<!DOCTYPE", pos)
