"""Arguments a SOAP call takes from a form or a notebook, in the shape zeep wants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from apinotebook._core.xml import parse_xml
from apinotebook._exceptions import ConfigError
from apinotebook.soap._signatures import SoapParam

__all__ = ["raw_xml_arguments"]


def raw_xml_arguments(params: Sequence[SoapParam], values: Mapping[str, Any]) -> dict[str, Any]:
    """XML text given for an ``xsd:any`` (the explorer's raw-XML field) as an element.

    zeep takes an lxml element for content it cannot model; a form sends text.
    Parsed with the one safe parser (no DTDs, no entities, no network).
    """
    out = dict(values)
    for param in params:
        branches = param.children if param.kind == "choice" else (param,)
        for p in branches:
            if p.name not in out:
                continue
            out[p.name] = _raw_xml_value(p, out[p.name])
    return out


def _raw_xml_value(param: SoapParam, value: Any) -> Any:
    if isinstance(value, list):
        return [_raw_xml_value(param, v) for v in value]
    if param.kind == "any" and isinstance(value, str) and value.lstrip().startswith("<"):
        try:
            return parse_xml(value.encode())
        except etree.XMLSyntaxError as exc:
            raise ConfigError(f"{param.name} takes XML; it is not well-formed: {exc}") from exc
    if param.children and isinstance(value, Mapping):
        return raw_xml_arguments(param.children, value)
    return value
