"""The CRM's built-in ("native") connectors: switch one on, and it syncs by itself.

The course shows three ways to connect two systems: code against both APIs,
webhooks that push changes, and a *native* connector the vendor ships, which
you only switch on. This is the third. ``PUT /crm/apps/mail`` with
``{"enabled": true, "list": "Newsletter"}`` makes the CRM copy every contact
into the mail service's list at once, then keep the list in sync on every
contact create, update and delete. It runs inside the CRM, in process, and
talks to the mail service through its Python API (found through
:mod:`apinotebook.sandbox._registry`), not over HTTP: that is what makes it
native.

It writes the way ``upsertSubscribers`` does: keyed by the lower-cased email,
``name`` is first and last name, omitted fields keep their values, so a
subscriber who unsubscribed in the mail service stays unsubscribed. A contact
whose email the mail service refuses (the CRM's messy records) is skipped and
counted. A deleted contact is unsubscribed; so is the old address of a contact
whose email changed. A failure in the mail service never fails the CRM write:
it is counted and kept in the log that ``GET /crm/apps/mail`` shows.

The store calls :meth:`MailConnector.on_change` under its own lock, so the
connector needs none.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from apinotebook.sandbox._crm_table import Record, email_key
from apinotebook.sandbox._registry import MailingApi, UpsertResult
from apinotebook.sandbox._rest import ApiError

__all__ = ["APP_IDS", "BATCH", "MailConnector"]

#: Every connector the CRM offers.
APP_IDS = ("mail",)
#: Contacts per upsert in a full sync: the mail service's per-call limit.
BATCH = 1000
#: How many log entries ``GET /crm/apps/mail`` keeps.
KEEP_ERRORS, KEEP_ACTIVITY = 20, 50

_COUNTS = ("created", "updated", "unchanged", "unsubscribed", "skipped", "failed")
_ABOUT = {
    "id": "mail",
    "name": "Mail",
    "description": "Keeps a mailing list of the mail service in sync with the CRM's contacts: "
    "every contact with a valid email is subscribed, updated as it changes and "
    "unsubscribed when deleted.",
    "kind": "native",
}


class MailConnector:
    """The CRM → mail sync.

    Args:
        find_mail: returns the mail service's API, or ``None`` when the sandbox
            does not serve it; called lazily, until it finds one.
        clock: the CRM's clock (RFC 3339 text).
    """

    def __init__(
        self, find_mail: Callable[[], MailingApi | None], clock: Callable[[], str]
    ) -> None:
        self._find_mail, self._clock = find_mail, clock
        self._mail: MailingApi | None = None
        self.enabled = False
        self.list_name = "Newsletter"
        self.list_id: str | None = None
        self.last_sync_at: str | None = None
        self.last_full_sync: dict[str, Any] | None = None
        self.counts: Counter[str] = Counter()
        self.errors: deque[Record] = deque(maxlen=KEEP_ERRORS)
        self.activity: deque[Record] = deque(maxlen=KEEP_ACTIVITY)

    def mail(self) -> MailingApi | None:
        """The mail service's API, once it is found."""
        if self._mail is None:
            self._mail = self._find_mail()
        return self._mail

    # -- what the API shows ------------------------------------------------------------

    @property
    def status(self) -> str:
        """``active``, ``disabled`` or ``unavailable`` (the sandbox serves no mail)."""
        if self.enabled:
            return "active"
        return "disabled" if self.mail() is not None else "unavailable"

    def summary(self) -> Record:
        """One entry of ``GET /crm/apps``."""
        return {**_ABOUT, "enabled": self.enabled, "status": self.status}

    def details(self) -> Record:
        """``GET /crm/apps/mail``: settings, counts and the recent log."""
        return {
            **self.summary(),
            "settings": {"list": self.list_name},
            "list_id": self.list_id,
            "last_sync_at": self.last_sync_at,
            "counts": {name: self.counts[name] for name in _COUNTS},
            "last_full_sync": self.last_full_sync,
            "last_errors": list(self.errors),
            "activity": list(self.activity),
        }

    # -- switching ---------------------------------------------------------------------

    def enable(self, list_name: str | None, contacts: Iterable[Record]) -> Record:
        """Switch on (again): reset the counts and copy every contact into the list."""
        mail = self.mail()
        if mail is None:
            raise ApiError(
                409,
                "app_unavailable",
                "The mail service is not running in this sandbox, so there is nothing to "
                "sync to: start the sandbox with the 'mail' service.",
            )
        name = (list_name or self.list_name).strip()
        list_id = mail.ensure_list(name)
        self.enabled, self.list_name, self.list_id = True, name, list_id
        self.counts.clear()
        self.errors.clear()
        self.activity.clear()
        self._log("app.enabled", None, "enabled", f"syncing into list {name!r}")
        seen, totals = 0, Counter[str]()
        for batch in _batches(contacts, BATCH):
            seen += len(batch)
            totals.update(self._upsert(mail, list_id, batch, "sync"))
        counts = {name: totals[name] for name in _COUNTS if name != "unsubscribed"}
        self.last_full_sync = {"at": self._clock(), "contacts": seen, **counts}
        self.last_sync_at = self.last_full_sync["at"]
        return self.details()

    def disable(self) -> Record:
        """Switch off: later contact changes are not synced; the log stays."""
        if self.enabled:
            self.enabled = False
            self._log("app.disabled", None, "disabled", "")
        return self.details()

    # -- keeping in sync ---------------------------------------------------------------

    def on_change(self, event: str, row: Record, old: Record | None) -> None:
        """Sync one contact write: ``contact.created``, ``.updated`` or ``.deleted``."""
        if not self.enabled or self._mail is None or self.list_id is None:
            return
        mail = self._mail
        if event == "contact.deleted":
            self._unsubscribe(mail, self.list_id, row, event)
            return
        self._upsert(mail, self.list_id, [row], event)
        if old is not None and email_key(old["email"]) != email_key(row["email"]):
            self._unsubscribe(mail, self.list_id, old, event)

    def _upsert(
        self, mail: MailingApi, list_id: str, rows: list[Record], event: str
    ) -> Counter[str]:
        items = [{"email": row["email"], "name": _name(row)} for row in rows]
        done: Counter[str] = Counter()
        try:
            result: UpsertResult = mail.upsert(list_id, items)
        except Exception as exc:  # a connector failure never fails the CRM's write
            done["failed"] = len(rows)
            self._failed(event, rows, exc)
        else:
            done.update(
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                skipped=len(result.user_errors),
            )
            for error in result.user_errors:
                row = rows[error.index]
                self._error(event, row, error.message)
                if len(rows) == 1:
                    self._log(event, row, "skipped", error.message)
            if len(rows) == 1 and not result.user_errors:
                kind = next((k for k in ("created", "updated") if done[k]), "unchanged")
                self._log(event, rows[0], kind, "")
        self.counts.update(done)
        self.last_sync_at = self._clock()
        return done

    def _unsubscribe(self, mail: MailingApi, list_id: str, row: Record, event: str) -> None:
        try:
            found = mail.unsubscribe(list_id, row["email"], missing_ok=True)
        except Exception as exc:  # as in _upsert
            self.counts["failed"] += 1
            self._failed(event, [row], exc)
            return
        if found is not None:
            self.counts["unsubscribed"] += 1
            self._log(event, row, "unsubscribed", "")
        self.last_sync_at = self._clock()

    # -- the log -----------------------------------------------------------------------

    def _failed(self, event: str, rows: list[Record], exc: Exception) -> None:
        message = f"the mail service failed: {type(exc).__name__}: {exc}"
        for row in rows[-KEEP_ERRORS:]:
            self._error(event, row, message)
        self._log(event, rows[0] if len(rows) == 1 else None, "failed", message)

    def _error(self, event: str, row: Record, message: str) -> None:
        self.errors.append(
            {
                "at": self._clock(),
                "event": event,
                "contact_id": row["id"],
                "email": row["email"],
                "message": message,
            }
        )

    def _log(self, event: str, row: Record | None, result: str, message: str) -> None:
        entry: Record = {"at": self._clock(), "event": event}
        if row is not None:
            entry.update(contact_id=row["id"], email=row["email"])
        entry["result"] = result
        if message:
            entry["message"] = message
        self.activity.append(entry)


def _name(row: Record) -> str | None:
    """``first last``, or ``None`` (keep the subscriber's name) when both are empty."""
    name = " ".join(part.strip() for part in (row["first_name"], row["last_name"]) if part.strip())
    return name or None


def _batches(rows: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch
