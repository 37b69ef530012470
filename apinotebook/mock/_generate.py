"""Values that fit a JSON schema, deterministic per seed: what a mock answers with.

Why not a library: ``hypothesis-jsonschema`` draws through Hypothesis' engine
(slow, and its examples are not reproducible per seed), ``jsf`` draws from the
global ``random`` with Faker and knows nothing of OpenAPI (``nullable``,
``readOnly``, the recursion markers our resolver leaves). What a mock needs is
small: one plausible value per schema, the same one for the same seed and key,
in microseconds, with recursion bounded. Patterns go to ``rstr`` (a maintained
regex-to-string generator that takes our seeded ``random.Random``).

The schema's own ``example`` (or the first of 3.1's ``examples``), ``const``
and ``default`` come first; then ``enum``; then ``allOf`` (merged),
``oneOf``/``anyOf`` (one branch, chosen by the seed); then the type with its
format and bounds.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

__all__ = ["Generator", "Mode", "merge_all_of", "pick_type"]

#: ``response``: skip ``writeOnly`` properties; ``request``: skip ``readOnly`` ones.
Mode = Literal["response", "request"]

_WORDS = ("alpha", "bravo", "delta", "echo", "kilo", "lima", "nova", "orbit", "pixel", "quartz")
_BASE = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def pick_type(schema: Mapping[str, Any]) -> str | None:
    """The one JSON type a schema asks for (3.1 type lists: the first that is not null)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return None


