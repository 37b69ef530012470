"""The one safe XML parser: no DTDs, no entity expansion, no network.

Every XML document apinotebook reads (WSDLs and their imports, SOAP and XML
responses, bodies shown in the widgets, the sandbox's SOAP requests) goes
through :func:`safe_parser` or :func:`parse_xml`, so XXE and entity-expansion
defences live in one place.
"""

from __future__ import annotations

from lxml import etree

__all__ = [
    "SOAP11_ENV_NS",
    "SOAP12_ENV_NS",
    "WSDL_NS",
    "XSD_NS",
    "declares_dtd",
    "has_dtd",
    "parse_xml",
    "safe_parser",
]

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
SOAP11_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV_NS = "http://www.w3.org/2003/05/soap-envelope"

#: documents larger than this need lxml's ``huge_tree`` (deep or very long text nodes)
HUGE = 8 * 1024 * 1024


def safe_parser(
    *, remove_blank_text: bool = False, keep_comments: bool = False, huge: bool = False
) -> etree.XMLParser:
    """An lxml parser that never loads DTDs, expands entities or touches the network.

    Args:
        remove_blank_text: drop ignorable whitespace (for pretty-printing).
        keep_comments: keep comments and processing instructions (for display).
        huge: allow lxml's huge trees (for bodies larger than 8 MB).
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge,
        remove_blank_text=remove_blank_text,
        remove_comments=not keep_comments,
        remove_pis=not keep_comments,
    )


def parse_xml(content: bytes, *, remove_blank_text: bool = False) -> etree._Element:
    """The document element of ``content``, parsed safely.

    Raises:
        lxml.etree.XMLSyntaxError: not well-formed XML (callers map it to their error).
    """
    parser = safe_parser(remove_blank_text=remove_blank_text, huge=len(content) > HUGE)
    return etree.fromstring(content, parser=parser)


def declares_dtd(content: bytes) -> bool:
    """Whether raw XML bytes declare a DOCTYPE (for bodies lxml could not even parse)."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return b"<!doctype" in head.lower()


def has_dtd(root: etree._Element) -> bool:
    """Whether the document declares a DOCTYPE (internal subset included)."""
    info = root.getroottree().docinfo
    return bool(getattr(info, "doctype", None)) or info.internalDTD is not None
