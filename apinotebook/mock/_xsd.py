"""XSD values for a SOAP mock, through zeep's type tree: made up, and checked.

:func:`make_value` builds keyword arguments for an element's type (required
children always, optional ones near the top, one branch of a choice, one
item of a list), deterministic per random source; zeep then serialises them
with the binding, so the envelope is what the WSDL describes.
:func:`check_element` walks a received element against its type and returns
the first problem: a missing required child, an element the type does not
have, or text that is not a value of its simple type, each named by its path.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

__all__ = ["check_element", "facets_of", "make_value"]

_MAX_DEPTH = 10
_OPTIONAL_DEPTH = 2
#: zeep's built-in type classes by name -> a value
_SIMPLE: dict[str, Any] = {
    "Boolean": True,
    "Decimal": Decimal("12.5"),
    "Float": 1.5,
    "Double": 2.5,
    "Duration": "P1D",
    "DateTime": dt.datetime(2024, 1, 2, 3, 4, 5),
    "Time": dt.time(3, 4, 5),
    "Date": dt.date(2024, 1, 2),
    "gYearMonth": "2024-01",
    "gYear": "2024",
    "gMonthDay": "--01-02",
    "gDay": "---02",
    "gMonth": "--01",
    "HexBinary": b"mock",
    "Base64Binary": b"mock",
    "AnyURI": "https://example.com/",
    "QName": "mock",
    "NegativeInteger": -1,
    "NonPositiveInteger": 0,
    "Integer": 1,
}
_WORDS = ("alpha", "bravo", "delta", "echo", "kilo", "lima", "nova", "orbit")


_XSD = "{http://www.w3.org/2001/XMLSchema}"
_NUMERIC_FACETS = {
    "minInclusive": "minimum",
    "maxInclusive": "maximum",
    "minExclusive": "exclusiveMinimum",
    "maxExclusive": "exclusiveMaximum",
}
_LENGTH_FACETS = {"length": ("minLength", "maxLength"), "minLength": ("minLength",),
                  "maxLength": ("maxLength",)}  # fmt: skip


def facets_of(documents: Iterable[etree._Element]) -> dict[str, dict[str, Any]]:
    """The facets of every named simple type, as JSON Schema keywords, by local name.

    zeep parses restrictions but keeps no facets; a mock that answers
    ``currency: 'orbit-7'`` for ``<xsd:pattern value="[A-Z]{3}"/>`` would not
    validate against the WSDL's own schema.
    """
    out: dict[str, dict[str, Any]] = {}
    for root in documents:
        for simple in root.iter(f"{_XSD}simpleType"):
            name = simple.get("name")
            restriction = simple.find(f"{_XSD}restriction")
            if not name or restriction is None:
                continue
            schema: dict[str, Any] = {}
            enum = [e.get("value") for e in restriction.iter(f"{_XSD}enumeration")]
            if enum:
                schema["enum"] = enum
            for facet in restriction:
                tag = etree.QName(facet).localname if isinstance(facet.tag, str) else ""
                value = facet.get("value")
                if value is None:
                    continue
                if tag == "pattern":
                    schema["pattern"] = f"^(?:{value})$"
                elif tag in _LENGTH_FACETS and value.isdigit():
                    schema.update(dict.fromkeys(_LENGTH_FACETS[tag], int(value)))
                elif tag in _NUMERIC_FACETS:
                    try:
                        schema[_NUMERIC_FACETS[tag]] = float(value) if "." in value else int(value)
                    except ValueError:
                        continue
            if schema:
                out.setdefault(name, schema)
    return out


def _simple(xsd_type: Any, rng: random.Random, facets: Mapping[str, Mapping[str, Any]]) -> Any:
    facet = facets.get(_type_name(xsd_type))
    if facet:
        return _within(xsd_type, facet, rng)
    for cls in type(xsd_type).__mro__:
        name = cls.__name__
        if name in _SIMPLE:
            value = _SIMPLE[name]
            if name == "Integer" or issubclass(cls, int):
                return rng.randint(1, 100)
            return value
        if name == "String":
            return f"{rng.choice(_WORDS)}-{rng.randint(1, 999)}"
    return f"{rng.choice(_WORDS)}-{rng.randint(1, 999)}"


def _within(xsd_type: Any, facet: Mapping[str, Any], rng: random.Random) -> Any:
    """A value of ``xsd_type`` inside its facets, made by the JSON-schema generator."""
    from apinotebook.mock._generate import Generator

    names = {cls.__name__ for cls in type(xsd_type).__mro__}
    integer = "Integer" in names
    kind = (
        "integer" if integer else "number" if names & {"Decimal", "Float", "Double"} else "string"
    )
    value = Generator(rng.getrandbits(32)).value({"type": kind, **facet})
    if kind == "number" and "Decimal" in names:
        return Decimal(str(value))
    if kind == "string" and not isinstance(value, str):
        return str(value)
    return (
        int(value) if integer and isinstance(value, str) and value.lstrip("-").isdigit() else value
    )


def _is_complex(xsd_type: Any) -> bool:
    from zeep.xsd import ComplexType

    return isinstance(xsd_type, ComplexType)


def make_value(
    xsd_type: Any, rng: random.Random, facets: Mapping[str, Mapping[str, Any]], depth: int = 0
) -> Any:
    """A value zeep accepts for ``xsd_type`` (a dict for a complex type).

    ``facets`` maps a simple type's name to JSON Schema keywords for its facets
    (:func:`facets_of`): enumerations, patterns, lengths, bounds.
    """
    if not _is_complex(xsd_type):
        return _simple(xsd_type, rng, facets)
    out: dict[str, Any] = {}
    content = getattr(xsd_type, "_element", None)
    if content is not None:
        _fill(content, out, _Draw(rng, facets), depth)
    for name, attr in getattr(xsd_type, "attributes", []):
        if getattr(attr, "required", False) and getattr(attr, "type", None) is not None:
            out[name] = _simple(attr.type, rng, facets)
    return out


class _Draw:
    def __init__(self, rng: random.Random, facets: Mapping[str, Mapping[str, Any]]) -> None:
        self.rng, self.facets = rng, facets


def _fill(item: Any, out: dict[str, Any], draw: _Draw, depth: int, key: str = "") -> None:
    """Put keyword arguments for ``item`` into ``out``; ``key`` is zeep's name for it."""
    from zeep.xsd import Any as XsdAny
    from zeep.xsd import Choice, Element, Group

    required = getattr(item, "min_occurs", 1) != 0
    many = getattr(item, "max_occurs", 1) != 1
    if isinstance(item, XsdAny):
        if required and key:  # an element of any kind: one of ours
            value = etree.Element("{urn:apinotebook:mock}any")
            out[key] = [value] if many else value
        return
    if isinstance(item, Element):
        if (not required and depth >= _OPTIONAL_DEPTH) or depth > _MAX_DEPTH:
            return
        value = make_value(item.type, draw.rng, draw.facets, depth + 1)
        out[key or item.attr_name] = [value] if many else value
        return
    if isinstance(item, Group):
        _fill(item.child, out, draw, depth)
        return
    if isinstance(item, Choice):
        if required and len(item):
            _fill(item[0], out, draw, depth)
        return
    if key:  # a repeated sequence: zeep takes a list of dicts under its generated name
        if required:
            one: dict[str, Any] = {}
            _fill_items(item, one, draw, depth)
            out[key] = [one]
        return
    _fill_items(item, out, draw, depth)


