"""Paths into a response body, written three ways: JSONPath, XPath and one line of Python.

The inspector's tree identifies a node by its *path*: the keys and list
indexes from the root (JSON), or the indexes among element children (XML).
This module turns such a path into what a person copies:

>>> jsonpath(["data", 3, "email"])
'$.data[3].email'
>>> python_access(["data", 3, "email"])
'["data"][3]["email"]'
>>> json_snippet("rest", "json", ["data", 3, "email"], name="ex")
'ex.json()["data"][3]["email"]'

GraphQL bodies map ``$.data...`` onto ``ex.data[...]`` and ``$.errors`` onto
``ex.errors``; SOAP results are ``ex.data[...]`` and faults ``ex.fault[...]``.
Nothing here imports Jupyter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "XmlStep",
    "json_snippet",
    "jsonpath",
    "python_access",
    "py_str",
    "xml_snippet",
    "xpath",
]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def py_str(text: str) -> str:
    """``text`` as a Python string literal, double-quoted when that is possible."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def _jsonpath_key(key: str) -> str:
    if _IDENT.fullmatch(key):
        return f".{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"


def jsonpath(path: Sequence[str | int]) -> str:
    """The JSONPath of ``path``: ``$.data[3].email``, ``$['odd key']``."""
    parts = ["$"]
    for key in path:
        parts.append(f"[{key}]" if isinstance(key, int) else _jsonpath_key(str(key)))
    return "".join(parts)


def python_access(path: Sequence[str | int]) -> str:
    """Subscripts that follow ``path`` in Python: ``["data"][3]["email"]``."""
    return "".join(f"[{key}]" if isinstance(key, int) else f"[{py_str(str(key))}]" for key in path)


def json_snippet(protocol: str, view: str, path: Sequence[str | int], *, name: str = "ex") -> str:
    """One line of Python that extracts ``path`` from exchange ``name``.

    Args:
        protocol: the exchange's protocol (``rest``, ``graphql``, ``soap``).
        view: which tree the path walks: ``json`` (the parsed body),
            ``data`` (``ex.data``) or ``fault`` (``ex.fault``).
        path: keys and indexes from the root of that tree.
        name: the variable holding the exchange.
    """
    if view == "data":
        return f"{name}.data{python_access(path)}"
    if view == "fault":
        return f"{name}.fault{python_access(path)}"
    if protocol == "graphql" and path and path[0] == "data":
        return f"{name}.data{python_access(path[1:])}"
    if protocol == "graphql" and path and path[0] == "errors":
        return f"{name}.errors{python_access(path[1:])}"
    return f"{name}.json(){python_access(path)}"


@dataclass(frozen=True, slots=True)
class XmlStep:
    """One element on the way down an XML document."""

    namespace: str | None
    local: str
    prefix: str | None
    #: 1-based position among siblings with the same name
    position: int
    #: how many siblings share the name (the predicate is left out when 1)
    same_named: int


def _prefixes(steps: Sequence[XmlStep]) -> dict[str, str]:
    """A prefix for every namespace on the path (documents' own prefixes first)."""
    by_uri: dict[str, str] = {}
    used: set[str] = set()
    for step in steps:
        if step.namespace and step.prefix and step.namespace not in by_uri:
            if step.prefix not in used:
                by_uri[step.namespace] = step.prefix
                used.add(step.prefix)
    counter = 0
    for step in steps:
        if step.namespace and step.namespace not in by_uri:
            while f"ns{counter}" in used:
                counter += 1
            by_uri[step.namespace] = f"ns{counter}"
            used.add(f"ns{counter}")
    return by_uri


def xpath(steps: Sequence[XmlStep]) -> tuple[str, dict[str, str]]:
    """The XPath of an element and the namespace prefixes it uses.

    >>> xpath([XmlStep("urn:e", "Envelope", "soap", 1, 1)])
    ('/soap:Envelope', {'soap': 'urn:e'})
    """
    by_uri = _prefixes(steps)
    parts: list[str] = []
    for step in steps:
        name = f"{by_uri[step.namespace]}:{step.local}" if step.namespace else step.local
        if step.same_named > 1:
            name += f"[{step.position}]"
        parts.append(name)
    namespaces = {prefix: uri for uri, prefix in by_uri.items()}
    return "/" + "/".join(parts), namespaces


def xml_snippet(
    steps: Sequence[XmlStep], *, leaf: bool, name: str = "ex", source: str = "content"
) -> str:
    """One line of Python (lxml) that finds the element, or its text for a leaf."""
    path, namespaces = xpath(steps)
    if leaf:
        path += "/text()"
    args = py_str(path)
    if namespaces:
        args += f", namespaces={_dict_literal(namespaces)}"
    return f"etree.fromstring({name}.{source}).xpath({args})[0]"


def _dict_literal(values: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{py_str(k)}: {py_str(v)}" for k, v in values.items()) + "}"
