"""The CRM's in-memory data: contacts, companies, webhooks, tokens and apps.

Records live in a :class:`~apinotebook.sandbox._crm_table.Table`, which keeps
every live record number in one list sorted by ``(updated_at, number)``, so a
page is a binary search and a slice and an updated record moves to the end of
the order, where an incremental sync finds it. Contacts are also kept per
company (in the same order) and by email. The built-in mail connector
(:mod:`~apinotebook.sandbox._crm_apps`) hears every contact write.

Seed records are made lazily: ``_seed.people()`` gives the people, and a
contact dict is built from one the first time something reads it. The seed
order is already sorted (``updated_at`` increases with the index), so the
store for 100,000 contacts costs a few list and dict comprehensions on top of
``people()``.

Every public method takes one lock: the API calls them from the server's event
loop, tests and notebooks from their own thread.
"""

from __future__ import annotations

import hmac
import random
import threading
from bisect import insort
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from apinotebook._exceptions import ConfigError
from apinotebook.sandbox import _registry, _seed
from apinotebook.sandbox._context import SandboxContext
from apinotebook.sandbox._crm_apps import APP_IDS, MailConnector
from apinotebook.sandbox._crm_table import (
    Record,
    Table,
    copy_record,
    email_key,
    fingerprint,
    parse_timestamp,
    same,
    shaped,
)
from apinotebook.sandbox._registry import MailingApi
from apinotebook.sandbox._rest import ApiError, bearer_error, bearer_token, options_of
from apinotebook.sandbox._webhooks import Delivery, WebhookDispatcher

__all__ = ["EVENTS", "STAGES", "CrmStore", "Record"]

STAGES = ("lead", "prospect", "customer", "churned")
EVENTS = ("contact.created", "contact.updated", "contact.deleted")
TAGS = ("newsletter", "vip", "trial", "partner", "event-2025", "churn-risk", "beta")
SOURCES = ("webinar", "referral", "organic", "paid-search", "trade-show", "partner")

#: Writable fields in the order responses show them, with their defaults.
CONTACT_DEFAULTS: Record = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "phone": None,
    "title": None,
    "company_id": None,
    "lifecycle_stage": "lead",
    "tags": [],
    "custom_fields": {},
}
COMPANY_DEFAULTS: Record = {"name": "", "domain": None, "city": None}

_IDEMPOTENCY_KEEP = 10_000
_DELIVERIES_KEEP = 100


