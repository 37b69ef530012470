"""What a SOAP operation takes and returns, read from zeep's parsed WSDL.

:class:`SoapParam` and :class:`SoapOperation` are plain frozen values built
from zeep's binding operations (``operation.input.body.type`` and its XSD
particles), so the notebook can show a signature such as
``GetInvoice(invoiceId: string) -> Invoice`` and a tree of nested types
without the user learning zeep's object model.

Rules:

- a parameter is *optional* when ``minOccurs="0"`` (or an attribute is not
  ``use="required"``), *repeated* when ``maxOccurs`` is above 1 or
  ``unbounded``;
- ``type_name`` is the XSD type's local name (``InvoiceId``, ``Invoice``,
  ``string``); ``base_type`` is the built-in XSD type a simple type derives
  from (``string`` for ``InvoiceId``), which is what you pass from Python;
- enumerations are read from the schema documents themselves (zeep drops
  facets), for named simple types;
- an ``xsd:choice`` becomes one parameter of kind ``"choice"`` whose children
  are the alternatives (pass exactly one of them by name); ``xsd:any`` becomes
  a parameter of kind ``"any"``;
- recursive types stop expanding where they repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["SoapOperation", "SoapParam", "build_operation"]

ParamKind = Literal["element", "attribute", "choice", "any"]

#: Enumerations longer than this show as the type name in signatures.
_MAX_ENUM_IN_SIGNATURE = 6
_MAX_DEPTH = 12
#: built-in types whose defaults read as Python literals without quotes
_UNQUOTED = frozenset(
    {"int", "integer", "long", "short", "byte", "decimal", "float", "double", "boolean",
     "nonNegativeInteger", "positiveInteger", "unsignedInt", "unsignedLong", "unsignedShort"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SoapParam:
    """One element, attribute or choice of an operation's input or output.

    Attributes:
        name: the keyword to pass (for a choice, the alternatives joined by ``|``).
        type_name: the XSD type's local name (``Invoice``, ``InvoiceId``, ``string``).
        optional: ``minOccurs="0"`` (or an attribute that is not required).
        repeated: ``maxOccurs`` above 1 or ``unbounded``: pass a list.
        children: the fields of a complex type, the options of a choice.
        default: the schema's ``default`` value, if any.
        enum: the allowed values of an enumerated simple type.
        base_type: the built-in XSD type of a simple type (``string``, ``int``,
            ``date``), ``None`` for complex types.
        kind: ``"element"``, ``"attribute"``, ``"choice"`` or ``"any"``.
    """

    name: str
    type_name: str
    optional: bool = False
    repeated: bool = False
    children: tuple[SoapParam, ...] = ()
    default: str | None = None
    enum: tuple[str, ...] = ()
    base_type: str | None = None
    kind: ParamKind = "element"

    def annotation(self) -> str:
        """The type as shown in a signature: ``string``, ``Item[]``, ``'A'|'B'``."""
        if self.kind == "choice":
            return " | ".join(f"{c.name}: {c.annotation()}" for c in self.children)
        if self.enum and len(self.enum) <= _MAX_ENUM_IN_SIGNATURE:
            text = "|".join(repr(v) for v in self.enum)
        else:
            text = self.base_type if self.base_type and not self.children else self.type_name
        return f"{text}[]" if self.repeated else text

    def render(self) -> str:
        """``name: type``, with ``= default`` or ``= None`` for optional ones."""
        if self.kind == "choice":
            text = f"({self.annotation()})"
            return f"{text} = None" if self.optional else text
        text = f"{self.name}: {self.annotation()}"
        if self.default is not None:
            quoted = self.enum or self.base_type not in _UNQUOTED
            return f"{text} = {self.default!r}" if quoted else f"{text} = {self.default}"
        return f"{text} = None" if self.optional else text

    def describe(self, indent: int = 0) -> str:
        """This parameter and its children as an indented tree."""
        notes = []
        if self.kind == "attribute":
            notes.append("attribute")
        if self.optional:
            notes.append("optional")
        if self.repeated:
            notes.append("repeated")
        if self.enum:
            notes.append("one of " + ", ".join(self.enum))
        if self.default is not None:
            notes.append(f"default {self.default!r}")
        if self.kind == "choice":
            head = "choice of:"
        else:
            shown = self.type_name
            if self.base_type and self.base_type != self.type_name and not self.children:
                shown = f"{self.type_name} ({self.base_type})"
            head = f"{self.name}: {shown}"
        line = "  " * indent + head + (f"  [{'; '.join(notes)}]" if notes else "")
        return "\n".join([line, *(c.describe(indent + 1) for c in self.children)])


@dataclass(frozen=True, slots=True)
class SoapOperation:
    """One operation of a SOAP port: its parameters, result and SOAPAction.

    Attributes:
        service: the ``wsdl:service`` name (``None`` for a bare binding).
        port: the ``wsdl:port`` name.
        name: the operation name, as passed to :meth:`SoapClient.call`.
        documentation: the WSDL's ``wsdl:documentation`` for the operation.
        input: the keyword parameters, as a tree.
        output: the result after unwrapping (see :mod:`apinotebook.soap`),
            ``None`` for a one-way operation or an empty response.
        soap_action: the ``soapAction`` of the binding operation.
        soap_version: ``"1.1"`` or ``"1.2"``.
        style: ``"document"`` or ``"rpc"``.
    """

    service: str | None
    port: str | None
    name: str
    documentation: str | None
    input: tuple[SoapParam, ...]
    output: SoapParam | None
    soap_action: str | None
    soap_version: str = "1.1"
    style: str = "document"

    def signature(self) -> str:
        """``GetInvoice(invoiceId: string) -> Invoice``."""
        params = ", ".join(p.render() for p in self.input)
        result = self.output.annotation() if self.output is not None else "None"
        return f"{self.name}({params}) -> {result}"

    def describe(self) -> str:
        """The signature, the documentation and both parameter trees, as text."""
        lines = [self.signature()]
        if self.documentation:
            lines.append(f"  {self.documentation}")
        lines.append("  input:")
        lines.extend(p.describe(2) for p in self.input)
        if not self.input:
            lines.append("    (no parameters)")
        lines.append("  output:")
        lines.append(self.output.describe(2) if self.output else "    (nothing)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<SoapOperation {self.signature()}>"


# -- building from zeep ----------------------------------------------------------------


class _Builder:
    """Turns zeep XSD objects into :class:`SoapParam` trees."""

    def __init__(self, enums: Mapping[str, tuple[str, ...]]) -> None:
        self.enums = enums

    def params_of_type(self, xsd_type: Any, seen: frozenset[int], depth: int) -> list[SoapParam]:
        """The fields (elements, choices, attributes) of a complex type."""
        out: list[SoapParam] = []
        if depth > _MAX_DEPTH or id(xsd_type) in seen:
            return out
        seen = seen | {id(xsd_type)}
        particle = getattr(xsd_type, "_element", None)
        if particle is not None:
            out.extend(self.particle(particle, seen, depth, optional=False))
        elif getattr(xsd_type, "elements", None):
            for _, element in xsd_type.elements:
                out.extend(self.particle(element, seen, depth, optional=False))
        for name, attribute in getattr(xsd_type, "attributes", None) or ():
            if type(attribute).__name__ == "AnyAttribute" or not hasattr(attribute, "type"):
                # xsd:anyAttribute: any attributes, passed as a dict under this name
                out.append(
                    SoapParam(name=str(name), type_name="anyAttribute", optional=True, kind="any")
                )
            else:
                out.append(self.attribute(name, attribute))
        return out

    def particle(
        self, node: Any, seen: frozenset[int], depth: int, *, optional: bool
    ) -> Iterable[SoapParam]:
        """Params for an element, an ``xsd:any`` or a sequence/all/choice/group."""
        kind = type(node).__name__
        min_occurs, max_occurs = getattr(node, "min_occurs", 1), getattr(node, "max_occurs", 1)
        opt = optional or min_occurs == 0
        if kind in ("Any", "AnyAttribute"):
            return [SoapParam(name="_value_1", type_name="any", optional=opt,
                              repeated=_repeated(max_occurs), kind="any")]  # fmt: skip
        if kind == "Choice":
            options: list[SoapParam] = []
            for child in node:
                options.extend(self.particle(child, seen, depth + 1, optional=False))
            return [
                SoapParam(
                    name="|".join(o.name for o in options),
                    type_name="choice",
                    optional=opt,
                    repeated=_repeated(max_occurs),
                    children=tuple(options),
                    kind="choice",
                )
            ]
        if kind == "Group":
            return self.particle(node.child, seen, depth, optional=opt)
        if kind in ("Sequence", "All"):
            result: list[SoapParam] = []
            for child in node:
                result.extend(self.particle(child, seen, depth, optional=opt))
            return result
        if hasattr(node, "type") and getattr(node, "name", None):
            return [self.element(node, seen, depth, optional=opt)]
        return []

    def element(self, element: Any, seen: frozenset[int], depth: int, *, optional: bool) -> (
        SoapParam
    ):  # fmt: skip
        """A param for one ``xsd:element``."""
        xsd_type = element.type
        children: tuple[SoapParam, ...] = ()
        if _is_complex(xsd_type):
            children = tuple(self.params_of_type(xsd_type, seen, depth + 1))
        default = getattr(element, "default", None)
        return SoapParam(
            name=str(element.name),
            type_name=_type_name(xsd_type, fallback=str(element.name)),
            optional=optional or getattr(element, "min_occurs", 1) == 0,
            repeated=_repeated(getattr(element, "max_occurs", 1)),
            children=children,
            default=None if default is None else str(default),
            enum=self.enum_of(xsd_type),
            base_type=None if _is_complex(xsd_type) else _base_type(xsd_type),
        )

    def attribute(self, name: str, attribute: Any) -> SoapParam:
        """A param for one ``xsd:attribute``."""
        xsd_type = attribute.type
        default = getattr(attribute, "default", None)
        return SoapParam(
            name=name,
            type_name=_type_name(xsd_type, fallback=name),
            optional=not getattr(attribute, "required", False),
            default=None if default is None else str(default),
            enum=self.enum_of(xsd_type),
            base_type=_base_type(xsd_type),
            kind="attribute",
        )

    def enum_of(self, xsd_type: Any) -> tuple[str, ...]:
        """Enumeration values of a named simple type, when the schema lists them."""
        qname = getattr(xsd_type, "qname", None)
        text = getattr(qname, "text", None)
        return self.enums.get(text, ()) if isinstance(text, str) else ()


def _is_complex(xsd_type: Any) -> bool:
    return hasattr(xsd_type, "elements_nested") or type(xsd_type).__name__ == "ComplexType"


def _repeated(max_occurs: Any) -> bool:
    return max_occurs == "unbounded" or (isinstance(max_occurs, int) and max_occurs > 1)


def _type_name(xsd_type: Any, *, fallback: str) -> str:
    qname = getattr(xsd_type, "qname", None)
    local = getattr(qname, "localname", None)
    return str(local) if local else fallback


def _base_type(xsd_type: Any) -> str | None:
    """The built-in XSD type a (possibly restricted) simple type derives from."""
    for cls in type(xsd_type).__mro__:
        if cls.__module__ == "zeep.xsd.types.builtins" and "_default_qname" in vars(cls):
            return str(vars(cls)["_default_qname"]).rpartition("}")[2] or None
    return _type_name(xsd_type, fallback="") or None


def _output_param(message: Any, builder: _Builder) -> SoapParam | None:
    """The result as :meth:`SoapClient.call` returns it (wrapper unwrapped)."""
    body = getattr(message, "body", None)
    if body is None:
        return None
    wrapper = builder.element(body, frozenset(), 0, optional=False)
    xsd_type = body.type
    elements = [c for c in wrapper.children if c.kind != "attribute"]
    attributes = [c for c in wrapper.children if c.kind == "attribute"]
    if not wrapper.children and _is_complex(xsd_type):
        return None
    if len(elements) != 1 or attributes or elements[0].kind != "element":
        return wrapper
    # zeep unwraps once more: a single non-repeated complex child with one element
    result = elements[0]
    inner = [c for c in result.children if c.kind != "attribute"]
    if (
        not result.repeated
        and len(inner) == 1 == len(result.children)
        and inner[0].kind == ("element")
    ):
        return inner[0]
    return result


def build_operation(
    operation: Any,
    *,
    service: str | None,
    port: str | None,
    documentation: str | None,
    enums: Mapping[str, tuple[str, ...]],
) -> SoapOperation:
    """A :class:`SoapOperation` for one zeep binding operation."""
    builder = _Builder(enums)
    params: tuple[SoapParam, ...] = ()
    body = getattr(operation.input, "body", None) if operation.input is not None else None
    try:
        if body is not None:
            if _is_complex(body.type):
                params = tuple(builder.params_of_type(body.type, frozenset(), 0))
            else:  # a bare simple-typed body element: one parameter named after it
                params = (builder.element(body, frozenset(), 0, optional=False),)
    except (AttributeError, TypeError, ValueError, LookupError):
        # a construct zeep parses but this model cannot describe: the body is raw XML
        params = (SoapParam(name="_value_1", type_name="xml", optional=True, kind="any"),)
    try:
        output = _output_param(operation.output, builder) if operation.output is not None else None
    except (AttributeError, TypeError, ValueError, LookupError):
        output = SoapParam(name="result", type_name="xml", kind="any")
    version = "1.2" if type(operation.binding).__name__ == "Soap12Binding" else "1.1"
    return SoapOperation(
        service=service,
        port=port,
        name=str(operation.name),
        documentation=documentation,
        input=params,
        output=output,
        soap_action=operation.soapaction or None,
        soap_version=version,
        style=str(getattr(operation, "style", None) or "document"),
    )
