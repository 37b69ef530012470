"""The demo CRM: a REST API (FastAPI) over contacts and companies.

What it teaches: Bearer tokens with a read-only scope, cursor pagination with
an ``updated_since`` filter for incremental syncs, idempotent writes
(``Idempotency-Key`` and upsert by email), signed webhooks with retries, one
JSON error shape, and a rich OpenAPI 3.1 document at ``/crm/openapi.json``.
Users' documentation: ``docs/sandbox/crm.md``. The data lives in
:class:`~apinotebook.sandbox._crm_store.CrmStore`, which ``sb.state("crm")``
returns.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._crm_store import EVENTS, CrmError, CrmStore, Record

__all__ = ["CrmApp", "build", "create_app"]

PUBLIC_PATHS = frozenset({"/openapi.json"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def build(ctx: SandboxContext) -> list[Mount]:
    """Build the CRM for a sandbox: one mount at ``/crm``."""
    store = CrmStore.from_context(ctx)
    return [
        Mount(
            prefix="/crm",
            app=create_app(store),
            service="crm",
            error_format="json",
            urls={"crm": "/crm"},
            env={"CRM_URL": "/crm"},
            state=store,
        )
    ]


# -- schemas ------------------------------------------------------------------------


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional() -> Any:
    """A PATCH field: may be left out, but not sent as ``null``."""
    return Field(default=None, json_schema_extra=_no_default)


T = TypeVar("T")
Stage = Literal["lead", "prospect", "customer", "churned"]
Event = Literal["contact.created", "contact.updated", "contact.deleted"]
CustomValue = str | int | float | bool | None
EMAIL_TEXT = "Any non-empty text: the CRM does not check the format (real ones rarely do)."
Email = Annotated[str, Field(min_length=1, max_length=320, pattern=r"\S", description=EMAIL_TEXT)]
Name = Annotated[str, Field(max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]
CompanyId = Annotated[str, Field(pattern=r"^co_\d+$", examples=["co_0042"])]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]


_EXAMPLE: dict[str, Any] = {"first_name": "Ada", "email": "ada.lee@example.com", "tags": ["vip"]}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("custom_fields", mode="before", check_fields=False)
    @classmethod
    def _scalar_values(cls, value: Any) -> Any:
        """One clear message instead of one per member of the value union."""
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, dict | list) or item in (math.inf, -math.inf) or item != item:
                    raise ValueError(
                        f"custom field {key!r} is {json.dumps(item)[:40]}; values must be text, "
                        "a finite number, true/false or null"
                    )
        return value


class ContactIn(_Input):
    """A whole contact, as created by POST or replaced by PUT."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    first_name: Name = ""
    last_name: Name = ""
    email: Email
    phone: str | None = None
    title: str | None = None
    company_id: CompanyId | None = None
    lifecycle_stage: Stage = "lead"
    tags: list[Tag] = Field(default_factory=list)
    custom_fields: dict[str, CustomValue] = Field(default_factory=dict)


class ContactPatch(_Input):
    """Some fields of a contact; the ones left out keep their values."""

    first_name: Name = _optional()
    last_name: Name = _optional()
    email: Email = _optional()
    phone: str | None = None
    title: str | None = None
    company_id: CompanyId | None = None
    lifecycle_stage: Stage = _optional()
    tags: list[Tag] = _optional()
    custom_fields: dict[str, CustomValue] = _optional()


class Contact(BaseModel):
    """A contact as the CRM returns it."""

    id: str = Field(examples=["c_000123"])
    first_name: str
    last_name: str
    email: str
    phone: str | None
    title: str | None
    company_id: str | None
    lifecycle_stage: Stage
    tags: list[str]
    custom_fields: dict[str, CustomValue]
    created_at: str = Field(description="RFC 3339 UTC, millisecond precision.")
    updated_at: str = Field(description="RFC 3339 UTC; lists are ordered by it, then by id.")


class CompanyIn(_Input):
    """A whole company, as created by POST or replaced by PUT."""

    name: Annotated[str, Field(min_length=1, max_length=200, examples=["Acme Labs"])]
    domain: str | None = None
    city: str | None = None