class CrmStore:
    """Contacts, companies, webhook subscriptions and the Bearer tokens.

    Build one with :meth:`from_context`. Methods return fresh dicts that the
    caller may keep; records inside the store are replaced, never mutated.
    """

    def __init__(
        self,
        *,
        seed: int,
        contacts: int,
        companies: int,
        credentials: dict[str, str],
        webhooks: WebhookDispatcher,
        messy_rate: float = 0.01,
        find_mail: Callable[[], MailingApi | None] = lambda: None,
    ) -> None:
        if isinstance(messy_rate, bool) or not isinstance(messy_rate, int | float):
            raise ConfigError(f"crm messy_rate must be a number, not {messy_rate!r}")
        if not 0 <= messy_rate <= 1:
            raise ConfigError(f"crm messy_rate must be between 0 and 1, not {messy_rate}")
        self.seed = seed
        self._lock = threading.RLock()
        self._dispatcher = webhooks
        self._secret = credentials["CRM_WEBHOOK_SECRET"]
        self._tokens = {
            credentials["CRM_TOKEN"]: "write",
            credentials["CRM_READONLY_TOKEN"]: "read",
        }
        self._revoked: set[str] = set()
        self._people = _seed.people(seed, contacts, companies)
        self._firms = _seed.companies(seed, companies)
        picked = random.Random(f"crm-messy:{seed}").sample(
            range(1, contacts + 1), round(contacts * messy_rate)
        )
        self._messy = {n: ("email", "first_name")[i % 2] for i, n in enumerate(sorted(picked))}
        rng = random.Random(f"crm-companies:{seed}")
        self._firm_updated = [
            c.created_at + timedelta(days=rng.randrange(300), seconds=rng.randrange(86400))
            for c in self._firms
        ]
        firm_order = sorted(range(1, companies + 1), key=lambda n: (self._firm_updated[n - 1], n))
        self.companies = Table(
            "co_", 4, companies, self._seed_company, lambda n: self._firm_updated[n - 1], firm_order
        )
        self.contacts = Table(
            "c_",
            6,
            contacts,
            self._seed_contact,
            lambda n: self._people[n - 1].updated_at,
            list(range(1, contacts + 1)),
        )
        self._emails = {p.email: i for i, p in enumerate(self._people, 1)}
        self._by_company: dict[int, list[int]] = {}
        for i, p in enumerate(self._people, 1):
            self._by_company.setdefault(p.company + 1, []).append(i)
        for n, kind in self._messy.items():
            if kind == "email":
                email = self._people[n - 1].email
                del self._emails[email]
                self._emails[email_key(email.replace("@", " at "))] = n
        newest = self._firm_updated + [p.updated_at for p in self._people[-1:]]
        self._clock = _seed.isoformat(max(newest, default=_seed.EPOCH))
        self._idempotency: OrderedDict[str, tuple[str, Record]] = OrderedDict()
        self._hooks: dict[str, Record] = {}
        self._deliveries: dict[str, deque[Delivery]] = {}
        self._next_hook = 1
        #: the built-in CRM -> mail sync (``/crm/apps/mail``)
        self.mail_app = MailConnector(find_mail, self._now)

    @classmethod
    def from_context(cls, ctx: SandboxContext) -> CrmStore:
        """The store for a sandbox: ``ctx.options["crm"]["messy_rate"]`` (default 0.01)."""
        options = options_of(ctx, "crm", ("messy_rate",))
        return cls(
            seed=ctx.seed,
            contacts=ctx.contacts,
            companies=ctx.companies,
            credentials=ctx.credentials,
            webhooks=ctx.webhooks,
            messy_rate=options.get("messy_rate", 0.01),
            find_mail=lambda: _registry.lookup(ctx, "mail"),
        )

    # -- seed records and helpers -----------------------------------------------

    def _seed_company(self, n: int) -> Record:
        firm = self._firms[n - 1]
        return {
            "id": self.companies.ident(n),
            "name": firm.name,
            "domain": firm.domain,
            "city": firm.city,
            "created_at": _seed.isoformat(firm.created_at),
            "updated_at": _seed.isoformat(self._firm_updated[n - 1]),
        }

    def _seed_identity(self, n: int) -> Record:
        """A seed contact's id, names and email: all a connector needs, cheaply."""
        p, messy = self._people[n - 1], self._messy.get(n)
        return {
            "id": self.contacts.ident(n),
            "first_name": "" if messy == "first_name" else p.first_name,
            "last_name": p.last_name,
            "email": p.email.replace("@", " at ") if messy == "email" else p.email,
        }

    def _seed_contact(self, n: int) -> Record:
        p = self._people[n - 1]
        rng = random.Random(self.seed * 1_000_003 + n)
        stage = rng.choices(STAGES, weights=(40, 25, 30, 5))[0]
        custom: dict[str, Any] = {
            "lead_score": rng.randrange(101),
            "source": rng.choice(SOURCES),
            "newsletter_opt_in": rng.random() < 0.6,
        }
        if stage in ("customer", "churned"):
            custom["lifetime_value"] = round(rng.uniform(100, 50_000), 2)
        return {
            **self._seed_identity(n),
            "phone": p.phone,
            "title": p.title,
            "company_id": self.companies.ident(p.company + 1),
            "lifecycle_stage": stage,
            "tags": sorted(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))),
            "custom_fields": custom,
            "created_at": _seed.isoformat(p.created_at),
            "updated_at": _seed.isoformat(p.updated_at),
        }

    def _now(self) -> str:
        """The CRM's clock: real UTC time in milliseconds that never goes backwards."""
        self._clock = max(self._clock, _seed.isoformat(datetime.now(UTC)))
        return self._clock

    def _company_of(self, fields: Record) -> int | None:
        company_id = fields.get("company_id")
        if company_id is None:
            return None
        number = self.companies.parse(company_id)
        if self.companies.get(number) is None:
            raise ApiError.invalid("body", "company_id", f"unknown company {company_id!r}")
        return number

    def _write_contact(self, number: int | None, fields: Record) -> Record:
        """Store a new (``number`` None) or changed contact, keep the indexes, publish."""
        company = self._company_of(fields)
        owner = self._emails.get(email_key(fields["email"]))
        if owner is not None and owner != number:
            raise ApiError(
                409,
                "conflict",
                f"A contact with email {fields['email']!r} already exists: "
                f"{self.contacts.ident(owner)}. Update it, or upsert with "
                "PUT /contacts/by-email/{email}.",
            )
        body = shaped(fields, CONTACT_DEFAULTS)
        old = None
        if number is None:
            number, row = self.contacts.add(body, self._now())
            event = "contact.created"
        else:
            old = self._unindex(number)
            row = self.contacts.replace(number, body, self._now())
            event = "contact.updated"
        self._emails[email_key(row["email"])] = number
        if company is not None:
            insort(self._by_company.setdefault(company, []), number, key=self.contacts.key)
        self._changed(event, row, old)
        return copy_record(row)

    def _unindex(self, number: int) -> Record:
        """Drop a contact from the email and company indexes (before its key changes)."""
        old = self.contacts.get(number) or {}
        self._emails.pop(email_key(old["email"]), None)
        company = self._company_of(old)
        if company is not None:
            self.contacts.unlink(self._by_company[company], number)
        return old

    def _merge(self, number: int, old: Record, fields: Record, replace: bool) -> Record:
        row = fields if replace else {**old, **fields}
        return copy_record(old) if same(row, old) else self._write_contact(number, row)

    def _changed(self, event: str, row: Record, old: Record | None) -> None:
        """Tell the webhook subscribers and the connectors about a contact write."""
        self._publish(event, row)
        self.mail_app.on_change(event, row, old)

    def _publish(self, event: str, row: Record) -> None:
        for hook_id, hook in self._hooks.items():
            if event in hook["events"]:
                data = {"contact": copy_record(row)}
                delivery = self._dispatcher.publish(hook["url"], event, data, secret=self._secret)
                self._deliveries[hook_id].append(delivery)

    # -- auth ------------------------------------------------------------------

    def scope_of(self, token: str) -> str | None:
        """``"write"``, ``"read"`` or ``None`` (unknown or revoked) for a Bearer token."""
        with self._lock:
            for known, scope in self._tokens.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    return None if token in self._revoked else scope
            return None

    def authorize(self, authorization: str, *, write: bool) -> None:
        """Check an ``Authorization`` header value for a read or a write.

        Raises:
            ApiError: 401 (no, unknown or revoked token) or 403 (read-only token, write).
        """
        missing = "Missing bearer token: send the header 'Authorization: Bearer <CRM_TOKEN>'."
        token = bearer_token(authorization, realm="crm", code="unauthorized", message=missing)
        scope = self.scope_of(token)
        if scope is None:
            message = "The bearer token is not valid or has been revoked."
            raise bearer_error(401, "unauthorized", message, realm="crm", error="invalid_token")
        if write and scope == "read":
            message = "This token is read-only: writes need the read-write CRM_TOKEN."
            raise bearer_error(
                403, "insufficient_scope", message, realm="crm", error="insufficient_scope"
            )

    def revoke(self, token: str) -> None:
        """Revoke ``token``: from now on it gets 401."""
        with self._lock:
            self._revoked.add(token)

    def restore(self, token: str) -> None:
        """Undo :meth:`revoke`."""
        with self._lock:
            self._revoked.discard(token)

    # -- contacts --------------------------------------------------------------

    def list_contacts(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        updated_since: str | None = None,
        email: str | None = None,
        company_id: str | None = None,
    ) -> Record:
        """One page: ``{"data": [...], "next_cursor": str | None, "has_more": bool}``."""
        since = parse_timestamp(updated_since) if updated_since else None
        with self._lock:
            seq = self.contacts.order
            if email is not None:
                number = self._emails.get(email_key(email))
                row = self.contacts.get(number)
                wanted = row is not None and company_id in (None, row["company_id"])
                seq = [number] if number is not None and wanted else []
            elif company_id is not None:
                seq = self._by_company.get(self.companies.parse(company_id) or 0, [])
            return self.contacts.page(seq, limit, cursor, since)

    def get_contact(self, contact_id: str) -> Record:
        """The contact with ``contact_id``; 404 if there is none."""
        with self._lock:
            return copy_record(self.contacts.find(contact_id, "contact")[1])

    def create_contact(
        self, fields: Record, *, idempotency_key: str | None = None
    ) -> tuple[Record, bool]:
        """Create a contact; returns it and whether it replays an earlier idempotency key."""
        with self._lock:
            seen = self._idempotency.get(idempotency_key or "")
            if idempotency_key is not None and seen is not None:
                if seen[0] != fingerprint(fields):
                    raise ApiError(
                        422,
                        "idempotency_key_reused",
                        f"Idempotency-Key {idempotency_key!r} was already used with a different "
                        "request body. Use a new key for a new contact.",
                    )
                return copy_record(seen[1]), True
            row = self._write_contact(None, fields)
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = (fingerprint(fields), copy_record(row))
                while len(self._idempotency) > _IDEMPOTENCY_KEEP:
                    self._idempotency.popitem(last=False)
            return row, False

    def update_contact(self, contact_id: str, fields: Record, *, replace: bool) -> Record:
        """PATCH (``replace=False``: only the given fields) or PUT (the whole record).

        A write that changes nothing keeps ``updated_at`` and sends no webhook.
        """
        with self._lock:
            number, old = self.contacts.find(contact_id, "contact")
            return self._merge(number, old, fields, replace)

    def upsert_contact(self, email: str, fields: Record) -> tuple[Record, bool]:
        """Create or update the contact with ``email``; returns it and whether it is new."""
        with self._lock:
            number = self._emails.get(email_key(email))
            old = self.contacts.get(number)
            if number is None or old is None:
                return self._write_contact(None, {**fields, "email": email}), True
            return self._merge(number, old, fields, False), False

    def delete_contact(self, contact_id: str) -> None:
        """Delete a contact; 404 if there is none."""
        with self._lock:
            number, row = self.contacts.find(contact_id, "contact")
            self._unindex(number)
            self.contacts.remove(number)
            self._changed("contact.deleted", row, row)

    # -- companies -------------------------------------------------------------

    def list_companies(
        self, *, limit: int = 50, cursor: str | None = None, updated_since: str | None = None
    ) -> Record:
        """One page of companies, like :meth:`list_contacts`."""
        since = parse_timestamp(updated_since) if updated_since else None
        with self._lock:
            return self.companies.page(self.companies.order, limit, cursor, since)

    def get_company(self, company_id: str) -> Record:
        """The company with ``company_id``; 404 if there is none."""
        with self._lock:
            return copy_record(self.companies.find(company_id, "company")[1])

    def create_company(self, fields: Record) -> Record:
        """Create a company."""
        with self._lock:
            return copy_record(self.companies.add(shaped(fields, COMPANY_DEFAULTS), self._now())[1])

    def update_company(self, company_id: str, fields: Record, *, replace: bool) -> Record:
        """PATCH or PUT a company; a write that changes nothing keeps ``updated_at``."""
        with self._lock:
            number, old = self.companies.find(company_id, "company")
            row = fields if replace else {**old, **fields}
            if same(row, old):
                return copy_record(old)
            return copy_record(
                self.companies.replace(number, shaped(row, COMPANY_DEFAULTS), self._now())
            )

    def delete_company(self, company_id: str) -> None:
        """Delete a company that no contact belongs to (409 otherwise)."""
        with self._lock:
            number = self.companies.find(company_id, "company")[0]
            if members := len(self._by_company.get(number, [])):
                raise ApiError(
                    409,
                    "conflict",
                    f"Company {company_id} still has {members} contact(s). Move or delete "
                    "them first (GET /contacts?company_id=...).",
                )
            self.companies.remove(number)

    # -- webhooks --------------------------------------------------------------

    def add_webhook(self, url: str, events: Iterable[str]) -> Record:
        """Subscribe ``url`` to contact events."""
        with self._lock:
            hook_id = f"wh_{self._next_hook:04d}"
            self._next_hook += 1
            hook = {"id": hook_id, "url": url, "events": list(events), "created_at": self._now()}
            self._hooks[hook_id] = hook
            self._deliveries[hook_id] = deque(maxlen=_DELIVERIES_KEEP)
            return copy_record(hook)

    def webhooks(self) -> list[Record]:
        """Every subscription, oldest first."""
        with self._lock:
            return [copy_record(h) for h in self._hooks.values()]

    def get_webhook(self, hook_id: str) -> Record:
        """One subscription; 404 if there is none."""
        with self._lock:
            if hook_id not in self._hooks:
                raise ApiError(404, "not_found", f"No webhook with id {hook_id!r}.")
            return copy_record(self._hooks[hook_id])

    def delete_webhook(self, hook_id: str) -> None:
        """Unsubscribe; deliveries already queued still go out."""
        with self._lock:
            self.get_webhook(hook_id)
            del self._hooks[hook_id], self._deliveries[hook_id]

    def deliveries(self, hook_id: str) -> list[Record]:
        """The latest deliveries to one subscription, oldest first, with their attempts."""
        with self._lock:
            self.get_webhook(hook_id)
            return [d.summary() for d in self._deliveries[hook_id]]

    # -- apps (built-in connectors) --------------------------------------------

    def apps(self) -> list[Record]:
        """Every built-in connector, with whether it is on."""
        with self._lock:
            return [self._app(app_id).summary() for app_id in APP_IDS]

    def get_app(self, app_id: str) -> Record:
        """One connector's settings, counts and recent log; 404 if there is none."""
        with self._lock:
            return self._app(app_id).details()

    def configure_app(self, app_id: str, *, enabled: bool, list_name: str | None = None) -> Record:
        """Switch a connector on (a full sync into ``list_name``) or off.

        Raises:
            ApiError: 404 for an unknown app; 409 when the service it syncs to is not served.
        """
        with self._lock:
            app = self._app(app_id)
            if not enabled:
                return app.disable()
            return app.enable(list_name, self.contacts.rows(self._seed_identity))

    def _app(self, app_id: str) -> MailConnector:
        if app_id not in APP_IDS:
            known = ", ".join(APP_IDS)
            raise ApiError(404, "not_found", f"No app {app_id!r}; the apps are: {known}.")
        return self.mail_app

    # -- for tests and notebooks -----------------------------------------------

    @property
    def contact_count(self) -> int:
        """How many contacts exist now."""
        with self._lock:
            return len(self.contacts.order)

    @property
    def company_count(self) -> int:
        """How many companies exist now."""
        with self._lock:
            return len(self.companies.order)

    @property
    def messy_ids(self) -> list[str]:
        """Ids of the seed contacts made messy on purpose (email without @, no first name)."""
        with self._lock:
            return [self.contacts.ident(n) for n in self._messy]

    def __repr__(self) -> str:
        return f"<CrmStore seed={self.seed} contacts={self.contact_count}>"