def merge_all_of(schema: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """``allOf`` flattened into one schema: properties and ``required`` merged."""
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    parts = schema.get("allOf")
    if not isinstance(parts, list) or depth > 8:
        return merged
    props: dict[str, Any] = dict(merged.get("properties") or {})
    required: list[Any] = list(merged.get("required") or [])
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        flat = merge_all_of(part, depth + 1)
        for key, value in flat.items():
            if key == "properties" and isinstance(value, Mapping):
                props.update(value)
            elif key == "required" and isinstance(value, list):
                required += [r for r in value if r not in required]
            else:
                merged.setdefault(key, value)
    if props:
        merged["properties"] = props
    if required:
        merged["required"] = required
    return merged


class Generator:
    """One plausible value per schema, the same for the same seed and key.

    Args:
        seed: changes every generated value; the same seed gives the same values.
        max_depth: below this nesting, objects keep only their required properties
            and arrays their ``minItems``; recursion always ends.
        max_items: at most this many items in a generated array (``minItems`` wins).
    """

    def __init__(self, seed: int = 0, *, max_depth: int = 6, max_items: int = 2) -> None:
        self.seed = seed
        self.max_depth = max_depth
        self.max_items = max_items

    def rng(self, key: str) -> random.Random:
        """A random source for ``key`` under this seed."""
        return random.Random(f"{self.seed}\0{key}")

    def value(self, schema: Any, *, key: str = "", mode: Mode = "response") -> Any:
        """A value for ``schema``; ``key`` (a route, a status) varies it per place."""
        return _Run(self, self.rng(key), mode).make(schema, 0)


class _Run:
    def __init__(self, gen: Generator, rng: random.Random, mode: Mode) -> None:
        self.gen, self.rng, self.mode = gen, rng, mode

    def make(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, Mapping):
            return self.word()
        if "x-recursive" in schema or "x-unresolved" in schema:
            return {}
        if "const" in schema:
            return schema["const"]
        examples = schema.get("examples")
        given = [schema.get("example"), schema.get("default")]
        given += examples[:1] if isinstance(examples, list) else []
        for value in given:
            if value is not None and _has_type(value, schema):
                return value
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            typed = [v for v in enum if v is not None and _has_type(v, {**schema, "enum": None})]
            return self.rng.choice(typed or [v for v in enum if v is not None] or enum)
        if isinstance(schema.get("allOf"), list):
            return self.make(merge_all_of(schema), depth)
        for key in ("oneOf", "anyOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                usable = [b for b in branches if isinstance(b, Mapping) and not _is_null(b)]
                branch = self.rng.choice(usable or branches)
                rest = {k: v for k, v in schema.items() if k not in (key, "discriminator")}
                if rest.get("properties") or rest.get("type"):
                    branch = merge_all_of({"allOf": [rest, branch]})
                return self.make(branch, depth)
        kind = pick_type(schema)
        if kind == "object":
            return self.obj(schema, depth)
        if kind == "array":
            return self.array(schema, depth)
        if kind == "integer":
            return int(self.number(schema, integer=True))
        if kind == "number":
            return self.number(schema, integer=False)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string(schema)

    def obj(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = schema.get("required")
        required = (
            {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
        )
        skip = "writeOnly" if self.mode == "response" else "readOnly"
        shallow = depth >= self.gen.max_depth
        out: dict[str, Any] = {}
        for name, sub in props.items():
            wanted = name in required or not shallow
            if not wanted or (isinstance(sub, Mapping) and sub.get(skip) is True):
                continue
            out[str(name)] = self.make(sub, depth + 1)
        for name in required - set(props):  # required but not described
            out[name] = self.word()
        return out

    def array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        low = _int(schema.get("minItems"), 0)
        high = _int(schema.get("maxItems"), max(low, self.gen.max_items))
        count = low if depth >= self.gen.max_depth else max(low, min(high, self.rng.randint(1, 2)))
        items = schema.get("items")
        if isinstance(items, list):  # draft 4 tuples
            return [self.make(s, depth + 1) for s in items[: max(count, len(items))]]
        out: list[Any] = []
        for _ in range(count * 4):
            value = self.make(items, depth + 1)
            if schema.get("uniqueItems") is True and value in out:
                continue
            out.append(value)
            if len(out) == count:
                break
        return out

    def number(self, schema: Mapping[str, Any], *, integer: bool) -> float:
        low, high = schema.get("minimum"), schema.get("maximum")
        low = low if isinstance(low, int | float) and not isinstance(low, bool) else None
        high = high if isinstance(high, int | float) and not isinstance(high, bool) else None
        ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        step = 1 if integer else 0.01
        if isinstance(ex_low, int | float) and not isinstance(ex_low, bool):
            low = ex_low + step
        elif ex_low is True and low is not None:
            low += step
        if isinstance(ex_high, int | float) and not isinstance(ex_high, bool):
            high = ex_high - step
        elif ex_high is True and high is not None:
            high -= step
        if low is None:
            low = 1 if high is None or high >= 1 else high - 100
        if high is None or high < low:
            high = low + 1000
        multiple = schema.get("multipleOf")
        if isinstance(multiple, int | float) and not isinstance(multiple, bool) and multiple > 0:
            first = -(-low // multiple)
            last = high // multiple
            n = self.rng.randint(int(first), int(max(first, last)))
            return int(n * multiple) if integer else float(n * multiple)
        if integer:
            import math

            return self.rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high)))
        return round(self.rng.uniform(low, high), 2)

    def word(self) -> str:
        return f"{self.rng.choice(_WORDS)}-{self.rng.randint(1, 999)}"

    def string(self, schema: Mapping[str, Any]) -> str:
        low = _int(schema.get("minLength"), 0)
        high = _int(schema.get("maxLength"), -1)
        pattern = schema.get("pattern")
        text = self.matching(pattern, low, high) if isinstance(pattern, str) else None
        if text is not None:
            return text
        fmt = schema.get("format")
        text = (self.formatted(fmt) if isinstance(fmt, str) else None) or self.word()
        if len(text) < low:
            text += "x" * (low - len(text))
        return text[: max(high, low)] if high >= 0 else text

    def matching(self, pattern: str, low: int, high: int) -> str | None:
        """A string that matches ``pattern`` within the length bounds, or ``None``."""
        try:
            import rstr

            compiled = re.compile(pattern)
            short = _bounded(pattern, 8 if high < 0 else max(1, min(8, high // 8)))
            for attempt in range(8):
                text = str(rstr.Rstr(self.rng).xeger(short if attempt < 6 else pattern))
                if compiled.search(text) and low <= len(text) <= (high if high >= 0 else 4096):
                    return text
        except Exception:  # noqa: BLE001 - a pattern Python or rstr cannot read: no match
            return None
        return None

    def formatted(self, fmt: str) -> str | None:
        rng = self.rng
        moment = _BASE + dt.timedelta(seconds=rng.randint(0, 86_400 * 365))
        values = {
            "date-time": lambda: moment.isoformat().replace("+00:00", "Z"),
            "date": lambda: moment.date().isoformat(),
            "time": lambda: moment.time().isoformat() + "Z",
            "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "email": lambda: f"{self.word()}@example.com",
            "idn-email": lambda: f"{self.word()}@example.com",
            "uri": lambda: f"https://example.com/{self.word()}",
            "url": lambda: f"https://example.com/{self.word()}",
            "iri": lambda: f"https://example.com/{self.word()}",
            "uri-reference": lambda: f"/{self.word()}",
            "hostname": lambda: f"{self.word()}.example.com",
            "ipv4": lambda: f"192.0.2.{rng.randint(1, 254)}",
            "ipv6": lambda: f"2001:db8::{rng.randint(1, 0xFFFF):x}",
            "byte": lambda: base64.b64encode(self.word().encode()).decode(),
            "binary": self.word,
            "password": lambda: "********",
            "duration": lambda: f"PT{rng.randint(1, 59)}M",
        }
        make: Callable[[], str] | None = values.get(fmt.lower())
        return make() if make is not None else None


_PYTHON_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": int | float,
                                 "boolean": bool, "array": list, "object": dict}  # fmt: skip


def _has_type(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether an example is of the schema's JSON type (vendors' examples often are not)."""
    kind = pick_type(schema)
    if kind is None:
        return True
    if isinstance(value, bool) and kind != "boolean":
        return False
    if not isinstance(value, _PYTHON_TYPES.get(kind, object)):
        return False
    enum = schema.get("enum")
    return not isinstance(enum, list) or value in enum


def _bounded(pattern: str, limit: int = 8) -> str:
    """``pattern`` with ``*``, ``+`` (outside classes) and ``{n,}`` bounded by ``limit``.

    rstr repeats an unbounded item up to 100 times, which overshoots most
    ``maxLength``s; the result is still checked against the original pattern.
    """
    out: list[str] = []
    escaped = in_class = False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch in "*+" and out and out[-1] not in ("*", "+", "}", "?"):
            out.append(f"{{0,{limit}}}" if ch == "*" else f"{{1,{limit}}}")
            continue
        out.append(ch)
    return re.sub(
        r"(?<!\\)\{(\d+),\}", lambda m: f"{{{m[1]},{int(m[1]) + limit // 2}}}", "".join(out)
    )


def _is_null(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "null" or schema.get("enum") == [None]


def _int(value: Any, default: int) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
