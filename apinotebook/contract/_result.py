"""What a contract check finds: :class:`Violation` and :class:`ContractResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from apinotebook._core.secrets import mask_text

__all__ = ["ContractResult", "Violation", "json_path"]

#: violations kept per result (a response that breaks everything stays readable)
MAX_VIOLATIONS = 200


def json_path(parts: Any) -> str:
    """``["data", 3, "email"]`` -> ``$.data[3].email`` (JSONPath, as jsonschema writes it)."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True, slots=True)
class Violation:
    """One way the response breaks its contract.

    Attributes:
        path: where: a JSONPath (``$.data[3].email``) or, for SOAP, an XPath.
        message: what is wrong, in words.
        kind: ``type``, ``required``, ``null``, ``unknown``, ``enum``, ``format``,
            ``schema`` (anything else the validator reports).
        expected: what the contract says (a type, a schema keyword), when known.
        actual: what arrived (its type or a short repr), when known.
    """

    path: str
    message: str
    kind: str = "schema"
    expected: str | None = None
    actual: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "message": self.message,
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
        }

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ContractResult:
    """The outcome of checking one response against its description.

    ``ok`` is true when nothing is wrong. ``checked`` is false when the
    response could not be checked (no schema for that status, an empty body,
    a description that cannot be compiled); ``reason`` then says why, and
    ``ok`` stays true: an unchecked response is not a violation.
    """

    protocol: str
    against: str
    violations: list[Violation] = field(default_factory=list)
    checked: bool = True
    reason: str | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the response respects its contract (or could not be checked)."""
        return not self.violations

    def add(self, violation: Violation) -> None:
        """Keep a violation (at most :data:`MAX_VIOLATIONS`)."""
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(violation)
        else:
            self.truncated = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "protocol": self.protocol,
            "against": self.against,
            "ok": self.ok,
            "checked": self.checked,
            "reason": self.reason,
            "violations": [v.to_dict() for v in self.violations],
            "truncated": self.truncated,
        }

    def to_frame(self) -> Any:
        """One row per violation: path, kind, message, expected, actual."""
        import pandas as pd

        columns = ["path", "kind", "message", "expected", "actual"]
        return pd.DataFrame([v.to_dict() for v in self.violations], columns=columns)

    def summary(self) -> str:
        """One line, then one per violation (the first 20)."""
        if not self.checked:
            return f"not checked against {self.against}: {self.reason}"
        if self.ok:
            return f"respects {self.against}"
        more = "+" if self.truncated else ""
        lines = [f"{len(self.violations)}{more} violation(s) of {self.against}:"]
        lines += [f"  {mask_text(str(v))}" for v in self.violations[:20]]
        if len(self.violations) > 20:
            lines.append(f"  ... and {len(self.violations) - 20} more (see .violations)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        state = "unchecked" if not self.checked else ("ok" if self.ok else "violated")
        return f"<ContractResult {self.protocol} {state} violations={len(self.violations)}>"

    def _repr_html_(self) -> str:
        return result_html(self)


def result_html(result: ContractResult) -> str:
    """A small static table (notebooks without widgets, and the Inspector's section)."""
    if not result.checked:
        return (
            "<div class='apinotebook-contract'><b>Contract</b>: not checked against "
            f"{escape(result.against)} ({escape(result.reason or '')})</div>"
        )
    if result.ok:
        return (
            "<div class='apinotebook-contract'><b>Contract</b>: "
            f"<span style='color:#1b7f3b'>respects {escape(result.against)}</span></div>"
        )
    rows = "".join(
        f"<tr><td><code>{escape(v.path)}</code></td><td>{escape(v.kind)}</td>"
        f"<td>{escape(mask_text(v.message))}</td></tr>"
        for v in result.violations[:100]
    )
    return (
        "<div class='apinotebook-contract'><b>Contract</b>: "
        f"<span style='color:#b00020'>{len(result.violations)} violation(s) of "
        f"{escape(result.against)}</span><table><tr><th>path</th><th>kind</th>"
        f"<th>problem</th></tr>{rows}</table></div>"
    )
