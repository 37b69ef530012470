"""What a user does with one corpus file, through apinotebook and through the raw library.

Each ``probe_*`` function takes a path and returns a plain dict (JSON-ready);
it raises whatever apinotebook raises, so the caller (``run.py``'s worker)
classifies the outcome. Each ``raw_*`` function does the raw library's own
load of the same file and reports whether it accepted it and how long it took.

Only the public API is used: ``apinotebook``'s top-level names and
``apinotebook.widgets``. The explorers are driven through their message
protocol (the ``type`` of a front-end message), as the browser does.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

#: how many operations' forms / requests at most per file (the slow part of huge files)
MAX_OPERATIONS = 5000
_DEPTH = 6


class ExplorerError(Exception):
    """The explorer answered a message with an ``error`` reply."""


class ProbeRejected(Exception):
    """apinotebook refused something built from the file's own description."""


def ask(widget: Any, kind: str, **fields: Any) -> dict[str, Any]:
    """Send one front-end message; an ``error`` reply raises :class:`ExplorerError`.

    The panel's handler is called directly when it exists, so an exception
    keeps its type and traceback (``handle_message`` folds it into a reply).
    """
    content = {"type": kind, "id": "corpus", **fields}
    panel = getattr(widget, "panel", widget)
    handler = getattr(panel, f"msg_{kind}", None)
    if handler is not None:
        return {"type": kind, **(handler(content) or {})}
    reply = widget.handle_message(content)
    if reply is None or reply.get("type") == "error":
        raise ExplorerError(str((reply or {}).get("message", "no reply")))
    return reply


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - t0


# -- SOAP ---------------------------------------------------------------------------------

_XSD_VALUES: dict[str, Any] = {
    "boolean": True,
    "date": dt.date(2024, 1, 2),
    "dateTime": dt.datetime(2024, 1, 2, 3, 4, 5),
    "time": dt.time(3, 4, 5),
    "decimal": Decimal("1.5"),
    "float": 1.5,
    "double": 1.5,
    "duration": "P1D",
    "base64Binary": b"corpus",
    "hexBinary": b"corpus",
    "anyURI": "http://example.com/",
    "gYear": "2024",
    "gYearMonth": "2024-01",
    "QName": "corpus",
}
_XSD_INTEGERS = frozenset(
    {"int", "integer", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
     "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte", "negativeInteger",
     "nonPositiveInteger"}
)  # fmt: skip


def soap_value(param: Any, depth: int = 0, *, raw_any: bool = True) -> Any:
    """A plausible value for one ``SoapParam`` (required children filled, recursively)."""
    if param.children and param.kind != "choice":
        value: Any = soap_arguments(param.children, depth + 1, raw_any=raw_any) \
            if depth < _DEPTH else {}  # fmt: skip
    elif param.enum:
        value = param.enum[0]
    else:
        base = param.base_type or param.type_name or "string"
        if base in _XSD_INTEGERS:
            value = -1 if base.startswith("negative") else 1
        else:
            value = _XSD_VALUES.get(base, "corpus")
    return [value] if param.repeated else value


def raw_xml() -> Any:
    """An element for an ``xsd:any`` (what zeep takes for content it cannot model)."""
    from lxml import etree

    return etree.fromstring("<corpus xmlns='urn:corpus'>raw</corpus>")


def soap_arguments(params: Any, depth: int = 0, *, raw_any: bool = True) -> dict[str, Any]:
    """Keyword arguments for the required parameters (a choice: its first branch).

    A required ``xsd:any`` gets an lxml element (``raw_any``) or, for the
    explorer's form, which sends JSON, the same element as XML text.
    """
    out: dict[str, Any] = {}
    for p in params:
        if p.optional:
            continue
        if p.kind == "choice":
            if p.children:
                first = p.children[0]
                out[first.name] = soap_value(first, depth, raw_any=raw_any)
            continue
        if p.kind == "any":
            out[p.name] = raw_xml() if raw_any else "<corpus xmlns='urn:corpus'/>"
            continue
        if p.default is not None:
            continue
        out[p.name] = soap_value(p, depth, raw_any=raw_any)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


