"""One model for every collection format: a collection of folders and requests.

Each loader (Postman, Insomnia, Bruno, HAR, OpenAPI) builds these plain
dataclasses; the notebook writer and the Postman exporter read them. Template
variables are kept in one syntax, ``{{name}}``, whatever the source format
used (Insomnia's ``{{ _.name }}`` is normalised when loaded).

Nothing is dropped silently: what a loader cannot model becomes a
:class:`Note` naming the item, listed by ``apinotebook import --explain``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apinotebook._exceptions import SchemaError

__all__ = [
    "AUTH_TYPES",
    "BODY_MODES",
    "Auth",
    "Body",
    "Collection",
    "CollectionError",
    "Environment",
    "Folder",
    "FormField",
    "Header",
    "Note",
    "Request",
    "Script",
    "Variable",
    "obj",
    "template_names",
]

#: the body modes of the model (Postman's, plus ``json`` and ``xml`` for raw bodies)
BODY_MODES = ("none", "raw", "json", "xml", "urlencoded", "form-data", "graphql", "file")
#: auth types the model knows; ``inherit`` takes the parent's, ``none`` sends none
AUTH_TYPES = (
    "inherit", "none", "bearer", "basic", "apikey", "oauth2", "digest", "oauth1",
    "awsv4", "hawk", "ntlm", "edgegrid", "jwt", "asap", "akamai", "netrc", "other",
)  # fmt: skip

_TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


class CollectionError(SchemaError):
    """A collection file cannot be read: it names the file and what is wrong with it."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{Path(path).name}: {problem}")


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (real files hold anything)."""
    return value if isinstance(value, dict) else {}


def template_names(text: str) -> list[str]:
    """The ``{{name}}`` variables ``text`` uses, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in _TEMPLATE.finditer(text or ""):
        seen.setdefault(match.group(1).strip(), None)
    return list(seen)


@dataclass
class Variable:
    """A variable at some level: collection, folder, request or environment."""

    name: str
    value: str | None = None
    secret: bool = False
    description: str = ""
    disabled: bool = False


@dataclass
class Header:
    """A header (or query parameter, or form field without a file)."""

    name: str
    value: str
    disabled: bool = False
    description: str = ""


@dataclass
class FormField:
    """A ``multipart/form-data`` part: text, or a file given by its path."""

    name: str
    value: str = ""
    kind: str = "text"  # "text" or "file"
    src: str | None = None
    content_type: str | None = None
    disabled: bool = False


@dataclass
class Body:
    """A request body in one of :data:`BODY_MODES`."""

    mode: str = "none"
    text: str = ""
    content_type: str | None = None
    fields: list[Header] = field(default_factory=list)
    form: list[FormField] = field(default_factory=list)
    query: str = ""
    variables: str = ""
    src: str | None = None


@dataclass
class Auth:
    """How a request authenticates: a type from :data:`AUTH_TYPES` and its parameters."""

    type: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Script:
    """A pre-request or test script, kept as written (JavaScript)."""

    event: str  # "prerequest" or "test"
    source: str
    language: str = "javascript"


@dataclass
class Note:
    """Something about an item the user should know (``level`` "warning" or "info")."""

    item: str
    message: str
    level: str = "warning"

    def __str__(self) -> str:
        return f"{self.level}: {self.item}: {self.message}"


@dataclass
class Request:
    """One request: method, URL (with ``{{variables}}``), headers, query, body, auth."""

    name: str
    method: str = "GET"
    url: str = ""
    headers: list[Header] = field(default_factory=list)
    query: list[Header] = field(default_factory=list)
    body: Body = field(default_factory=Body)
    auth: Auth | None = None
    description: str = ""
    scripts: list[Script] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    #: an OpenAPI operation id (OpenAPI imports), called through the spec's client
    operation: str | None = None
    #: a known WSDL for a SOAP request (becomes a SoapClient call)
    wsdl: str | None = None


@dataclass
class Folder:
    """A folder (Postman), request group (Insomnia) or directory (Bruno)."""

    name: str
    items: list[Folder | Request] = field(default_factory=list)
    description: str = ""
    auth: Auth | None = None
    variables: list[Variable] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    #: headers every request below sends (Bruno's folder and collection headers)
    headers: list[Header] = field(default_factory=list)


@dataclass
class Environment:
    """A named set of variables (Postman environment, Insomnia or Bruno environment)."""

    name: str
    variables: list[Variable] = field(default_factory=list)


@dataclass
class Collection(Folder):
    """A whole collection: the root folder plus where it came from and what was noted."""

    format: str = ""
    path: str = ""
    environments: list[Environment] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: an OpenAPI document the requests call through ``RestClient.from_openapi``
    spec: str | None = None
    #: the environment whose values fill the parameters cell (``--env``)
    active: str | None = None

    def warn(self, item: str, message: str) -> None:
        """Record a warning about ``item``."""
        self.notes.append(Note(item, message))

    def walk(self) -> Iterator[tuple[list[Folder], Request]]:
        """Every request with the folders above it (the collection first)."""
        stack: list[tuple[list[Folder], Folder | Request]] = [
            ([self], item) for item in reversed(self.items)
        ]
        while stack:
            parents, item = stack.pop()
            if isinstance(item, Request):
                yield parents, item
            else:
                stack.extend(([*parents, item], child) for child in reversed(item.items))

    @property
    def requests(self) -> list[Request]:
        """Every request, depth first, in file order."""
        return [request for _, request in self.walk()]

    def effective_auth(self, parents: list[Folder], request: Request) -> Auth | None:
        """The auth a request sends: its own, else the nearest folder's, else none."""
        if request.auth is not None and request.auth.type != "inherit":
            return request.auth
        for level in reversed(parents):
            if level.auth is not None and level.auth.type != "inherit":
                return level.auth
        return None
