"""Contracts, diffs and drift: is the response what the API description promises?

>>> ex = crm.call("listContacts", limit=50)                     # doctest: +SKIP
>>> ex.check_contract()                                          # doctest: +SKIP
<ContractResult rest ok violations=0>
>>> crm = RestClient.from_openapi(SPEC, check_contracts="raise")  # doctest: +SKIP
>>> print(ex.diff(history[-2]))                                  # doctest: +SKIP
>>> assert_matches_snapshot(ex, "snapshots/contacts.json", ignore=["updated_at"])  # doctest: +SKIP

``Exchange.check_contract`` and ``Exchange.diff`` / ``History.diff`` reach
this package through :mod:`apinotebook._core.contracts`; importing it
registers the implementations. See ``docs/contracts.md``.
"""

from __future__ import annotations

from typing import Any

from apinotebook._core import contracts as _hooks
from apinotebook._history import History
from apinotebook.contract._check import check_contract, description_of
from apinotebook.contract._diff import Change, Diff, assert_matches_snapshot, diff, payload_of
from apinotebook.contract._result import ContractResult, Violation
from apinotebook.contract._shape import (
    FieldShape,
    Shape,
    ShapeDrift,
    compare_shapes,
    compatible,
    infer_shape,
    type_name,
)

__all__ = [
    "Change",
    "ContractResult",
    "Diff",
    "FieldShape",
    "Shape",
    "ShapeDrift",
    "Violation",
    "assert_matches_snapshot",
    "check_contract",
    "compare_shapes",
    "compatible",
    "description_of",
    "diff",
    "infer_shape",
    "payload_of",
    "type_name",
]


def _history_diff(history: History, a: Any, b: Any, **options: Any) -> Diff:
    left = history[a] if isinstance(a, int) else a
    right = history[b] if isinstance(b, int) else b
    return diff(left, right, **options)


_hooks.register("check", check_contract)
_hooks.register("diff", diff)
_hooks.register("history_diff", _history_diff)