def probe_wsdl(path: Path) -> dict[str, Any]:
    """Load, list every port's signatures, build one envelope, open the explorer's forms."""
    from apinotebook import SoapClient
    from apinotebook.widgets import WsdlExplorer

    step = {"step": "load"}
    client, load_s = _timed(SoapClient, path, history=None)
    info: dict[str, Any] = {"load_s": load_s, "steps": step}
    step["step"] = "operations"
    ports = [(s, p) for s, ps in client.services.items() for p in ps] or [(None, None)]
    signatures = 0
    for service, port in ports:
        on = client if (service, port) == (client.service, client.port) or service is None \
            else client.for_port(service, port)  # fmt: skip
        signatures += len([op.signature() for op in on.operations])
    info["ports"], info["operations"] = len(ports), signatures
    ops = client.operations
    if ops:
        step["step"] = "envelope"
        op = ops[0]
        args = soap_arguments(op.input)
        info["envelope_op"] = op.name
        info["envelope_bytes"] = len(client.build_envelope(op.name, args))
    step["step"] = "explorer"
    explorer = WsdlExplorer(client)
    forms = 0
    for service in explorer.panel.services:
        for port in service["ports"]:
            for op in port["operations"][:MAX_OPERATIONS]:
                ask(explorer, "operation", service=service["service"], port=port["port"],
                    name=op["name"])  # fmt: skip
                forms += 1
    info["forms"] = forms
    if ops and client.service is not None:
        values = _jsonable(soap_arguments(ops[0].input, raw_any=False))
        reply = ask(explorer, "preview", service=client.service, port=client.port,
                    name=ops[0].name, values=values)  # fmt: skip
        if reply.get("problem"):
            raise ProbeRejected(f"explorer preview of {ops[0].name}: {reply['problem']}")
    step["step"] = "done"
    return info


def raw_wsdl(path: Path) -> dict[str, Any]:
    """``zeep.Client(wsdl)`` with a short network timeout (the corpus is offline)."""
    import zeep
    from zeep.transports import Transport

    transport = Transport(timeout=5, operation_timeout=5)
    client, load_s = _timed(zeep.Client, str(path), transport=transport)
    soap = [
        b
        for b in client.wsdl.bindings.values()
        if type(b).__name__ in ("Soap11Binding", "Soap12Binding")
    ]
    ops = sum(len(binding._operations) for binding in soap)
    if not soap:  # zeep parses it, but there is no SOAP operation to call (HTTP or abstract)
        return {"rejects": "no SOAP 1.1/1.2 binding: nothing a SOAP client can call",
                "load_s": load_s}  # fmt: skip
    return {"load_s": load_s, "best_s": load_s, "operations": ops}


# -- GraphQL ------------------------------------------------------------------------------


def _leaf_fields(named: Any, limit: int = 3) -> list[str]:
    from graphql import is_leaf_type

    fields = getattr(named, "fields", None) or {}
    out = []
    for name, field in fields.items():
        required = any(_required(a) for a in field.args.values())
        if not required and is_leaf_type(_named(field.type)):
            out.append(name)
            if len(out) == limit:
                break
    return out


def _required(arg: Any) -> bool:
    from graphql import Undefined, is_non_null_type

    return is_non_null_type(arg.type) and arg.default_value is Undefined


def _named(type_: Any) -> Any:
    from graphql import get_named_type

    return get_named_type(type_)


