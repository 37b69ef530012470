"""The value generator: values that fit their schema, the same for the same seed."""

from __future__ import annotations

import re

import jsonschema
import pytest

from apinotebook.mock import Generator

pytest.importorskip("rstr")

FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER

SCHEMAS = [
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "uuid"},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "ipv4"},
    {"type": "string", "format": "uri"},
    {"type": "string", "minLength": 70},
    {"type": "string", "maxLength": 3},
    {"type": "string", "pattern": r"^[A-Z]{3}-\d{2,4}$"},
    {"type": "integer", "minimum": 10, "maximum": 12},
    {"type": "integer", "exclusiveMinimum": 5, "exclusiveMaximum": 7},
    {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 20},
    {"type": "number", "minimum": 0.5, "maximum": 0.75},
    {"type": "boolean"},
    {"enum": ["red", "green", "blue"]},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 5},
    {"type": "array", "items": {"enum": [1, 2, 3]}, "minItems": 2, "uniqueItems": True},
    {
        "type": "object",
        "required": ["id", "tags"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 1},
            "size": {"type": ["integer", "null"], "minimum": 1},
        },
    },
    {
        "allOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
            {"required": ["b"], "properties": {"b": {"const": "x"}}},
        ]
    },  # fmt: skip
    {"oneOf": [{"type": "integer", "minimum": 1000}, {"type": "string", "maxLength": 2}]},
    {"anyOf": [{"type": "null"}, {"type": "string", "format": "date"}]},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: str(s)[:60])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_value_fits_its_schema(schema, seed):
    value = Generator(seed).value(schema, key="k")
    jsonschema.validate(value, schema, format_checker=FORMATS)


def test_the_same_seed_and_key_give_the_same_value_and_others_differ():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}}}
    values = {str(Generator(s).value(schema, key="GET /a")) for s in range(10)}
    assert Generator(3).value(schema, key="GET /a") == Generator(3).value(schema, key="GET /a")
    assert len(values) > 5
    assert Generator(3).value(schema, key="GET /a") != Generator(3).value(schema, key="GET /b")


def test_examples_and_defaults_come_first():
    assert Generator().value({"type": "string", "example": "Rex"}) == "Rex"
    assert Generator().value({"type": "integer", "examples": [42, 7]}) == 42
    assert Generator().value({"type": "integer", "default": 5}) == 5


def test_read_only_and_write_only_properties_follow_the_direction():
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "password": {"type": "string", "writeOnly": True},
        },
    }
    assert set(Generator().value(schema)) == {"id"}
    assert set(Generator().value(schema, mode="request")) == {"password"}


def test_recursion_and_depth_are_bounded():
    node: dict = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
    }
    node["properties"]["children"] = {"type": "array", "items": node}
    node["properties"]["parent"] = node
    value = Generator(max_depth=4).value(node)
    depth = 0
    while isinstance(value, dict) and "parent" in value:
        value, depth = value["parent"], depth + 1
    assert 1 <= depth <= 4
    # our resolver's marker for a schema that refers to itself is an empty object
    assert Generator().value({"$ref": "#/x", "x-recursive": True}) == {}


def test_a_pattern_python_cannot_read_falls_back_to_a_word():
    value = Generator().value({"type": "string", "pattern": r"^\p{L}+$"})
    assert isinstance(value, str)
    assert re.fullmatch(r"[a-z]+-\d+", value)


def test_long_patterns_readonly_required_and_wrongly_typed_examples():
    arn = r"^arn:(aws[a-zA-Z-]*):kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/[a-zA-Z0-9_.-]+/[0-9]+$"
    assert re.search(arn, Generator().value({"type": "string", "pattern": arn}))
    uuid_upper = r"^[{(]?[0-9A-F]{8}[-]?([0-9A-F]{4}[-]?){3}[0-9A-F]{12}[)}]?$"
    schema = {"type": "string", "format": "uuid", "pattern": uuid_upper}
    assert re.search(uuid_upper, Generator().value(schema))  # the pattern wins over the format
    user = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer", "readOnly": True}, "name": {"type": "string"}},
    }
    assert set(Generator().value(user, mode="request")) == {"name"}
    assert isinstance(Generator().value({"type": "integer", "example": "200"}), int)


def test_unbounded_repeats_fit_max_length_and_enums_keep_their_type():
    region = {"type": "string", "pattern": "^([a-z]+)-([a-z]+)-([0-9]+)$", "maxLength": 12}
    for seed in range(5):
        jsonschema.validate(Generator(seed).value(region), region)
    ratio = {"type": "string", "enum": [169, "16_9", "4_3"]}  # a YAML 1.1 reading of 16_9
    assert {Generator(s).value(ratio) for s in range(10)} <= {"16_9", "4_3"}
