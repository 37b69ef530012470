"""Load a description into a mock, mount it in the sandbox, or serve it on its own.

:class:`Mock` reads an OpenAPI document, a GraphQL SDL or introspection
result, or a WSDL (the kind is told by the file or the content) with the
package's own loaders, so whatever the clients read can be mocked.
:func:`serve` runs mocks in a :class:`~apinotebook.sandbox.Sandbox` with no
demo service: the same loopback-only server in a background thread, with its
socket handling, body limit, fault injection and request statistics.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from apinotebook._exceptions import ConfigError, SpecError
from apinotebook.mock._asgi import Reply, Request, asgi_app

__all__ = ["KINDS", "Mock", "MockServer", "preload", "serve"]

Kind = Literal["openapi", "graphql", "wsdl"]
#: what ``kind=`` accepts
KINDS: tuple[str, ...] = ("openapi", "graphql", "wsdl")
_SDL_SUFFIXES = (".graphql", ".graphqls", ".gql", ".sdl")
_WSDL_SUFFIXES = (".wsdl", ".xml", ".svc", ".asmx")


class _Engine(Protocol):
    @property
    def protocol(self) -> str: ...

    @property
    def error_format(self) -> str: ...

    @property
    def title(self) -> str: ...

    def handle(self, request: Request) -> Reply: ...

    def __len__(self) -> int: ...


def detect_kind(spec: Any) -> Kind:
    """``openapi``, ``graphql`` or ``wsdl`` for a path, a text or a parsed document."""
    if isinstance(spec, Mapping):
        data = spec.get("data", spec)
        return "graphql" if isinstance(data, Mapping) and "__schema" in data else "openapi"
    if isinstance(spec, Path) or (isinstance(spec, str) and _looks_like_location(spec)):
        path = Path(spec).expanduser()
        suffix = path.suffix.lower()
        if suffix in _SDL_SUFFIXES:
            return "graphql"
        if suffix in _WSDL_SUFFIXES or str(spec).lower().endswith("?wsdl"):
            return "wsdl"
        if suffix == ".json" and path.is_file():
            with path.open("rb") as fh:
                start = fh.read(4096)
            return "graphql" if b'"__schema"' in start or b'"data"' in start[:200] else "openapi"
        return "openapi"
    text = spec.decode("utf-8", "replace") if isinstance(spec, bytes) else str(spec)
    head = text.lstrip()[:4096]
    if head.startswith("<"):
        return "wsdl"
    if head.startswith("{") and '"__schema"' in head:
        return "graphql"
    if re.search(r"^\s*(type|schema|interface|enum|input|union|scalar|extend)\b", head, re.M) \
            and not re.search(r"^\s*(openapi|swagger)\s*:", head, re.M):  # fmt: skip
        return "graphql"
    return "openapi"


def _looks_like_location(text: str) -> bool:
    """A path or URL rather than the description itself."""
    if "\n" in text or len(text) > 4096 or text.lstrip()[:1] in ("<", "{"):
        return False
    return "://" in text or Path(text).expanduser().exists() or bool(Path(text).suffix)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "mock"


class Mock:
    """A mock of one API description: REST (OpenAPI), GraphQL or SOAP (WSDL).

    Args:
        spec: a file path, a URL, the document's text, or a parsed OpenAPI /
            introspection dict.
        kind: ``"openapi"``, ``"graphql"`` or ``"wsdl"``; told from ``spec`` by default.
        seed: every made-up value depends on it (same seed, same answers).
        stateful: REST only: POSTed items can be read, replaced, patched and deleted.
        name: the mock's name (its mount path ``/<name>``); from the file name by default.
        service: SOAP only: the ``wsdl:service`` to serve; ``port`` its port.

    Raises:
        SpecError: the description cannot be read (the clients' own errors).
        ConfigError: an unknown ``kind``, or ``stateful`` for GraphQL or SOAP.
    """

    def __init__(
        self,
        spec: Any,
        *,
        kind: str | None = None,
        seed: int = 0,
        stateful: bool = False,
        name: str | None = None,
        service: str | None = None,
        port: str | None = None,
    ) -> None:
        chosen = kind or detect_kind(spec)
        if chosen in ("rest", "swagger"):
            chosen = "openapi"
        elif chosen == "soap":
            chosen = "wsdl"
        if chosen not in KINDS:
            raise ConfigError.invalid_choice("kind", chosen, KINDS)
        if stateful and chosen != "openapi":
            raise ConfigError("stateful=True is for REST (OpenAPI) mocks only")
        self.kind = chosen
        self.seed = seed
        t0 = time.perf_counter()
        self.engine: _Engine = _load(spec, chosen, seed=seed, stateful=stateful,
                                     service=service, port=port)  # fmt: skip
        #: seconds spent reading the description and building the mock
        self.load_seconds = time.perf_counter() - t0
        located = isinstance(spec, Path) or (isinstance(spec, str) and _looks_like_location(spec))
        default = Path(str(spec).split("?")[0]).stem if located else self.engine.title
        self.name = _slug(name or default or self.kind)

    @property
    def protocol(self) -> str:
        """``rest``, ``graphql`` or ``soap``."""
        return self.engine.protocol

    def handle(self, request: Request) -> Reply:
        """Answer one request (no server needed: what the tests and benchmarks call)."""
        return self.engine.handle(request)

    def mount(self, prefix: str | None = None) -> Any:
        """A :class:`~apinotebook.sandbox.Mount` for ``Sandbox(extra_mounts=[...])``."""
        from apinotebook.sandbox import Mount

        where = prefix if prefix is not None else f"/{self.name}"
        if not where.startswith("/") or where == "/":
            raise ConfigError(f"a mock's prefix must start with '/' and name it, not {where!r}")
        where = where.rstrip("/")
        env_name = "MOCK_" + re.sub(r"\W", "_", self.name.upper()) + "_URL"
        return Mount(
            prefix=where,
            app=asgi_app(self.engine.handle),
            service=f"mock.{self.name}",
            error_format=self.engine.error_format,  # type: ignore[arg-type]
            urls={"mocks": {self.name: where}},
            env={env_name: where},
            state=self,
        )

    def __repr__(self) -> str:
        return f"<Mock {self.name!r} {self.protocol}: {len(self.engine)} operations>"


def _load(spec: Any, kind: str, *, seed: int, stateful: bool, service: str | None,
          port: str | None) -> _Engine:  # fmt: skip
    if kind == "openapi":
        from apinotebook.mock._rest import RestMock
        from apinotebook.openapi import OpenAPIDocument

        return RestMock(OpenAPIDocument.load(spec), seed=seed, stateful=stateful)
    if kind == "graphql":
        from apinotebook.graphql import GraphQLClient
        from apinotebook.mock._graphql import GraphQLMock

        source = json.dumps(spec) if isinstance(spec, Mapping) else spec
        schema = GraphQLClient(schema=source, history=None).schema
        if schema is None:  # pragma: no cover - a schema source always gives one
            raise SpecError("no GraphQL schema could be read")
        return GraphQLMock(
            schema, seed=seed, title=schema.query_type.name if schema.query_type else ""
        )
    from apinotebook.mock._soap import SoapMock
    from apinotebook.soap import SoapClient

    client = SoapClient(spec, history=None, service=service, port=port)
    return SoapMock(client, seed=seed)


def preload() -> None:
    """Import the server and the validator before a description is loaded.

    Imported later, with a 47 MB document alive, every import pays the garbage
    collector's walks over it (seconds).
    """
    try:
        import uvicorn  # noqa: F401

        import apinotebook.mock._check  # noqa: F401 - openapi-schema-validator, jsonschema
    except ModuleNotFoundError:  # Sandbox.start says which extra to install
        pass


class MockServer:
    """Mocks on one loopback port, in a background thread (a sandbox with no demo service).

    ``url`` is the first mock's address; ``urls`` every mock's by name. Use it as
    a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, mocks: Iterable[Mock], *, host: str = "127.0.0.1", port: int = 0) -> None:
        from apinotebook.sandbox import Sandbox

        self.mocks = list(mocks)
        if not self.mocks:
            raise ConfigError("give MockServer at least one Mock")
        self.sandbox = Sandbox(host=host, port=port, services=(),
                               extra_mounts=[m.mount() for m in self.mocks])  # fmt: skip
        self.urls: dict[str, str] = {}

    def start(self) -> MockServer:
        """Bind and serve; returns once requests are accepted (a running server: no-op)."""
        if self.sandbox.running:
            return self
        self.sandbox.start()
        mocks = self.sandbox.urls.get("mocks", {})
        self.urls = {m.name: mocks[m.name] for m in self.mocks}
        return self

    def stop(self) -> None:
        """Stop serving (safe to call twice)."""
        self.sandbox.stop()
        self.urls = {}

    @property
    def url(self) -> str:
        """The first mock's base URL (point a client at it)."""
        if not self.urls:
            raise ConfigError("the mock server is not running: call start() or use 'with'")
        return self.urls[self.mocks[0].name]

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = ", ".join(self.urls.values()) if self.urls else "stopped"
        return f"<MockServer {where}>"


def serve(
    *specs: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 0,
    stateful: bool = False,
    kind: str | None = None,
) -> MockServer:
    """Start mocks of ``specs`` on one loopback port; returns the running server.

    >>> with serve("petstore.yaml") as mock:                        # doctest: +SKIP
    ...     client = RestClient.from_openapi("petstore.yaml", base_url=mock.url)
    """
    if not specs:
        raise ConfigError("serve() needs at least one description file")
    preload()
    mocks = [s if isinstance(s, Mock) else Mock(s, seed=seed, stateful=stateful, kind=kind)
             for s in specs]  # fmt: skip
    return MockServer(mocks, host=host, port=port).start()