def graphql_query(schema: Any) -> tuple[str, list[str]] | None:
    """A query on the first root field that has scalar leaves, and the path to toggle.

    Required arguments become variables. Returns ``(query text, toggle path)``,
    or ``None`` for a schema without a query root (nothing to query: explore only).
    """
    from graphql import is_leaf_type

    root = schema.query_type
    if root is None or not root.fields:
        return None
    candidates: list[tuple[str, Any, list[str]]] = []
    for name, field in root.fields.items():
        named = _named(field.type)
        if is_leaf_type(named):
            candidates.append((name, field, []))
        else:
            leaves = _leaf_fields(named)
            if leaves:
                candidates.append((name, field, leaves))
        if candidates:
            break
    if not candidates:
        name, field = next(iter(root.fields.items()))
        candidates.append((name, field, ["__typename"]))
    name, field, leaves = candidates[0]
    required = [(a, arg) for a, arg in field.args.items() if _required(arg)]
    decl = ", ".join(f"${a}: {arg.type}" for a, arg in required)
    call = ", ".join(f"{a}: ${a}" for a, _ in required)
    head = f"query CorpusProbe({decl})" if decl else "query CorpusProbe"
    body = f"{name}({call})" if call else name
    if leaves:
        body += " { " + " ".join(leaves) + " }"
    path = [name] + (leaves[:1] if leaves and leaves[0] != "__typename" else [])
    return f"{head} {{ {body} }}", path


def probe_graphql(path: Path) -> dict[str, Any]:
    """Load, validate a query built from the schema, open the explorer, toggle a field."""
    from apinotebook import GraphQLClient
    from apinotebook.widgets import SchemaExplorer

    step = {"step": "load"}
    info: dict[str, Any] = {"steps": step}
    client, info["load_s"] = _timed(
        GraphQLClient, url="http://127.0.0.1:9/graphql", schema=path, history=None
    )
    schema = client.schema
    info["types"] = len(schema.type_map)
    step["step"] = "validate"
    built = graphql_query(schema)
    if built is not None:
        query, toggle_path = built
        info["query"] = query
        problems = client.validate(query)
        if problems:
            raise ProbeRejected(f"validate({query!r}): {problems[:3]}")
    step["step"] = "explorer"
    explorer = SchemaExplorer(client)
    first = schema.query_type or next(
        t for n, t in schema.type_map.items() if not n.startswith("__")
    )
    ask(explorer, "type", name=first.name)
    ask(explorer, "search", query="id")
    if built is not None:
        reply = ask(explorer, "toggle", path=toggle_path, query="", variables={})
        if reply.get("problems"):
            raise ProbeRejected(f"explorer toggle {toggle_path}: {reply['problems'][:3]}")
        info["built"] = reply.get("query", "")
    else:
        info["no_query_root"] = True
    step["step"] = "done"
    return info


def raw_graphql(path: Path, protocol: str) -> dict[str, Any]:
    """graphql-core: build + ``validate_schema``; and the best load, validation skipped."""
    from graphql import build_client_schema, build_schema, validate_schema

    t0 = time.perf_counter()
    text = path.read_text(encoding="utf-8-sig")
    if protocol == "graphql-introspection":
        data = json.loads(text)
        data = data.get("data", data) if isinstance(data, dict) else data
        read_s = time.perf_counter() - t0
        _, best = _timed(build_client_schema, data, assume_valid=True)
        schema, build_s = _timed(build_client_schema, data)
    else:
        read_s = time.perf_counter() - t0
        _, best = _timed(build_schema, text, assume_valid=True, assume_valid_sdl=True)
        schema, build_s = _timed(build_schema, text)
    errors, check_s = _timed(validate_schema, schema)
    info = {"load_s": read_s + build_s + check_s, "best_s": read_s + best}
    if errors:
        info["rejects"] = "; ".join(e.message for e in errors[:3])[:400]
    return info


# -- OpenAPI ------------------------------------------------------------------------------


_JSON_TYPES: dict[Any, Any] = {"string": str, "integer": int, "number": int | float}


