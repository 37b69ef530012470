"""Load, check and cache WSDL contracts for :class:`~apinotebook.soap.SoapClient`.

zeep parses the WSDL and its XSDs (``zeep.wsdl.Document``); this module
decides *how the documents are fetched* and *how often they are parsed*:

- **Fetching** goes through :class:`_Loader`, a zeep transport (zeep only
  calls its ``load(url)``) backed by the client's own
  :class:`~apinotebook._core.http.HttpCore`, so the ``transport=``, ``auth=``,
  ``verify=``, timeout, retry and size limit of the client apply to the WSDL
  too, and tests can serve WSDLs from ``httpx.MockTransport``.
- **Where imports may come from**: the entry WSDL is always loaded; the
  documents it imports (``wsdl:import``, ``xsd:import``, ``xsd:include``) must
  come from the same origin (scheme, host, port) for a URL, or from the WSDL's
  own directory tree for a local file, or from a ``trusted_locations`` entry
  (a host name or a directory). Anything else, including ``file:`` URLs
  reached from a remote WSDL, raises :class:`SpecError`. (zeep's own
  ``forbid_external`` would block *every* http import, even same-origin ones,
  which breaks ordinary multi-file services.) Credentials are only sent to the
  WSDL's own origin.
- **XML safety**: each document is first read with a hardened lxml parser (no
  DTD loading, no entity expansion, no network, no huge trees); any DOCTYPE
  is refused with a message naming the document, which stops billion-laughs
  and XXE before zeep sees the bytes. zeep then parses with
  ``forbid_dtd``/``forbid_entities`` as a second line.
- **Caching**: a bounded LRU (:data:`CACHE_SIZE` contracts) keyed by the URL
  (remote), the path with its mtime and size (local) or the content hash
  (raw bytes), plus the parse settings. The first client pays for the parse;
  later clients for the same WSDL reuse the parsed ``Document`` with no I/O.
  :func:`clear_wsdl_cache` forgets everything (say, after the service
  changed its contract).

The hardened pass also collects what zeep drops: ``wsdl:documentation`` of
operations and services, and the ``xsd:enumeration`` values of named simple
types.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from apinotebook._core.http import HttpCore
from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._core.urls import origin, same_origin
from apinotebook._core.xml import WSDL_NS, XSD_NS, declares_dtd, has_dtd, safe_parser
from apinotebook._exceptions import (
    ApiNotebookError,
    ConfigError,
    HTTPStatusError,
    SpecError,
)
from apinotebook.soap._zeep_parse import offer, sharing

__all__ = [
    "CACHE_SIZE",
    "WsdlContract",
    "clear_wsdl_cache",
    "load_contract",
    "wsdl_cache_info",
    "zeep_attr",
]

#: How many parsed contracts are kept per process.
CACHE_SIZE = 16

_ROOTS = {f"{{{WSDL_NS}}}definitions", f"{{{XSD_NS}}}schema"}


def zeep_attr(module: str, name: str) -> Any:
    """``module.name`` from zeep, imported on first use (zeep is slow to import)."""
    return getattr(importlib.import_module(module), name)


_DTD_REFUSED = (
    "contains a Document Type Declaration (<!DOCTYPE ...>). It was refused: DTDs enable "
    "entity-expansion ('billion laughs') and external-entity (XXE) attacks, and no WSDL needs one."
)


@dataclass
class _Scan:
    """What the hardened pass found in every document zeep loaded."""

    documents: list[str] = field(default_factory=list)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``("{ns}PortTypeOrBinding", "Operation")`` -> text
    operation_docs: dict[tuple[str, str], str] = field(default_factory=dict)
    service_docs: dict[str, str] = field(default_factory=dict)
    #: each document's bytes, by location (apinotebook.contract builds an XML Schema of them)
    sources: dict[str, bytes] = field(default_factory=dict)

    def add(self, where: str, content: bytes, *, entry: bool) -> etree._Element:
        """Check one document and collect its metadata (its root); raise SpecError if unsafe."""
        what = "WSDL" if entry else "imported document"
        try:
            root = etree.fromstring(content, safe_parser())
        except etree.XMLSyntaxError as exc:
            if declares_dtd(content):
                raise SpecError(f"The {what} {mask_url(where)} {_DTD_REFUSED}") from None
            if not entry and not _is_url(where):  # a local file: never quote what it holds
                raise SpecError(
                    f"The {what} {mask_url(where)} is not well-formed XML ({exc.msg}): "
                    "is the import's schemaLocation right?"
                ) from None
            head = mask_text(content[:120].decode("utf-8", "replace").strip())
            raise SpecError(
                f"The {what} {mask_url(where)} is not well-formed XML ({exc.msg}). "
                f"It starts with: {head!r}. Check the URL: is it an error or login page?"
            ) from None
        if has_dtd(root):
            raise SpecError(f"The {what} {mask_url(where)} {_DTD_REFUSED}")
        if root.tag not in _ROOTS:
            found = etree.QName(root).localname if isinstance(root.tag, str) else "?"
            extra = " (WSDL 2.0 is not supported)" if found == "description" else ""
            raise SpecError(
                f"The {what} {mask_url(where)} is not a WSDL 1.1 or XSD document: its root "
                f"element is <{found}>{extra}."
            )
        if entry and root.tag != f"{{{WSDL_NS}}}definitions":
            raise SpecError(f"{mask_url(where)} is an XML Schema, not a WSDL (<wsdl:definitions>).")
        self.documents.append(where)
        self.sources[where] = content
        self._collect(root)
        return root

    def _collect(self, root: etree._Element) -> None:
        schemas = [root] if root.tag == f"{{{XSD_NS}}}schema" else []
        schemas += root.findall(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
        for schema in schemas:
            tns = schema.get("targetNamespace", "")
            for simple in schema.iterfind(f"{{{XSD_NS}}}simpleType[@name]"):
                values = [
                    str(e.get("value"))
                    for e in simple.iterfind(f"{{{XSD_NS}}}restriction/{{{XSD_NS}}}enumeration")
                ]
                if values:
                    self.enums[f"{{{tns}}}{simple.get('name')}"] = tuple(values)
        if root.tag != f"{{{WSDL_NS}}}definitions":
            return
        tns = root.get("targetNamespace", "")
        for kind in ("portType", "binding"):
            for owner in root.iterfind(f"{{{WSDL_NS}}}{kind}[@name]"):
                for op in owner.iterfind(f"{{{WSDL_NS}}}operation[@name]"):
                    text = _doc_text(op)
                    if text:
                        key = (f"{{{tns}}}{owner.get('name')}", str(op.get("name")))
                        self.operation_docs.setdefault(key, text)
        for service in root.iterfind(f"{{{WSDL_NS}}}service[@name]"):
            text = _doc_text(service)
            if text:
                self.service_docs[str(service.get("name"))] = text


def _doc_text(node: etree._Element) -> str | None:
    doc = node.find(f"{{{WSDL_NS}}}documentation")
    if doc is None:
        return None
    text = " ".join("".join(str(t) for t in doc.itertext()).split())
    return text or None


@dataclass(frozen=True)
class WsdlContract:
    """A parsed WSDL: zeep's ``Document`` plus what zeep does not keep."""

    document: Any  # zeep.wsdl.Document
    settings: Any  # zeep.settings.Settings
    location: str
    documents: tuple[str, ...]
    enums: dict[str, tuple[str, ...]]
    operation_docs: dict[tuple[str, str], str]
    service_docs: dict[str, str]
    parse_seconds: float
    #: what zeep warned about and skipped while parsing
    warnings: tuple[str, ...] = ()
    #: each document's bytes, by location (for checking responses against the XSDs)
    sources: dict[str, bytes] = field(default_factory=dict, repr=False)


