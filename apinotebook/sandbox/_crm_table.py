"""The CRM's tables: records kept in ``(updated_at, number)`` order, and record helpers.

A :class:`Table` keeps every live record number in one list sorted by
``(updated_at, number)``. A page is one :func:`bisect.bisect_right` to the
cursor and a slice, never a scan and a sort. A write takes the record out at
its old key and puts it back at its new one, so an updated record moves to the
end of the order, where an incremental sync finds it.

Seed records are made lazily: a table builds a seed record the first time
something reads it, and until then knows only its ``updated_at``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from apinotebook.sandbox import _seed
from apinotebook.sandbox._rest import ApiError

__all__ = [
    "Record",
    "Table",
    "copy_record",
    "cursor_of",
    "email_key",
    "fingerprint",
    "parse_timestamp",
    "same",
    "shaped",
]

Record = dict[str, Any]

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_READ_ONLY = frozenset({"id", "created_at", "updated_at"})


def parse_timestamp(value: str, field: str = "updated_since") -> str:
    """Normalise an RFC 3339 timestamp to the CRM's sortable text form.

    Sub-millisecond parts round *up*, so ``>=`` against the stored
    millisecond timestamps never includes a record from before ``value``.

    Raises:
        ApiError: 422 if ``value`` is not an RFC 3339 timestamp with a timezone.
    """
    try:
        ts = datetime.fromisoformat(value.strip())
    except ValueError:
        ts = None
    if ts is None or ts.tzinfo is None:
        problem = "is not an RFC 3339 timestamp" if ts is None else "has no timezone (add Z)"
        message = f"{value!r} {problem}; for example 2025-10-01T00:00:00Z"
        raise ApiError.invalid("query", field, message)
    if ts.microsecond % 1000:
        ts += timedelta(microseconds=1000 - ts.microsecond % 1000)
    return _seed.isoformat(ts)


class Table:
    """Records of one kind in ``(updated_at, number)`` order.

    Numbers ``1..seeded`` are seed records, built by ``make`` on first read;
    until then ``seed_updated`` gives their ``updated_at`` cheaply, so a binary
    search does not build the records it only looks at. ``order`` holds the
    seed numbers sorted by key to begin with.
    """

    def __init__(
        self,
        prefix: str,
        width: int,
        seeded: int,
        make: Callable[[int], Record],
        seed_updated: Callable[[int], datetime],
        order: list[int],
    ) -> None:
        self.prefix, self.width = prefix, width
        self._seeded, self._make, self._seed_updated = seeded, make, seed_updated
        self._rows: dict[int, Record] = {}
        self._gone: set[int] = set()
        self.order = order
        self.next_number = self._seeded + 1

    def ident(self, number: int) -> str:
        """The id of record ``number`` (``c_000042``)."""
        return f"{self.prefix}{number:0{self.width}d}"

    def parse(self, ident: str) -> int | None:
        """The number in an id of this table's shape, or ``None``."""
        digits = ident.removeprefix(self.prefix)
        ok = ident.startswith(self.prefix) and digits.isdigit() and digits.isascii()
        ok = ok and len(digits) < 16
        return int(digits) if ok else None

    def get(self, number: int | None) -> Record | None:
        """The live record ``number`` (a seed record is built and kept), or ``None``."""
        if number is None:
            return None
        row = self._rows.get(number)
        if row is None and 0 < number <= self._seeded and number not in self._gone:
            row = self._rows[number] = self._make(number)
        return row

    def find(self, ident: str, kind: str) -> tuple[int, Record]:
        """The number and record of a live id; 404 otherwise."""
        number = self.parse(ident)
        row = self.get(number)
        if number is None or row is None:
            raise ApiError(404, "not_found", f"No {kind} with id {ident!r}.")
        return number, row

    def key(self, number: int) -> tuple[str, int]:
        """The sort key of a live record."""
        row = self._rows.get(number)
        if row is None:  # an unread seed record (only live numbers are ever keyed)
            return (_seed.isoformat(self._seed_updated(number)), number)
        return (row["updated_at"], number)

    def add(self, fields: Record, now: str) -> tuple[int, Record]:
        """Store a new record; returns its number and the record."""
        number = self.next_number
        self.next_number += 1
        row = {"id": self.ident(number), **fields, "created_at": now, "updated_at": now}
        self._rows[number] = row
        insort(self.order, number, key=self.key)
        return number, row

    def replace(self, number: int, fields: Record, now: str) -> Record:
        """Replace a record's fields; it moves to its new place in the order."""
        old = self._rows[number]
        self.unlink(self.order, number)
        row = {"id": old["id"], **fields, "created_at": old["created_at"], "updated_at": now}
        self._rows[number] = row
        insort(self.order, number, key=self.key)
        return row

    def remove(self, number: int) -> None:
        """Delete a record."""
        self.unlink(self.order, number)
        self._rows.pop(number, None)
        self._gone.add(number)

    def unlink(self, seq: list[int], number: int) -> None:
        """Take ``number`` out of ``seq`` (sorted by key) at its current key."""
        pos = bisect_left(seq, self.key(number), key=self.key)
        if pos < len(seq) and seq[pos] == number:
            del seq[pos]

    def rows(self, make: Callable[[int], Record]) -> Iterator[Record]:
        """Every live record in order; ``make`` stands in for unread seed records.

        Nothing is kept, so a pass over 100,000 contacts does not turn them all
        into records; ``make`` may build only the fields the caller needs.
        """
        for number in list(self.order):
            row = self._rows.get(number)
            yield row if row is not None else make(number)

    def page(self, seq: list[int], limit: int, cursor: str | None, since: str | None) -> Record:
        """``{"data", "next_cursor", "has_more"}`` for ``seq`` after the cursor."""
        start = 0 if since is None else bisect_left(seq, (since, 0), key=self.key)
        if cursor:
            start = max(start, bisect_right(seq, self._decode(cursor), key=self.key))
        numbers = seq[start : start + limit + 1]
        rows = [copy_record(self.get(n) or {}) for n in numbers]
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "data": rows,
            "next_cursor": cursor_of(rows[-1]) if more else None,
            "has_more": more,
        }

    def _decode(self, cursor: str) -> tuple[str, int]:
        try:
            updated_at, ident = json.loads(
                base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            )
            number = self.parse(ident)
            if number is not None and _TIMESTAMP.fullmatch(updated_at):
                return (updated_at, number)
        except (binascii.Error, ValueError, TypeError, AttributeError):
            pass
        raise ApiError.invalid(
            "query",
            "cursor",
            "not a cursor from this list: pass next_cursor from the previous page unchanged "
            "(with the same filters), or leave cursor out to start from the beginning",
        )