class CompanyPatch(_Input):
    """Some fields of a company."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = _optional()
    domain: str | None = None
    city: str | None = None


class Company(BaseModel):
    """A company as the CRM returns it."""

    id: str = Field(examples=["co_0042"])
    name: str
    domain: str | None
    city: str | None
    created_at: str
    updated_at: str


class Page(BaseModel, Generic[T]):
    """One page of a list, in ``(updated_at, id)`` order."""

    data: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")
    has_more: bool


class Listing(BaseModel, Generic[T]):
    """A short list, not paginated."""

    data: list[T]


class WebhookIn(_Input):
    """A subscription request."""

    url: Url
    events: list[Event] = Field(min_length=1)


class Webhook(BaseModel):
    """A webhook subscription."""

    id: str = Field(examples=["wh_0001"])
    url: str
    events: list[Event]
    created_at: str


class WebhookDelivery(BaseModel):
    """One event sent (or being sent) to a subscription, with every attempt."""

    id: str = Field(examples=["evt_3f2a9c"])
    url: str
    event_type: Event
    delivered: bool
    attempts: list[dict[str, Any]]


class ContactEvent(BaseModel):
    """The body of every ``contact.*`` webhook."""

    id: str
    type: Event
    created_at: str
    data: dict[str, Contact]


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
    """Every error the CRM sends."""

    error: ErrorInfo


_ERROR_TEXT = {
    400: "The body is not valid JSON.",
    401: "No token, an unknown token or a revoked one.",
    403: "The token is read-only (CRM_READONLY_TOKEN) and this is a write.",
    404: "No such record.",
    409: "The write conflicts with existing data.",
    422: "A field, a query parameter or the body is invalid.",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": _ERROR_TEXT[s]} for s in statuses}


CREATE = (400, 401, 403, 409, 422)
WRITE = (*CREATE, 404)
COMPANY_WRITE = (400, 401, 403, 404, 422)


# -- errors ---------------------------------------------------------------------------


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one error shape: ``{"error": {"code", "message", "details"}}``."""
    payload = {"error": {"code": code, "message": message, "details": details or []}}
    return JSONResponse(payload, status_code=status, headers=headers)


def _detail(err: Any) -> dict[str, Any]:
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
    return error_response(422, "validation_error", f"Invalid request: {shown}{more}.", details)


async def _on_crm_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, CrmError):  # pragma: no cover - registered for CrmError only
        raise exc
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    path, root = request.url.path, request.scope.get("root_path", "")
    code, message = {
        400: ("malformed_json", "The body could not be read as JSON: it is not UTF-8 text."),
        404: ("not_found", f"No endpoint at {path}. The API is described at {root}/openapi.json."),
        405: ("method_not_allowed", f"{request.method} is not allowed on {path}."),
    }.get(status, ("http_error", str(getattr(exc, "detail", "") or "error")))
    return error_response(status, code, message, headers=getattr(exc, "headers", None))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal_error", f"Internal error: {type(exc).__name__}.")


_STORE_KEY = "apinotebook.crm.store"


class CrmApp:
    """The CRM for one store: checks the Bearer token, then runs the shared FastAPI app.

    The token is checked here, before anything reads the body: FastAPI parses
    a JSON body before it solves dependencies, so a dependency would answer
    422 to an unauthenticated request with a bad body. A gateway in front of a
    real API answers 401 first, and so does this. The FastAPI app is built
    on the first request, once per process, and shared (the first build costs
    0.1-0.2 s of pydantic and FastAPI set-up); it finds the store in the scope.
    """

    def __init__(self, store: CrmStore) -> None:
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request (ASGI)."""
        app = _shared_app()
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        scope[_STORE_KEY] = self.store
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        if path.removeprefix(root) not in PUBLIC_PATHS:
            write = scope["method"] not in READ_METHODS
            try:
                self.store.authorize(Headers(scope=scope).get("authorization", ""), write=write)
            except CrmError as exc:
                response = error_response(exc.status, exc.code, exc.message, headers=exc.headers)
                await response(scope, receive, send)
                return
        await app(scope, receive, send)


async def _current_store(request: Request) -> CrmStore:
    store: CrmStore = request.scope[_STORE_KEY]
    return store


Store = Annotated[CrmStore, Depends(_current_store)]


# -- the app --------------------------------------------------------------------------

DESCRIPTION = """\
A small CRM for learning to integrate with REST APIs: contacts, companies and
webhooks, served by the apinotebook sandbox.