# -- the loader (a zeep transport) ---------------------------------------------------------


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


class _Loader:
    """The zeep transport that fetches WSDL/XSD documents (zeep calls ``load``)."""

    def __init__(
        self,
        core: Callable[[], HttpCore],
        entry: str,
        *,
        trusted: Iterable[str],
        max_size: int | None,
        local: bool,
    ) -> None:
        self.make_core: Callable[[], HttpCore] | None = core
        self.core: HttpCore | None = None
        self.entry = entry
        self.max_size = max_size
        self.scan = _Scan()
        hosts, dirs = set(), []
        for item in trusted:
            if "/" in item or os.sep in item:
                dirs.append(Path(item).expanduser().resolve())
            else:
                hosts.add(item.lower())
        self.trusted_hosts = frozenset(hosts)
        self.trusted_dirs = tuple(dirs)
        # a WSDL given as bytes has no directory: it may only import URLs it trusts
        self.root_dir = Path(entry).resolve().parent if local else None

    def load(self, url: str) -> bytes:
        """Fetch ``url`` if the import rules allow it; check it; return its bytes."""
        entry = url == self.entry
        if url.lower().startswith("file:"):
            url = unquote(urlsplit(url).path)
        if _is_url(url):
            same = _is_url(self.entry) and same_origin(url, self.entry)
            if not (entry or same or self._trusted_host(url)):
                raise self._refused(url)
            content = self._fetch(url, same_origin=entry or same)
        else:
            path = Path(url).expanduser().resolve()
            # a WSDL on disk imports what its family ships beside it, as zeep does
            # (ONVIF reaches ../../xmlmime from a sibling folder): any regular file,
            # which must then parse as a WSDL or an XML Schema (_Scan.add refuses the
            # rest without quoting it). A WSDL fetched from a URL never reads local files.
            local_family = self.root_dir is not None and path.is_file()
            allowed = entry or local_family or any(
                _within(path, root)
                for root in (*(() if self.root_dir is None else (self.root_dir,)),
                             *self.trusted_dirs)
            )  # fmt: skip
            if not allowed:
                raise self._refused(url)
            content = self._read(path)
        offer(content, self.scan.add(url, content, entry=entry))  # zeep parses it once
        return content

    def _trusted_host(self, url: str) -> bool:
        try:
            return origin(url)[1] in self.trusted_hosts
        except ValueError:
            return False

    def _refused(self, url: str) -> SpecError:
        where = "its own origin" if _is_url(self.entry) else "its own directory"
        return SpecError(
            f"The WSDL {mask_url(self.entry)} imports {mask_url(url)}, outside {where}. "
            "Imports are only followed there, so a WSDL cannot make the client fetch arbitrary "
            "URLs or files. If you "
            "trust that location, pass trusted_locations=[<host or directory>]."
        )

    def _read(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if self.max_size is not None and size > self.max_size:
                raise SpecError(
                    f"{path} is {size:,} bytes, over max_response_size={self.max_size:,}"
                )
            return path.read_bytes()
        except OSError as exc:
            raise SpecError(f"Cannot read the WSDL document {path}: {exc.strerror}") from exc

    def _fetch(self, url: str, *, same_origin: bool) -> bytes:
        if self.core is None and self.make_core is not None:
            self.core = self.make_core()  # only now: an HTTP client costs ~40 ms (TLS setup)
        core = self.core
        if core is None:
            raise SpecError(f"this WSDL was already parsed; {mask_url(url)} was not loaded")
        request = core.build_request("GET", url, headers={"Accept": "text/xml, */*"})
        exchange = core.send(
            request, protocol="soap", operation="WSDL", auth="default" if same_origin else None
        )
        if exchange.status >= 400:
            hint = {
                401: " Pass auth= with the service's credentials (Basic(...)).",
                403: " The credentials are not allowed to read it.",
                404: " Check the URL (many services serve it at ?wsdl).",
            }.get(exchange.status, "")
            raise HTTPStatusError(
                f"Fetching the WSDL document {mask_url(url)} failed: {exchange.status} "
                f"{exchange.reason}.{hint}",
                exchange=exchange,
            )
        return exchange.content


# -- parsing and the cache -------------------------------------------------------------------

_CACHE: OrderedDict[tuple[Any, ...], WsdlContract] = OrderedDict()
_LOCK = threading.Lock()
_STATS = {"hits": 0, "misses": 0}


def clear_wsdl_cache() -> None:
    """Forget every parsed WSDL; the next client parses (and fetches) again."""
    with _LOCK:
        _CACHE.clear()
        _STATS.update(hits=0, misses=0)


def wsdl_cache_info() -> dict[str, int]:
    """``{"hits": .., "misses": .., "size": .., "maxsize": ..}`` of the parse cache."""
    with _LOCK:
        return {**_STATS, "size": len(_CACHE), "maxsize": CACHE_SIZE}


def _source(wsdl: str | os.PathLike[str] | bytes) -> tuple[str, tuple[Any, ...], bytes | None]:
    """``(location, cache key, raw content or None)`` for a ``wsdl=`` argument."""
    if isinstance(wsdl, bytes | bytearray):
        content = bytes(wsdl)
        return "<wsdl bytes>", ("bytes", hashlib.sha256(content).hexdigest()), content
    if isinstance(wsdl, str) and wsdl.lstrip().startswith("<"):
        content = wsdl.encode("utf-8")
        return "<wsdl text>", ("bytes", hashlib.sha256(content).hexdigest()), content
    if not isinstance(wsdl, str | os.PathLike):
        raise ConfigError(
            f"wsdl= takes a URL, a file path or the WSDL's bytes, not {type(wsdl).__name__}"
        )
    text = os.fspath(wsdl)
    if _is_url(text):
        return text, ("url", text), None
    if text.lower().startswith("file:"):
        text = unquote(urlsplit(text).path)
    if "://" in text:
        raise ConfigError(f"wsdl= must be an http(s) URL or a local path, not {mask_url(text)}")
    if not text.strip():
        raise ConfigError("wsdl= is empty: pass a URL, a file path or the WSDL's text")
    try:
        path = Path(text).expanduser().resolve()
        stat = path.stat()
    except (OSError, RuntimeError, ValueError):  # missing, too long, ~nosuchuser, NUL
        raise ConfigError(f"WSDL file {text[:200]!r} does not exist") from None
    return str(path), ("file", str(path), stat.st_mtime_ns, stat.st_size), None


def load_contract(
    wsdl: str | os.PathLike[str] | bytes,
    *,
    core: Callable[[], HttpCore],
    strict: bool,
    trusted_locations: Iterable[str],
    max_size: int | None,
    close_core: bool = True,
) -> tuple[WsdlContract, bool]:
    """The parsed contract for ``wsdl`` and whether it came from the cache.

    ``core`` makes the HTTP core that fetches remote documents (called only if
    one is needed); it is closed afterwards when ``close_core`` is true (when
    it does not share a transport with the caller).

    Raises:
        SpecError: the WSDL (or an import) is unsafe, malformed or not a WSDL.
        HTTPStatusError: fetching a document failed with a 4xx/5xx status.
        TransportError: no response arrived for a document.
    """
    location, key, content = _source(wsdl)
    trusted = tuple(sorted(str(t) for t in trusted_locations))
    key = (*key, strict, trusted)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            _STATS["hits"] += 1
            return cached, True
        _STATS["misses"] += 1
    contract = _parse(location, content, core=core, strict=strict, trusted=trusted,
                      max_size=max_size, close_core=close_core)  # fmt: skip
    with _LOCK:
        _CACHE[key] = contract
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return contract, False


def _parse(
    location: str,
    content: bytes | None,
    *,
    core: Callable[[], HttpCore],
    strict: bool,
    trusted: tuple[str, ...],
    max_size: int | None,
    close_core: bool,
) -> WsdlContract:
    settings = zeep_attr("zeep.settings", "Settings")(
        strict=strict,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=False,  # the loader enforces its own same-origin rule
        xml_huge_tree=False,
    )
    document_cls = zeep_attr("zeep.wsdl", "Document")
    local = content is None and not _is_url(location)
    loader = _Loader(core, location, trusted=trusted, max_size=max_size, local=local)
    started = time.perf_counter()
    try:
        with sharing(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if content is not None:
                loader.scan.add(location, content, entry=True)
                document = document_cls(io.BytesIO(content), loader, settings=settings)
            else:
                document = document_cls(location, loader, settings=settings)
    except ApiNotebookError:
        raise
    except Exception as exc:  # zeep raises a dozen unrelated types for a bad contract
        raise SpecError(_zeep_message(location, exc)) from exc
    finally:
        # the cached Document keeps the loader: it must not keep this client's credentials
        if loader.core is not None and close_core:
            loader.core.close()
        loader.core = loader.make_core = None
    return WsdlContract(
        document=document,
        settings=settings,
        location=location,
        documents=tuple(loader.scan.documents),
        enums=loader.scan.enums,
        operation_docs=loader.scan.operation_docs,
        service_docs=loader.scan.service_docs,
        parse_seconds=time.perf_counter() - started,
        warnings=tuple(dict.fromkeys(mask_text(str(w.message)) for w in caught)),
        sources=loader.scan.sources,
    )


def _zeep_message(location: str, exc: Exception) -> str:
    name = type(exc).__name__
    if name in ("DTDForbidden", "EntitiesForbidden"):
        reason = "it declares a DTD or entities, which are refused (XXE / billion laughs)"
    else:
        reason = f"{name}: {mask_text(str(exc)) or 'no details'}"
    return f"Cannot read the WSDL {mask_url(location)}: {reason}"
