"""The compiled pre-check never calls valid what jsonschema rejects (hypothesis).

For each schema, instances are generated from the schema's own shape, then
mutated (a value of another type, a missing key, an extra key, a null), and
``fast(x)`` must equal jsonschema's ``is_valid(x)``: the fast path may only
answer "valid" when jsonschema agrees, and should agree on "invalid" too
(otherwise every such response would pay for jsonschema twice).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from apinotebook.contract._fast import compile_check
from apinotebook.contract._rest import OAS30Validator

CONTACT = {
    "type": "object",
    "required": ["id", "email", "stage", "tags", "phone"],
    "properties": {
        "id": {"type": "string", "pattern": "^c_"},
        "email": {"type": "string", "minLength": 3, "format": "email"},
        "stage": {"type": "string", "enum": ["lead", "customer"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "phone": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "score": {"type": "number", "minimum": 0, "maximum": 10},
        "count": {"type": "integer"},
        "custom": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        "closed": {"type": "object", "properties": {"a": {"type": "boolean"}},
                   "additionalProperties": False},
        "one": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        "both": {"allOf": [{"type": "string"}, {"maxLength": 4}]},
    },
}  # fmt: skip
PAGE = {"type": "object", "required": ["data"],
        "properties": {"data": {"type": "array", "items": CONTACT},
                       "next": {"type": ["string", "null"]}}}  # fmt: skip
OAS30_PET = {
    "type": "object",
    "required": ["id", "tag"],
    "properties": {
        "id": {"type": "integer", "nullable": True},
        "tag": {"type": "string", "enum": ["a", "b"], "nullable": True},
        "nested": {"type": "object", "properties": {"n": {"type": "integer", "x-nullable": True}}},
    },
}

leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 20), st.floats(-5, 20, allow_nan=False),
    st.sampled_from([1.0, 2.0]), st.text(max_size=6),
    st.sampled_from(["lead", "c_1", "a@b", "a", "customer"]),
)  # fmt: skip
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "n", "x", "id"]), inner, max_size=3),
    ),
    max_leaves=8,
)


def instance_of(schema: Any) -> st.SearchStrategy[Any]:
    """Values shaped like ``schema``, with random keys dropped, changed, added or nulled."""
    if not isinstance(schema, dict):
        return values
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        fields = {k: st.one_of(instance_of(v), values) for k, v in schema["properties"].items()}
        return st.fixed_dictionaries(
            {}, optional={**fields, "extra": values}
        ) | st.fixed_dictionaries(fields)
    if kind == "array" and "items" in schema:
        return st.lists(st.one_of(instance_of(schema["items"]), values), max_size=4)
    return values


@pytest.mark.parametrize(
    ("schema", "validator", "modern"),
    [(CONTACT, Draft202012Validator, True), (PAGE, Draft202012Validator, True),
     (OAS30_PET, OAS30Validator, False), (CONTACT, OAS30Validator, False)],
    ids=["contact-3.1", "page-3.1", "pet-3.0", "contact-3.0"],
)  # fmt: skip
def test_the_fast_path_agrees_with_jsonschema(schema, validator, modern):
    fast = compile_check(schema, nullable=not modern, integer_floats=modern,
                         format_checker=validator.FORMAT_CHECKER)  # fmt: skip
    assert fast is not None
    reference = validator(schema, format_checker=validator.FORMAT_CHECKER)

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instance_of(schema))
    def agree(instance: Any) -> None:
        assert fast(instance) == reference.is_valid(instance), instance

    agree()


@pytest.mark.parametrize(
    "schema",
    [{"$ref": "#/x"}, {"not": {"type": "string"}}, {"enum": [1, 2]}, {"const": 1},
     {"type": "object", "patternProperties": {"^a": {}}}, {"items": [{"type": "string"}]},
     {"minimum": float("inf")}, {"exclusiveMinimum": True}, False],
)  # fmt: skip
def test_what_it_does_not_compile_goes_to_jsonschema(schema):
    assert compile_check(schema, nullable=False, integer_floats=True) is None


def test_integers_by_dialect():
    draft4 = compile_check({"type": "integer"}, nullable=False, integer_floats=False)
    modern = compile_check({"type": "integer"}, nullable=False, integer_floats=True)
    assert draft4 and modern
    assert OAS30Validator({"type": "integer"}).is_valid(1.0) == draft4(1.0)
    assert Draft202012Validator({"type": "integer"}).is_valid(1.0) == modern(1.0)
    assert not modern(True) and not draft4(True)


def test_an_object_with_nothing_to_check_inside_compiles():
    # found in GitHub's REST description: {"type": "object", "properties": {"a": {}}}
    fast = compile_check({"type": "object", "properties": {"a": {}}}, nullable=False,
                         integer_floats=True)  # fmt: skip
    assert fast is not None and fast({"a": 1}) and not fast([])