def cursor_of(row: Record) -> str:
    """The opaque cursor that continues a list after ``row``."""
    raw = json.dumps([row["updated_at"], row["id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def fingerprint(payload: Any) -> str:
    """A stable hash of a JSON-able value."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def email_key(email: str) -> str:
    """How emails are compared: trimmed and lower-cased."""
    return email.strip().lower()


def same(new: Record, old: Record) -> bool:
    """Whether writing ``new`` over ``old`` changes nothing (``1`` and ``true`` differ)."""
    keys = [k for k in new if k not in _READ_ONLY]
    return fingerprint({k: new[k] for k in keys}) == fingerprint({k: old.get(k) for k in keys})


def shaped(fields: Record, defaults: Record) -> Record:
    """The record's writable fields in order; 422 if JSON could not carry them back."""
    row = copy_record({k: fields.get(k, v) for k, v in defaults.items()})
    try:
        json.dumps(row, allow_nan=False, ensure_ascii=False).encode()
    except (ValueError, UnicodeError):
        message = "body: text that is not Unicode, or a number JSON cannot carry"
        detail = {"loc": ["body"], "field": "body", "message": message[6:], "type": "invalid"}
        raise ApiError(422, "validation_error", message, details=[detail]) from None
    return row


def copy_record(row: Record) -> Record:
    """A copy deep enough for records: lists and dicts one level down are copied too."""
    return {k: v.copy() if isinstance(v, list | dict) else v for k, v in row.items()}
