"""The CRM's request and response shapes (pydantic), as its OpenAPI document shows them."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from apinotebook.sandbox._rest import ErrorBody

__all__ = [
    "COMPANY_WRITE",
    "CREATE",
    "WRITE",
    "App",
    "AppDetails",
    "AppSettingsIn",
    "Company",
    "CompanyIn",
    "CompanyPatch",
    "Contact",
    "ContactEvent",
    "ContactIn",
    "ContactPatch",
    "Listing",
    "Page",
    "Webhook",
    "WebhookDelivery",
    "WebhookIn",
    "errors",
]


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


class AppSettingsIn(_Input):
    """Body of ``PUT /apps/{app_id}``: switch a connector on or off."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enabled": True, "list": "Newsletter"}]}
    )

    enabled: StrictBool
    list_name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")] | None = Field(
        default=None,
        alias="list",
        description="The mailing list to keep in sync (created if missing); default: the "
        "current one, at first Newsletter.",
    )


class App(BaseModel):
    """A built-in connector."""

    id: str = Field(examples=["mail"])
    name: str
    description: str
    kind: Literal["native"]
    enabled: bool
    status: Literal["active", "disabled", "unavailable"] = Field(
        description="`unavailable`: the sandbox does not serve the service it syncs to."
    )


class AppError(BaseModel):
    """A contact the connector could not sync."""

    at: str
    event: str
    contact_id: str
    email: str
    message: str


class AppActivity(BaseModel):
    """One thing the connector did."""

    at: str
    event: str = Field(examples=["contact.updated", "app.enabled"])
    contact_id: str | None = None
    email: str | None = None
    result: str = Field(examples=["created", "updated", "unchanged", "skipped", "unsubscribed"])
    message: str | None = None


class FullSync(BaseModel):
    """What switching on copied."""

    at: str
    contacts: int
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Contacts whose email the mail service refused.")
    failed: int


class AppDetails(App):
    """A connector's settings, counts since it was switched on, and its recent log."""

    settings: dict[str, str]
    list_id: str | None
    last_sync_at: str | None
    counts: dict[str, int]
    last_full_sync: FullSync | None
    last_errors: list[AppError]
    activity: list[AppActivity]


_ERROR_TEXT = {
    400: "The body is not valid JSON.",
    401: "No token, an unknown token or a revoked one.",
    403: "The token is read-only (CRM_READONLY_TOKEN) and this is a write.",
    404: "No such record.",
    409: "The write conflicts with existing data (or the app's service is not served).",
    422: "A field, a query parameter or the body is invalid.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses."""
    return {s: {"model": ErrorBody, "description": _ERROR_TEXT[s]} for s in statuses}


CREATE = (400, 401, 403, 409, 422)
WRITE = (*CREATE, 404)
COMPANY_WRITE = (400, 401, 403, 404, 422)