* **Auth**: `Authorization: Bearer $CRM_TOKEN` (read-write) or
  `$CRM_READONLY_TOKEN` (reads only; writes get 403).
* **Pagination**: lists are ordered by `(updated_at, id)` and return
  `{"data", "next_cursor", "has_more"}`; pass `next_cursor` back as `cursor`
  with the same filters. `updated_since` is inclusive (`>=`).
* **Idempotency**: `POST /contacts` honours `Idempotency-Key`;
  `PUT /contacts/by-email/{email}` upserts.
* **Errors**: `{"error": {"code", "message", "details"}}` everywhere.
"""

Limit = Annotated[int, Query(ge=1, le=500, description="Page size, 1-500.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` from the previous page; opaque.")]
SINCE_TEXT = (
    "RFC 3339 timestamp; only records with `updated_at >= updated_since`. Inclusive on purpose: "
    "a sync that checkpoints on the last `updated_at` it saw must not miss other records "
    "sharing that millisecond (it dedupes by id)."
)
Since = Annotated[str | None, Query(description=SINCE_TEXT, examples=["2025-10-01T00:00:00Z"])]
ContactIdPath = Annotated[str, Path(description="Contact id.", examples=["c_000123"])]
CompanyIdPath = Annotated[str, Path(description="Company id.", examples=["co_0042"])]
HookIdPath = Annotated[str, Path(description="Webhook id.", examples=["wh_0001"])]


def create_app(store: CrmStore) -> CrmApp:
    """The CRM's ASGI app over ``store`` (mounted at ``/crm`` by :func:`build`)."""
    return CrmApp(store)


@lru_cache(maxsize=1)
def _shared_app() -> FastAPI:
    app = FastAPI(
        title="apinotebook CRM",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "contacts", "description": "People, keyed by id and by email."},
            {"name": "companies", "description": "Organisations contacts belong to."},
            {"name": "webhooks", "description": "Signed contact.* events, retried on failure."},
        ],
    )
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(CrmError, _on_crm_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
    for router in (_contacts(), _companies(), _webhooks()):
        app.include_router(router)
    for event in EVENTS:
        _document_event(app, event)
    _openapi_route(app)
    return app


def _op(
    operation_id: str, summary: str, model: Any, *errors: int, status: int = 200, **extra: Any
) -> dict[str, Any]:
    """Keyword arguments for a route decorator."""
    responses = {**extra.pop("responses", {}), **_errors(*errors)}
    kind = {"response_class": Response} if model is None else {"response_model": model}
    base = {"operation_id": operation_id, "summary": summary, "status_code": status}
    return {**base, **kind, **extra, "responses": responses}


def _created(request: Request, row: Record, path: str) -> JSONResponse:
    location = f"{request.scope.get('root_path', '')}{path}/{row['id']}"
    return JSONResponse(row, status_code=201, headers={"Location": location})


_REPLAYED = {
    200: {
        "model": Contact,
        "description": "A replay: this Idempotency-Key already created the contact.",
        "headers": {"Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}}},
    }
}
KEY_TEXT = "Retry-safe creation: the same key and body return the same contact."
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, description=KEY_TEXT)
]
EmailPath = Annotated[str, Path(min_length=1, examples=["ada.lee@example.com"])]
EmailFilter = Annotated[str | None, Query(description="Exact email, any case.")]
CompanyFilter = Annotated[str | None, Query(description="Only this company's contacts.")]


def _contacts() -> APIRouter:
    router = APIRouter(prefix="/contacts", tags=["contacts"])

    @router.get("", **_op("listContacts", "List contacts", Page[Contact], 401, 422))
    async def list_contacts(
        store: Store,
        limit: Limit = 50,
        cursor: Cursor = None,
        updated_since: Since = None,
        email: EmailFilter = None,
        company_id: CompanyFilter = None,
    ) -> Response:
        """Contacts in `(updated_at, id)` order, one page at a time."""
        page = store.list_contacts(
            limit=limit,
            cursor=cursor,
            updated_since=updated_since,
            email=email,
            company_id=company_id,
        )
        return JSONResponse(page)

    @router.post(
        "",
        **_op(
            "createContact", "Create a contact", Contact, *CREATE, status=201, responses=_REPLAYED
        ),
    )
    async def create_contact(
        store: Store, request: Request, body: ContactIn, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """Create a contact. Emails are unique (any case): a duplicate gets 409."""
        row, replayed = store.create_contact(body.model_dump(), idempotency_key=idempotency_key)
        if replayed:
            return JSONResponse(row, headers={"Idempotent-Replayed": "true"})
        return _created(request, row, "/contacts")

    created = {201: {"model": Contact, "description": "Created."}}
    summary = "Create or update the contact with this email"

    @router.put(
        "/by-email/{email}",
        **_op("upsertContactByEmail", summary, Contact, *CREATE, responses=created),
    )
    async def upsert_contact(
        store: Store, request: Request, email: EmailPath, body: ContactPatch
    ) -> Response:
        """Idempotent: 201 if created, 200 if updated; an unchanged contact keeps `updated_at`."""
        fields = body.model_dump(exclude_unset=True)
        if "email" in fields and fields["email"].strip().lower() != email.strip().lower():
            raise CrmError.invalid(
                "body", "email", "must match the email in the path, or be left out"
            )
        row, new = store.upsert_contact(email, fields)
        return _created(request, row, "/contacts") if new else JSONResponse(row)

    @router.get("/{contact_id}", **_op("getContact", "Get a contact", Contact, 401, 404))
    async def get_contact(store: Store, contact_id: ContactIdPath) -> Response:
        """One contact by id."""
        return JSONResponse(store.get_contact(contact_id))

    @router.patch("/{contact_id}", **_op("updateContact", "Update a contact", Contact, *WRITE))
    async def patch_contact(
        store: Store, contact_id: ContactIdPath, body: ContactPatch
    ) -> Response:
        """Change the fields given; `tags` and `custom_fields` are replaced whole."""
        fields = body.model_dump(exclude_unset=True)
        return JSONResponse(store.update_contact(contact_id, fields, replace=False))

    @router.put("/{contact_id}", **_op("replaceContact", "Replace a contact", Contact, *WRITE))
    async def put_contact(store: Store, contact_id: ContactIdPath, body: ContactIn) -> Response:
        """Replace every writable field; the ones left out get their defaults."""
        return JSONResponse(store.update_contact(contact_id, body.model_dump(), replace=True))

    delete = _op("deleteContact", "Delete a contact", None, 401, 403, 404, status=204)

    @router.delete("/{contact_id}", **delete)
    async def delete_contact(store: Store, contact_id: ContactIdPath) -> Response:
        """Delete a contact; sends `contact.deleted`."""
        store.delete_contact(contact_id)
        return Response(status_code=204)

    return router


def _companies() -> APIRouter:
    router = APIRouter(prefix="/companies", tags=["companies"])

    @router.get("", **_op("listCompanies", "List companies", Page[Company], 401, 422))
    async def list_companies(
        store: Store, limit: Limit = 50, cursor: Cursor = None, updated_since: Since = None
    ) -> Response:
        """Companies in `(updated_at, id)` order, one page at a time."""
        page = store.list_companies(limit=limit, cursor=cursor, updated_since=updated_since)
        return JSONResponse(page)

    @router.post(
        "", **_op("createCompany", "Create a company", Company, 400, 401, 403, 422, status=201)
    )
    async def create_company(store: Store, request: Request, body: CompanyIn) -> Response:
        """Create a company."""
        return _created(request, store.create_company(body.model_dump()), "/companies")

    @router.get("/{company_id}", **_op("getCompany", "Get a company", Company, 401, 404))
    async def get_company(store: Store, company_id: CompanyIdPath) -> Response:
        """One company by id."""
        return JSONResponse(store.get_company(company_id))

    @router.patch(
        "/{company_id}", **_op("updateCompany", "Update a company", Company, *COMPANY_WRITE)
    )
    async def patch_company(
        store: Store, company_id: CompanyIdPath, body: CompanyPatch
    ) -> Response:
        """Change the fields given."""
        fields = body.model_dump(exclude_unset=True)
        return JSONResponse(store.update_company(company_id, fields, replace=False))

    @router.put(
        "/{company_id}", **_op("replaceCompany", "Replace a company", Company, *COMPANY_WRITE)
    )
    async def put_company(store: Store, company_id: CompanyIdPath, body: CompanyIn) -> Response:
        """Replace every writable field."""
        return JSONResponse(store.update_company(company_id, body.model_dump(), replace=True))

    delete = _op("deleteCompany", "Delete a company", None, 401, 403, 404, 409, status=204)

    @router.delete("/{company_id}", **delete)
    async def delete_company(store: Store, company_id: CompanyIdPath) -> Response:
        """Delete a company no contact belongs to; 409 otherwise."""
        store.delete_company(company_id)
        return Response(status_code=204)

    return router


def _webhooks() -> APIRouter:
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])
    create = _op("createWebhook", "Subscribe to events", Webhook, 400, 401, 403, 422, status=201)

    @router.post("", **create)
    async def create_webhook(store: Store, request: Request, body: WebhookIn) -> Response:
        """Events are signed with CRM_WEBHOOK_SECRET (header `X-Signature`)."""
        events = list(dict.fromkeys(body.events))
        return _created(request, store.add_webhook(body.url, events), "/webhooks")

    @router.get("", **_op("listWebhooks", "List subscriptions", Listing[Webhook], 401))
    async def list_webhooks(store: Store) -> Response:
        """Every subscription, oldest first."""
        return JSONResponse({"data": store.webhooks()})

    @router.get("/{webhook_id}", **_op("getWebhook", "Get a subscription", Webhook, 401, 404))
    async def get_webhook(store: Store, webhook_id: HookIdPath) -> Response:
        """One subscription."""
        return JSONResponse(store.get_webhook(webhook_id))

    delete = _op("deleteWebhook", "Unsubscribe", None, 401, 403, 404, status=204)

    @router.delete("/{webhook_id}", **delete)
    async def delete_webhook(store: Store, webhook_id: HookIdPath) -> Response:
        """Stop sending events to this URL."""
        store.delete_webhook(webhook_id)
        return Response(status_code=204)

    deliveries = _op(
        "listWebhookDeliveries", "Recent deliveries", Listing[WebhookDelivery], 401, 404
    )

    @router.get("/{webhook_id}/deliveries", **deliveries)
    async def list_deliveries(store: Store, webhook_id: HookIdPath) -> Response:
        """The last 100 events for this subscription, with each attempt's status."""
        return JSONResponse({"data": store.deliveries(webhook_id)})

    return router