def json_placeholder(schema: Any, depth: int = 0) -> Any:
    """A small value that fits a (resolved) JSON schema: required properties filled."""
    if not isinstance(schema, dict) or depth > _DEPTH:
        return "corpus"
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            if key == "allOf":
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    value = json_placeholder(part, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
            return json_placeholder(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {
            name: json_placeholder(props.get(name, {}), depth + 1)
            for name in schema.get("required") or []
            if isinstance(name, str)
        }
    if kind == "array":
        return [json_placeholder(schema.get("items", {}), depth + 1)]
    example = schema.get("example")
    if example is not None and isinstance(example, _JSON_TYPES.get(kind, ())):
        return example
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1) or 1))
    if kind == "number":
        return float(schema.get("minimum", 1) or 1)
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    return {"date": "2024-01-02", "date-time": "2024-01-02T03:04:05Z", "uuid":
            "00000000-0000-4000-8000-000000000000", "email": "corpus@example.com",
            "uri": "http://example.com/", "binary": "corpus"}.get(fmt, "corpus")  # fmt: skip


def openapi_arguments(op: Any) -> dict[str, Any]:
    """Keyword arguments for an operation's required parameters and body."""
    args: dict[str, Any] = {}
    for p in op.parameters:
        if p.required:
            args[p.python_name or p.name] = json_placeholder(dict(p.schema or {}))
    body = op.request_body
    if body is not None:
        if body.fields:
            for f in body.fields:
                if f.required:
                    args[f.python_name or f.name] = json_placeholder(dict(f.schema or {}))
        elif body.required:
            kind = (body.content_type or "").split(";")[0].strip().lower()
            if kind.startswith("text/") or kind in ("application/octet-stream", "application/xml"):
                args["body"] = "corpus"  # not JSON: what a user passes is text or bytes
            else:
                args["body"] = json_placeholder(dict(body.schema or {}))
    return args


def probe_openapi(path: Path) -> dict[str, Any]:
    """Load, list operations, build one request per operation (nothing is sent)."""
    from apinotebook import ConfigError, RestClient

    step = {"step": "load"}
    info: dict[str, Any] = {"steps": step}
    try:
        client, info["load_s"] = _timed(RestClient.from_openapi, path)
    except ConfigError as exc:
        if "base_url" not in str(exc):
            raise
        info["needed_base_url"] = True
        client, info["load_s"] = _timed(
            RestClient.from_openapi, path, base_url="http://127.0.0.1:9"
        )
    step["step"] = "operations"
    ids = client.operations.ids()
    info["operations"] = len(ids)
    step["step"] = "requests"
    built = 0
    for op_id in ids[:MAX_OPERATIONS]:
        op = client.operation(op_id)
        client.prepare(op_id, **openapi_arguments(op))
        built += 1
    info["requests"] = built
    step["step"] = "contract"
    info.update(contract_examples(client))
    step["step"] = "done"
    return info


#: response examples checked per document (the biggest have tens of thousands)
MAX_EXAMPLES = 300


def _examples(op: Any, raw: Any) -> list[tuple[int, str, Any]]:
    """(status, media type, example) of an operation's JSON response examples (inline ones)."""
    out = []
    for status, response in (raw.get("responses") or {}).items():
        if not str(status).isdigit() or not isinstance(response, dict):
            continue
        for media, content in (response.get("content") or {}).items():
            if "json" not in str(media) or not isinstance(content, dict):
                continue
            if content.get("example") is not None:  # null: "no example", as GitHub writes it
                out.append((int(status), str(media), content["example"]))
            for named in (content.get("examples") or {}).values():
                if (
                    isinstance(named, dict)
                    and named.get("value") is not None
                    and "$ref" not in named
                ):
                    out.append((int(status), str(media), named["value"]))
    return out


