"""The demo CRM: a REST API (FastAPI) over contacts and companies.

What it teaches: Bearer tokens with a read-only scope, cursor pagination with
an ``updated_since`` filter for incremental syncs, idempotent writes
(``Idempotency-Key`` and upsert by email), signed webhooks with retries, one
JSON error shape, a rich OpenAPI 3.1 document at ``/crm/openapi.json``, and a
built-in ("native") connector to the mail service under ``/crm/apps``.
Users' documentation: ``docs/sandbox/crm.md``. The data lives in
:class:`~apinotebook.sandbox._crm_store.CrmStore`, which ``sb.state("crm")``
returns.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._crm_models import (
    COMPANY_WRITE,
    CREATE,
    WRITE,
    App,
    AppDetails,
    AppSettingsIn,
    Company,
    CompanyIn,
    CompanyPatch,
    Contact,
    ContactEvent,
    ContactIn,
    ContactPatch,
    Listing,
    Page,
    Webhook,
    WebhookDelivery,
    WebhookIn,
    errors,
)
from apinotebook.sandbox._crm_store import EVENTS, CrmStore, Record
from apinotebook.sandbox._etags import Conditional
from apinotebook.sandbox._rest import ApiError, make_app, rest_mount, store_of

__all__ = ["Contact", "ContactIn", "CrmStore", "build"]


def build(ctx: SandboxContext) -> list[Mount]:
    """Build the CRM for a sandbox: one mount at ``/crm``.

    The token is checked before anything reads the body (see
    :class:`~apinotebook.sandbox._rest.BearerGate`); the FastAPI app behind it
    is built on the first request, once per process, and shared.
    """
    store = CrmStore.from_context(ctx)
    mount = rest_mount(
        "crm",
        _shared_app,
        store,
        check=lambda header, write: store.authorize(header, write=write),
        public=("/openapi.json",),
    )
    return [replace(mount, app=Conditional(mount.app))]  # ETags, 304, If-Match -> 412


def _current_store(request: Request) -> CrmStore:
    return cast(CrmStore, store_of(request))


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
* **Conditional requests**: every `GET` answer carries an `ETag` (records also
  `Last-Modified`); send it back as `If-None-Match` to get `304 Not Modified`,
  and as `If-Match` on `PUT`/`PATCH`/`DELETE` to get `412` instead of
  overwriting someone else's change.
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
AppIdPath = Annotated[str, Path(description="Connector id.", examples=["mail"])]


@lru_cache(maxsize=1)
def _shared_app() -> FastAPI:
    router = APIRouter()
    for part in (_contacts(), _companies(), _webhooks(), _apps()):
        router.include_router(part)
    app = make_app(
        router,
        title="apinotebook CRM",
        description=DESCRIPTION,
        openapi_url=None,  # served by _openapi_route, with servers and security
        responses={},  # each operation lists its own errors
        openapi_tags=[
            {"name": "contacts", "description": "People, keyed by id and by email."},
            {"name": "companies", "description": "Organisations contacts belong to."},
            {"name": "webhooks", "description": "Signed contact.* events, retried on failure."},
            {"name": "apps", "description": "Built-in connectors: switch one on and it syncs."},
        ],
    )
    for event in EVENTS:
        _document_event(app, event)
    _openapi_route(app)
    return app


def _op(
    operation_id: str, summary: str, model: Any, *codes: int, status: int = 200, **extra: Any
) -> dict[str, Any]:
    """Keyword arguments for a route decorator."""
    responses = {**extra.pop("responses", {}), **errors(*codes)}
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
            raise ApiError.invalid(
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


def _apps() -> APIRouter:
    router = APIRouter(prefix="/apps", tags=["apps"])

    @router.get("", **_op("listApps", "List built-in connectors", Listing[App], 401))
    async def list_apps(store: Store) -> Response:
        """The connectors the CRM ships, and whether each is on."""
        return JSONResponse({"data": store.apps()})

    @router.get("/{app_id}", **_op("getApp", "A connector's status and log", AppDetails, 401, 404))
    async def get_app(store: Store, app_id: AppIdPath) -> Response:
        """Settings, counts since it was switched on, the last errors and recent activity."""
        return JSONResponse(store.get_app(app_id))

    update = _op("updateApp", "Switch a connector on or off", AppDetails, *WRITE)

    @router.put("/{app_id}", **update)
    async def update_app(store: Store, app_id: AppIdPath, body: AppSettingsIn) -> Response:
        """`enabled: true` copies every contact now, then each change; 409 if not served."""
        settings = store.configure_app(app_id, enabled=body.enabled, list_name=body.list_name)
        return JSONResponse(settings)

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