def _fill_items(item: Any, out: dict[str, Any], draw: _Draw, depth: int) -> None:
    nested = getattr(item, "elements_nested", None)
    if nested is None:
        return
    for name, child in nested:
        _fill(child, out, draw, depth, name or "")


def check_element(xsd_type: Any, node: etree._Element, path: str) -> str | None:
    """The first problem of ``node`` against ``xsd_type``, or ``None``."""
    if not _is_complex(xsd_type):
        text = node.text or ""
        try:
            xsd_type.pythonvalue(text)
        except Exception:  # noqa: BLE001 - zeep raises what the parsing raises
            return f"{path}: {text[:40]!r} is not a valid {_type_name(xsd_type)}"
        return None
    content = getattr(xsd_type, "_element", None)
    children = [c for c in node if isinstance(c.tag, str)]
    names = [etree.QName(c).localname for c in children]
    expected: dict[str, Any] = {}
    required: list[str] = []
    open_content = content is None or _collect(content, expected, required, in_choice=False)
    for name in required:
        if name not in names:
            return f"{path}/{name}: the required element is missing"
    for child, name in zip(children, names, strict=True):
        if name not in expected:
            if open_content:
                continue
            return f"{path}/{name}: {name!r} is not an element of {_type_name(xsd_type)}"
        problem = check_element(expected[name], child, f"{path}/{name}")
        if problem:
            return problem
    return None


def _collect(item: Any, expected: dict[str, Any], required: list[str], *, in_choice: bool) -> bool:
    """Fill the element names a type allows; ``True`` when it also takes any element."""
    from zeep.xsd import Any as XsdAny
    from zeep.xsd import Choice, Element, Group

    if isinstance(item, XsdAny):
        return True
    if isinstance(item, Element):
        name = str(item.name)
        expected[name] = item.type
        if item.min_occurs != 0 and not in_choice:
            required.append(name)
        return False
    if isinstance(item, Group):
        return _collect(item.child, expected, required, in_choice=in_choice)
    choice = in_choice or isinstance(item, Choice) or getattr(item, "min_occurs", 1) == 0
    found = False
    for child in item if isinstance(item, list) else []:
        found = _collect(child, expected, required, in_choice=choice) or found
    return found


def _type_name(xsd_type: Any) -> str:
    qname = getattr(xsd_type, "qname", None)
    return str(getattr(qname, "localname", None) or type(xsd_type).__name__)
