"""What the sandbox's REST services share: one error shape and the token gate.

The CRM, chat and calendar answer every error with::

    {"error": {"code": "validation_error", "message": "...", "details": [...]}}

``details`` is always there (empty unless the request had field problems);
each detail is ``{"loc", "field", "message", "type"}`` with ``loc`` the path to
the problem (``["body", "email"]``, ``["query", "limit"]``). The sandbox's guard,
which answers 413, 429 and injected faults before a service runs, sends the
same shape without ``details``.

:func:`install_error_handlers` makes FastAPI's own errors (validation, 404,
405, undecodable bodies, bugs) take that shape too. :class:`BearerGate` checks
the credential *before* FastAPI reads the body: FastAPI parses a JSON body
before it solves dependencies, so a dependency would answer 422 to an
anonymous request with a broken body, where a gateway in front of a real API
answers 401. The gate also hands the service's store to its FastAPI app, which
is built once per process and shared by every sandbox (building one costs
0.1-0.2 s of pydantic and FastAPI set-up): :func:`store_of` reads it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from apinotebook._exceptions import ConfigError
from apinotebook.sandbox._context import ASGIApp, Mount, Receive, SandboxContext, Scope, Send

__all__ = [
    "ApiError",
    "BearerGate",
    "ErrorBody",
    "bearer_error",
    "bearer_token",
    "error_response",
    "install_error_handlers",
    "make_app",
    "options_of",
    "rest_mount",
    "store_of",
]

Details = list[dict[str, Any]]
#: ``check(authorization_header, is_write)``: raises :class:`ApiError` to refuse.
Check = Callable[[str, bool], object]

_STORE_KEY = "apinotebook.sandbox.store"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiError(Exception):
    """An error the service answers as ``{"error": {"code", "message", "details"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Details | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = dict(headers) if headers else None

    @classmethod
    def invalid(cls, where: str, field: str, message: str) -> ApiError:
        """A 422 about one field: ``where`` is ``body``, ``query``, ``path`` or ``header``."""
        detail = {"loc": [where, field], "field": field, "message": message, "type": "invalid"}
        return cls(422, "validation_error", f"{where}.{field}: {message}", details=[detail])

    def response(self) -> JSONResponse:
        """This error as a response."""
        return error_response(
            self.status, self.code, self.message, details=self.details, headers=self.headers
        )


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Details | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The one error shape: ``{"error": {"code", "message", "details"}}``."""
    payload = {"error": {"code": code, "message": message, "details": details or []}}
    return JSONResponse(payload, status_code=status, headers=headers)


class ErrorDetail(BaseModel):
    """One problem with one field."""

    loc: list[str | int]
    field: str
    message: str
    type: str


class ErrorInfo(BaseModel):
    """What went wrong."""

    code: str = Field(examples=["validation_error"])
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """Every error the service sends."""

    error: ErrorInfo


# -- FastAPI's own errors, in the same shape --------------------------------------------


def _detail(err: Mapping[str, Any]) -> dict[str, Any]:
    """One pydantic/FastAPI error as a detail, with a message a person can act on."""
    loc = [x if isinstance(x, int) else str(x) for x in err.get("loc", ())]
    field = ".".join(str(x) for x in loc[1:]) or (str(loc[0]) if loc else "")
    kind = str(err.get("type", "invalid"))
    message = str(err.get("msg", "invalid"))
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        message = f"unknown field {name!r}"
        if name in ("id", "created_at", "updated_at"):
            message += ": it is read-only, leave it out of the body"
    elif kind == "value_error":
        message = str((err.get("ctx") or {}).get("error", message))
    elif kind == "missing" and loc == ["body"]:
        message = "a JSON request body is required"
    elif loc == ["body"] and isinstance(err.get("input"), bytes | bytearray):
        kind = "content_type"
        message = "send the body as JSON with the header Content-Type: application/json"
    elif loc == ["body"] and kind in ("model_attributes_type", "model_type", "dict_type"):
        message = "the body must be a JSON object"
    return {"loc": loc, "field": field, "message": message, "type": kind}


async def _on_validation(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        position = first["loc"][-1] if len(first.get("loc", ())) > 1 else 0
        return error_response(
            400,
            "malformed_json",
            f"The body is not valid JSON: {reason} (at character {position}).",
        )
    details = [_detail(e) for e in errors]
    shown = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['message']}" for d in details[:3])
    more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
    return error_response(
        422, "validation_error", f"Invalid request: {shown}{more}.", details=details
    )


async def _on_api_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ApiError):  # pragma: no cover - registered for ApiError only
        raise exc
    return exc.response()


async def _on_http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    path, root = request.url.path, request.scope.get("root_path", "")
    code, message = {
        400: ("malformed_json", "The body could not be read as JSON: it is not UTF-8 text."),
        404: ("not_found", f"No endpoint at {path}. The API is described at {root}/openapi.json."),
        405: ("method_not_allowed", f"{request.method} is not allowed on {path}."),
    }.get(status, ("http_error", str(getattr(exc, "detail", "") or "error")))
    return error_response(status, code, message, headers=getattr(exc, "headers", None))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal_error", f"Internal error: {type(exc).__name__}.")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, FastAPI's own included, as ``{"error": {...}}``."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


def make_app(router: APIRouter, *, title: str, **settings: Any) -> FastAPI:
    """A service's FastAPI app: ``router``'s routes, errors in the one shape.

    No HTML doc pages (they load from a CDN, and the sandbox is offline); every
    4xx is documented as :class:`ErrorBody` unless ``settings`` say otherwise.
    """
    defaults: dict[str, Any] = {
        "version": "1.0.0",
        "docs_url": None,
        "redoc_url": None,
        "responses": {"4XX": {"model": ErrorBody, "description": "Error"}},
    }
    app = FastAPI(title=title, **{**defaults, **settings})
    app.include_router(router)
    install_error_handlers(app)
    return app


def options_of(ctx: SandboxContext, service: str, valid: tuple[str, ...]) -> dict[str, Any]:
    """``ctx.options[service]``, checked: a mapping of known option names.

    Raises:
        ConfigError: not a mapping, or an unknown name (the message lists the valid ones).
    """
    options = ctx.options.get(service) or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f'options["{service}"] must be a mapping like {{"{valid[0]}": ...}}')
    for name in options:
        if name not in valid:
            raise ConfigError.invalid_choice(f"{service} option", name, valid)
    return dict(options)


# -- Bearer tokens ---------------------------------------------------------------------


def bearer_error(status: int, code: str, message: str, *, realm: str, error: str = "") -> ApiError:
    """A 401/403 with ``WWW-Authenticate: Bearer realm=..., error=...`` (RFC 6750)."""
    challenge = f'Bearer realm="{realm}"' + (f', error="{error}"' if error else "")
    return ApiError(status, code, message, headers={"WWW-Authenticate": challenge})


def bearer_token(header: str | None, *, realm: str, code: str, message: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header.

    Raises:
        ApiError: 401 with ``code`` and ``message`` when there is no Bearer token.
    """
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise bearer_error(401, code, message, realm=realm)
    return token.strip()


class BearerGate:
    """Check the credential, then run the service's shared FastAPI app with its store.

    Args:
        app: returns the service's FastAPI app (cached: built on the first request).
        store: the service's data, for :func:`store_of`.
        check: ``check(authorization, is_write)`` raises :class:`ApiError` to refuse.
        public: paths (below the mount prefix) that need no credential, or
            prefixes of them when they end with ``/``.
    """

    def __init__(
        self, app: Callable[[], ASGIApp], store: object, *, check: Check, public: tuple[str, ...]
    ) -> None:
        self.app, self.store, self.check, self.public = app, store, check, public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request (ASGI)."""
        app = self.app()
        if scope["type"] in ("http", "websocket"):  # a socket checks its own credential
            scope[_STORE_KEY] = self.store
        if scope["type"] == "http":
            path = str(scope.get("path", "")).removeprefix(str(scope.get("root_path", "")))
            if not any(path == p or (p.endswith("/") and path.startswith(p)) for p in self.public):
                authorization = Headers(scope=scope).get("authorization", "")
                try:
                    self.check(authorization, scope["method"] not in _READ_METHODS)
                except ApiError as exc:
                    await exc.response()(scope, receive, send)
                    return
        await app(scope, receive, send)


def rest_mount(
    service: str,
    app: Callable[[], ASGIApp],
    store: object,
    *,
    check: Check,
    public: tuple[str, ...],
    env: Mapping[str, str] | None = None,
) -> Mount:
    """A REST service at ``/{service}``: :class:`BearerGate` in front of its shared app.

    ``sb.urls[service]`` and ``{SERVICE}_URL`` name the prefix; ``env`` adds
    more variables; ``sb.state(service)`` is ``store``.
    """
    prefix = "/" + service
    return Mount(
        prefix=prefix,
        app=BearerGate(app, store, check=check, public=public),
        service=service,
        error_format="json",
        urls={service: prefix},
        env={f"{service.upper()}_URL": prefix, **(env or {})},
        state=store,
    )


def store_of(request: HTTPConnection) -> Any:
    """The store :class:`BearerGate` handed to this request."""
    return request.scope[_STORE_KEY]