def contract_examples(client: Any) -> dict[str, Any]:
    """Check the document's own JSON response examples against its response schemas.

    Each example becomes the body of an exchange of its operation and is
    checked with ``ex.check_contract``. An example that passes is then broken
    (a required property it has is removed): the check must find that, or the
    probe fails.
    """
    from apinotebook import Exchange, Request
    from apinotebook.contract import check_contract

    counts = {"contract_examples": 0, "contract_ok": 0, "contract_violated": 0,
              "contract_unchecked": 0, "contract_mutations_caught": 0}  # fmt: skip
    paths = client.spec.get("paths") or {}
    for op in client.operations:
        if counts["contract_examples"] >= MAX_EXAMPLES:
            break
        raw = (paths.get(op.path) or {}).get(op.method.lower())
        if not isinstance(raw, dict):
            continue
        for status, media, example in _examples(op, raw):
            ex = Exchange(
                protocol="rest",
                request=Request(op.method, "http://corpus.invalid" + op.path),
                status=status,
                headers={"content-type": media},
                content=json.dumps(example, default=str).encode(),
                operation=op.id,
            )
            result = check_contract(ex, client.document)
            counts["contract_examples"] += 1
            if not result.checked:
                counts["contract_unchecked"] += 1
                continue
            if not result.ok:
                counts["contract_violated"] += 1
                continue
            counts["contract_ok"] += 1
            response = next((r for r in op.responses if r.status == str(status)), None)
            schema = dict(response.schema or {}) if response else {}
            required = [k for k in schema.get("required") or () if isinstance(example, dict)
                        and k in example]  # fmt: skip
            if required and schema.get("type") == "object":
                broken = {k: v for k, v in example.items() if k != required[0]}
                bad = check_contract(ex.replace(content=json.dumps(broken, default=str).encode()),
                                     client.document)  # fmt: skip
                missing = f"{required[0]}"
                if not any(v.kind == "required" and v.path.endswith(missing)
                           for v in bad.violations):  # fmt: skip
                    raise AssertionError(
                        f"{op.id}: removing required {missing!r} from a valid example was not "
                        f"caught: {bad.summary()}"
                    )
                counts["contract_mutations_caught"] += 1
    return counts


def load_document(path: Path) -> Any:
    """The document as plain data: JSON, or YAML (libyaml's loader when present)."""
    text = path.read_bytes()
    if path.suffix == ".json":
        return json.loads(text)
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def raw_openapi(path: Path) -> dict[str, Any]:
    """A plain JSON/YAML load, then ``openapi_spec_validator.validate``."""
    from openapi_spec_validator import validate

    document, load_s = _timed(load_document, path)
    info: dict[str, Any] = {"load_s": load_s, "best_s": load_s}
    try:
        _, info["validate_s"] = _timed(validate, document, base_uri=path.as_uri())
    except Exception as exc:  # noqa: BLE001 - the validator's verdict, whatever its type
        info["rejects"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    return info


def warm_up(protocols: Sequence[str] = ()) -> None:
    """Import what the probes of these protocols use, so no file's times are import times."""
    import apinotebook.widgets as widgets

    if "wsdl" in protocols:
        import zeep  # noqa: F401

        from apinotebook import SoapClient  # noqa: F401

        _ = widgets.WsdlExplorer
    if any(p.startswith("graphql") for p in protocols):
        import graphql  # noqa: F401

        from apinotebook import GraphQLClient  # noqa: F401

        _ = widgets.SchemaExplorer
    if "openapi" in protocols:
        import openapi_spec_validator  # noqa: F401
        import yaml  # noqa: F401

        from apinotebook import RestClient  # noqa: F401


def probe(protocol: str, path: Path) -> dict[str, Any]:
    """Dispatch to the protocol's probe."""
    if protocol == "wsdl":
        return probe_wsdl(path)
    if protocol.startswith("graphql"):
        return probe_graphql(path)
    return probe_openapi(path)


def raw(protocol: str, path: Path) -> dict[str, Any]:
    """Dispatch to the protocol's raw library; ``rejects`` says why it refused the file."""
    try:
        if protocol == "wsdl":
            return raw_wsdl(path)
        if protocol.startswith("graphql"):
            return raw_graphql(path, protocol)
        return raw_openapi(path)
    except Exception as exc:  # noqa: BLE001 - the raw library's verdict, whatever its type
        return {"rejects": f"{type(exc).__name__}: {str(exc)[:300]}"}
