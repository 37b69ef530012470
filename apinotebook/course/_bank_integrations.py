"""Exercises of the integration chapters: 03, 07 (CRM → newsletter), 09 (billing → CRM)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apinotebook.course._exercises import Exercise, Mistake

__all__ = ["INTEGRATION_EXERCISES"]

ADA = {
    "id": "c_000007",
    "email": "  Ada.Lee@Example.COM ",
    "first_name": "Ada",
    "last_name": "Lee",
    "updated_at": "2026-03-02T10:00:00Z",
}
ADA_AGAIN = {**ADA, "id": "c_000912", "email": "ada.lee@example.com"}  # a duplicate record
BROKEN = {**ADA, "id": "c_000013", "email": "ada.lee at example.com"}

# -- 03 · What an integration is -------------------------------------------------------------


def _judge_key(fn: Any) -> str | None:
    first, second = fn(dict(ADA)), fn(dict(ADA_AGAIN))
    if first == ADA["id"]:
        return (
            "you keyed on the contact id, but the newsletter list is keyed by email: two CRM "
            "records of one person would become two subscribers."
        )
    if first != second:
        return (
            f"{ADA['email']!r} and {ADA_AGAIN['email']!r} are one address, but your keys "
            f"differ ({first!r}, {second!r}): strip the spaces and compare in lower case."
        )
    return None


KEY = Exercise(
    id="03.1",
    title="One person, one key",
    task="The destination keeps one subscriber per email. Write key(contact) so that two CRM "
    "records of the same person get the same dedupe key.",
    stub='def key(contact):\n    raise NotImplementedError("your turn")',
    judge=_judge_key,
    hints=(
        "What identifies a subscriber at the destination? Not the CRM's id.",
        "Emails differ in case and spaces the CRM kept: normalise them.",
    ),
    solution="def key(contact):\n    return contact['email'].strip().lower()",
    mistakes=(
        Mistake("def key(contact):\n    return contact['id']", "keyed on the contact id"),
        Mistake("def key(contact):\n    return contact['email']", "compare in lower case"),
    ),
)


def _judge_changed(fn: Any) -> str | None:
    seen = "2026-03-02T10:00:00Z"
    if fn(None, dict(ADA)) is not True:
        return "a contact never seen before (version None) must count as changed."
    if fn(seen, dict(ADA)) is not False:
        return (
            "the same updated_at as last time means nothing changed: counting it as changed "
            "would send everything again on every run."
        )
    if fn(seen, {**ADA, "updated_at": "2026-03-05T08:30:00Z"}) is not True:
        return "a later updated_at means the contact changed since the last run."
    return None


CHANGED = Exercise(
    id="03.2",
    title="Has it changed since last time?",
    task="The integration remembers the updated_at it last delivered for each contact (None "
    "if never). Write changed(seen_version, contact): True when the contact must be sent again.",
    stub='def changed(seen_version, contact):\n    raise NotImplementedError("your turn")',
    judge=_judge_changed,
    hints=(
        "Three cases: never seen, seen with the same version, seen with an older version.",
        "return seen_version is None or contact['updated_at'] != seen_version",
    ),
    solution=(
        "def changed(seen_version, contact):\n"
        "    return seen_version is None or contact['updated_at'] != seen_version"
    ),
    mistakes=(
        Mistake("def changed(seen_version, contact):\n    return True", "send everything again"),
        Mistake(
            "def changed(seen_version, contact):\n    return seen_version is None",
            "a later updated_at",
        ),
    ),
)

# -- 07 · CRM → newsletter -------------------------------------------------------------------


def _judge_subscriber(fn: Any) -> str | None:
    got = fn(dict(ADA))
    if not isinstance(got, dict):
        return f"return the subscriber as a dict with email and name, not {got!r}."
    email = got.get("email")
    if email == ADA["id"]:
        return "you matched on the contact id, but the list is keyed by email."
    if email != "ada.lee@example.com":
        return f"the email must be stripped and lower-cased: 'ada.lee@example.com', not {email!r}."
    if got.get("name") != "Ada Lee":
        return (
            f"name is the first and last name with one space: 'Ada Lee', not {got.get('name')!r}."
        )
    broken = fn(dict(BROKEN))
    if broken is not None:
        return (
            "a contact whose email has no '@' must be skipped (return None): the mail service "
            "refuses it and it would become a dead letter on every run."
        )
    return None


SUBSCRIBER = Exercise(
    id="07.1",
    title="Map a contact to a subscriber",
    task="Write to_subscriber(contact) returning {'email': ..., 'name': ...} for the mail "
    "service, or None for a contact the mail service would refuse.",
    stub='def to_subscriber(contact):\n    raise NotImplementedError("your turn")',
    judge=_judge_subscriber,
    hints=(
        "Look at the data first: the CRM keeps emails with spaces and capitals.",
        "if '@' not in email: return None",
    ),
    solution=(
        "def to_subscriber(contact):\n"
        "    email = contact['email'].strip().lower()\n"
        "    if '@' not in email:\n"
        "        return None\n"
        "    return {'email': email, 'name': f\"{contact['first_name']} {contact['last_name']}\"}"
    ),
    mistakes=(
        Mistake(
            "def to_subscriber(contact):\n"
            "    return {'email': contact['id'], 'name': contact['first_name']}",
            "matched on the contact id",
        ),
        Mistake(
            "def to_subscriber(contact):\n"
            "    return {'email': contact['email'].strip().lower(),\n"
            "            'name': contact['first_name'] + ' ' + contact['last_name']}",
            "must be skipped",
        ),
        Mistake(
            "def to_subscriber(contact):\n"
            "    return {'email': contact['email'],\n"
            "            'name': contact['first_name'] + ' ' + contact['last_name']}",
            "stripped and lower-cased",
        ),
    ),
)


def _judge_tags(fn: Any) -> str | None:
    got = fn(["newsletter", "vip"], ["vip", "beta"])
    if not isinstance(got, list):
        return f"return a list of tags, not {type(got).__name__}."
    if "newsletter" not in got:
        return "the subscriber's existing tags were dropped: other tools set them, keep them."
    if len(got) != len(set(got)):
        return f"'vip' appears twice in {got}: add only the tags not there yet."
    if got != ["newsletter", "vip", "beta"]:
        return f"keep the existing order and add new tags at the end: {got}."
    return None


TAGS = Exercise(
    id="07.2",
    title="Merge tags without losing any",
    task="The mail service replaces a subscriber's tags with what you send. Write "
    "merge_tags(existing, incoming): the existing tags, then the incoming ones not there yet.",
    stub='def merge_tags(existing, incoming):\n    raise NotImplementedError("your turn")',
    judge=_judge_tags,
    hints=(
        "Start from the existing list; append what is new.",
        "existing + [t for t in incoming if t not in existing]",
    ),
    solution=(
        "def merge_tags(existing, incoming):\n"
        "    return existing + [t for t in incoming if t not in existing]"
    ),
    mistakes=(
        Mistake("def merge_tags(existing, incoming):\n    return incoming", "were dropped"),
        Mistake(
            "def merge_tags(existing, incoming):\n    return existing + incoming", "appears twice"
        ),
    ),
)

# -- 09 · Billing → CRM ----------------------------------------------------------------------

INVOICE = [
    {"description": "Plan", "quantity": 3, "unit_price": "19.90"},
    {"description": "Setup", "quantity": 1, "unit_price": "0.30"},
]


def _judge_total(fn: Any) -> str | None:
    got = fn([dict(line) for line in INVOICE])
    if isinstance(got, float):
        return (
            "the total is a float: 3 x 19.90 + 0.30 in floating point is "
            f"{3 * 19.90 + 0.30!r}. Use Decimal for money."
        )
    if got == Decimal("20.20"):
        return "each line is quantity x unit_price: the plan is 3 x 19.90."
    if got != Decimal("60.00"):
        return f"3 x 19.90 + 1 x 0.30 is 60.00; you returned {got!r}."
    if fn([]) != 0:
        return "an invoice without lines totals 0."
    return None


TOTAL = Exercise(
    id="09.1",
    title="An invoice total, to the cent",
    task="Billing sends invoice lines with quantity and unit_price (text). Write "
    "invoice_total(lines) returning the exact total as a Decimal.",
    stub='def invoice_total(lines):\n    raise NotImplementedError("your turn")',
    judge=_judge_total,
    hints=(
        "Decimal(line['unit_price']) keeps 19.90 exact; float does not.",
        "sum((line['quantity'] * Decimal(line['unit_price']) for line in lines), Decimal(0))",
    ),
    solution=(
        "from decimal import Decimal\n\n\n"
        "def invoice_total(lines):\n"
        "    return sum((line['quantity'] * Decimal(line['unit_price']) for line in lines),\n"
        "               Decimal(0))"
    ),
    mistakes=(
        Mistake(
            "def invoice_total(lines):\n"
            "    return sum(line['quantity'] * float(line['unit_price']) for line in lines)",
            "is a float",
        ),
        Mistake(
            "from decimal import Decimal\n\n\ndef invoice_total(lines):\n"
            "    return sum((Decimal(line['unit_price']) for line in lines), Decimal(0))",
            "quantity x unit_price",
        ),
    ),
)

CURRENT = {"tier": "gold", "owner": "sales-emea", "balance": "120.00"}


def _judge_merge(fn: Any) -> str | None:
    got = fn(dict(CURRENT), {"balance": "80.00", "tier": None})
    if not isinstance(got, dict):
        return f"return the merged custom fields as a dict, not {got!r}."
    if "owner" not in got:
        return (
            "a replace dropped 'owner', which another team set: merge into what the CRM "
            "holds (read, merge, then PATCH)."
        )
    if got.get("tier") is None:
        return "an empty value from billing erased 'tier' in the CRM: skip None values."
    if got.get("balance") != "80.00":
        return "billing's new balance must win over the CRM's old one."
    return None


MERGE = Exercise(
    id="09.2",
    title="Merge, do not replace",
    task="Write merge_fields(current, incoming): the CRM's custom fields updated with billing's "
    "values, keeping fields billing does not send and ignoring billing's empty (None) values.",
    stub='def merge_fields(current, incoming):\n    raise NotImplementedError("your turn")',
    judge=_judge_merge,
    hints=(
        "{**current, **incoming} is a start: what does it do with None?",
        "{**current, **{k: v for k, v in incoming.items() if v is not None}}",
    ),
    solution=(
        "def merge_fields(current, incoming):\n"
        "    return {**current, **{k: v for k, v in incoming.items() if v is not None}}"
    ),
    mistakes=(
        Mistake(
            "def merge_fields(current, incoming):\n    return dict(incoming)", "dropped 'owner'"
        ),
        Mistake(
            "def merge_fields(current, incoming):\n    return {**current, **incoming}",
            "erased 'tier'",
        ),
    ),
)

INTEGRATION_EXERCISES = (KEY, CHANGED, SUBSCRIBER, TAGS, TOTAL, MERGE)
