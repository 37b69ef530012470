"""OpenAPI 3.x / Swagger 2.0 documents into the model: one request per operation.

The requests keep their operation id: the notebook calls them through
``RestClient.from_openapi(spec)`` and ``api.call(operation_id, ...)``, so the
spec's own parameter handling, serialisation and base URL are used. Folders
are the operations' first tags.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apinotebook._exceptions import ApiNotebookError
from apinotebook.collections._model import (
    Collection,
    CollectionError,
    Folder,
    Note,
    Request,
    Variable,
)
from apinotebook.openapi import OpenAPIDocument, Operation

__all__ = ["is_openapi", "load_openapi", "placeholder"]


def is_openapi(data: Any) -> bool:
    """Whether ``data`` is an OpenAPI 3.x or Swagger 2.0 document."""
    return (
        isinstance(data, dict)
        and ("openapi" in data or "swagger" in data)
        and ("paths" in data or "webhooks" in data or "components" in data)
    )


def placeholder(schema: Any) -> Any:
    """An argument value for a required parameter: the example, the default, or by type."""
    if not isinstance(schema, dict):
        return ""
    for key in ("example", "default"):
        if key in schema and schema[key] is not None:
            return schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(
        str(kind), "string"
    )


def _request(op: Operation, base: str) -> Request:
    path = op.path
    for p in op.parameters:
        path = path.replace("{" + p.name + "}", "{{" + p.name + "}}")
    request = Request(
        op.summary or op.id,
        method=op.method,
        url=base.rstrip("/") + path,
        description=op.description,
        operation=op.id,
    )
    for p in op.parameters:
        if p.required:
            value = placeholder(p.schema)
            request.variables.append(
                Variable(p.python_name or p.name, json.dumps(value), description=p.location)
            )
    body = op.request_body
    if body is not None and body.fields:
        for f in body.fields:
            if f.required:
                value = json.dumps(placeholder(f.schema))
                request.variables.append(Variable(f.python_name, value, description="form"))
    elif body is not None and body.required:
        value = json.dumps(placeholder(body.schema))
        request.variables.append(Variable("body", value, description="body"))
    return request


def load_openapi(path: Path) -> Collection:
    """An OpenAPI document as a :class:`Collection` of its operations."""
    try:
        doc = OpenAPIDocument.load(path)
        operations = list(doc.operations)
    except ApiNotebookError as exc:
        raise CollectionError(path, f"the OpenAPI document cannot be used: {exc}") from exc
    try:
        base = doc.base_url()
    except ApiNotebookError:
        base = None
    info = doc.spec.get("info") if isinstance(doc.spec.get("info"), dict) else {}
    c = Collection(
        doc.title or path.stem,
        description=str((info or {}).get("description") or ""),
        format=f"openapi-{doc.version}",
        path=str(path),
        spec=str(path),
    )
    c.variables.append(Variable("baseUrl", base))
    if base is None:
        c.warn(c.name, "the document declares no server: set baseUrl (environment BASE_URL)")
    folders: dict[str, Folder] = {}
    for op in operations:
        request = _request(op, "{{baseUrl}}")
        if op.deprecated:
            c.notes.append(Note(request.name, "the operation is deprecated", "info"))
        tag = op.tags[0] if op.tags else ""
        if tag:
            folders.setdefault(tag, Folder(tag)).items.append(request)
        else:
            c.items.append(request)
    c.items.extend(folders.values())
    for hook in doc.webhooks:
        c.warn(f"webhook {hook.id}", "webhooks are described by the API, not called; skipped")
    if not operations:
        c.warn(c.name, "the document has no operations")
    return c