Signature = Annotated[
    str, Header(alias="X-Signature", description="t=<unix time>,v1=<HMAC-SHA256 of '<t>.<body>'>")
]
SECURITY = {"type": "http", "scheme": "bearer", "description": "CRM_TOKEN or CRM_READONLY_TOKEN."}


def _document_event(app: FastAPI, event: str) -> None:
    async def receiver(body: ContactEvent, x_signature: Signature) -> None:
        """Sent to every subscribed URL; answer 2xx, or it is retried with backoff."""

    operation_id = "on" + "".join(part.title() for part in event.split("."))
    answer: dict[int | str, Any] = {"default": {"description": "2xx acknowledges it; else retry."}}
    app.webhooks.post(event, operation_id=operation_id, summary=f"{event} event", responses=answer)(
        receiver
    )


def _openapi_route(app: FastAPI) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        doc = app.openapi()  # built once, then cached by FastAPI
        for item in doc["paths"].values():  # FastAPI's 422 where only a path id is read
            for op in item.values():
                if "HTTPValidationError" in str(op["responses"].get("422")):
                    del op["responses"]["422"]
        for name in ("HTTPValidationError", "ValidationError"):
            doc.get("components", {}).get("schemas", {}).pop(name, None)
        doc.setdefault("components", {})["securitySchemes"] = {"bearerAuth": SECURITY}
        doc["security"] = [{"bearerAuth": []}]
        servers = [{"url": str(request.base_url).rstrip("/"), "description": "This sandbox"}]
        return JSONResponse({**doc, "servers": servers})
