"""A fair platform: filters with AND/OR and comparisons, lookup tables, find steps, paths.

Notebook 04 used to conclude that "a platform" cannot express marketing's two rules;
Zapier and Make can. These tests hold the recipe engine to what they offer, and prove
the two rules give the same list through a recipe as through custom code.
"""

from __future__ import annotations

from typing import Any

import pytest

from apinotebook import ConfigError
from apinotebook.integration._recipe import from_recipe, render
from apinotebook.integration._recipe_rules import OPERATORS, matches
from apinotebook.sandbox import Sandbox
from tests.integration.test_recipe import base_recipe, crm_contacts

CONTACT = {
    "email": "ada@example.com",
    "score": "42",
    "company": {"name": "Blue Oak Labs"},
    "tags": ["vip"],
    "phone": None,
}


def check(condition: Any) -> bool:
    return matches(condition, CONTACT, render)


@pytest.mark.parametrize(
    ("op", "field", "value", "expected"),
    [
        ("equals", "company.name", "Blue Oak Labs", True),
        ("equals", "company.name", "blue oak labs", False),
        ("not_equals", "company.name", "Acme", True),
        ("not_equals", "nowhere", "Acme", True),
        ("contains", "email", "@", True),
        ("contains", "nowhere", "", False),  # a missing field contains nothing
        ("not_contains", "email", "@", False),
        ("starts_with", "email", "ada", True),
        ("ends_with", "email", ".org", False),
        ("gt", "score", 41, True),  # numbers in text compare as numbers
        ("gt", "score", 42, False),
        ("gte", "score", "42", True),
        ("lt", "score", 100, True),
        ("lte", "phone", 1, False),  # null never compares
        ("gt", "email", 1, False),  # neither does text
        ("in", "company.name", ["Blue Oak Labs", "Acme"], True),
        ("in", "company.name", "Blue Oak Labs", False),  # `in` wants a list
        ("not_in", "company.name", ["Acme"], True),
        ("exists", "phone", None, False),
        ("exists", "email", None, True),
        ("not_exists", "phone", None, True),
        ("not_exists", "nowhere", None, True),
        ("matches", "email", r"^[^@]+@example\.com$", True),
    ],
)
def test_each_operator(op, field, value, expected):
    assert check({"field": field, "op": op, "value": value}) is expected


def test_operators_are_the_documented_set():
    assert set(OPERATORS) == {
        "equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with",
        "gt", "gte", "lt", "lte", "in", "not_in", "exists", "not_exists", "matches",
    }  # fmt: skip


def test_and_or_groups_nest():
    competitor = {"field": "company.name", "op": "equals", "value": "Blue Oak Labs"}
    valid = {"field": "email", "op": "contains", "value": "@"}
    high = {"field": "score", "op": "gte", "value": 100}
    assert check({"all": [valid, competitor]})
    assert not check({"all": [valid, high]})
    assert check({"any": [high, competitor]})
    assert not check({"any": [high, {"all": [valid, {"field": "phone", "op": "exists"}]}]})


def test_a_comparison_value_may_be_a_template():
    record = {"a": "x@y", "b": "x@y"}
    assert matches({"field": "a", "op": "equals", "value": "{{ b }}"}, record, render)


def test_a_template_string_is_still_a_condition():
    assert check("{{ email | contains('@') }}")
    assert not check("{{ phone }}")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "email", "op": "is"}, "Unknown operator 'is'"),
        ({"op": "equals", "value": 1}, "needs a field"),
        ({"all": []}, "non-empty list"),
        ([1, 2], "a condition is a template string"),
    ],
)
def test_bad_conditions_are_config_errors(condition, message):
    with pytest.raises(ConfigError, match=message):
        check(condition)


def test_text_filters_leave_a_missing_field_empty_not_the_word_none():
    # the bug notebook 04 presented as platform behaviour: lower(None) was "none"
    assert render("{{ email_address | lower | strip }}", CONTACT) is None
    assert render("<{{ email_address | lower }}>", CONTACT) == "<>"
    assert render("{{ phone | int }}", CONTACT) is None


def test_lookup_tables():
    tables = {"tier": {"Blue Oak Labs": "competitor", "42": "answer"}}
    assert render("{{ company.name | lookup('tier') }}", CONTACT, tables) == "competitor"
    assert render("{{ score | int | lookup('tier') }}", CONTACT, tables) == "answer"
    assert render("{{ email | lookup('tier') | default('regular') }}", CONTACT, tables) == (
        "regular"
    )
    with pytest.raises(ConfigError, match="Unknown lookup table 'tiers'"):
        render("{{ email | lookup('tiers') }}", CONTACT, tables)


# -- the two rules of notebook 04, as a recipe, against the sandbox ------------------------

KEY_ACCOUNTS = ["Orbit Summit Health", "Willow Cedar Analytics", "Meridian Blue Analytics"]


def rules_recipe(list_id: str) -> dict[str, Any]:
    """Notebook 04's recipe (``base_recipe``) with both rules: find, filter, lookup, paths."""
    subscriber = {
        "email": "{{ email | lower | strip }}",
        "name": "{{ first_name }} {{ last_name }}",
    }
    recipe = base_recipe(
        lookups={"key_accounts": dict.fromkeys(KEY_ACCOUNTS, "yes")},
        steps=[{"find": "company", "connection": "crm", "path": "/companies/{{ company_id }}"}],
        filter={
            "all": [
                {"field": "email", "op": "contains", "value": "@"},
                {"field": "company.name", "op": "not_equals", "value": "Blue Oak Labs"},
            ]
        },  # fmt: skip
        paths=[
            {
                "name": "vip",
                "when": {
                    "any": [
                        "{{ company.name | lookup('key_accounts') }}",
                        {"field": "custom_fields.lifetime_value", "op": "gte", "value": 40000},
                    ]
                },  # fmt: skip
                "map": {**subscriber, "tags": ["vip"]},
            },
            {"map": {**subscriber, "tags": []}},
        ],
    )
    del recipe["map"]  # the paths map
    recipe["action"]["variables"]["listId"] = list_id
    return recipe


def expected_by_code(sb: Sandbox) -> dict[str, list[str]]:
    names = {c["id"]: c["name"] for c in sb.state("crm").list_companies(limit=500)["data"]}
    out: dict[str, list[str]] = {}
    for c in crm_contacts(sb):
        company = names.get(c["company_id"])
        if "@" not in c["email"] or company == "Blue Oak Labs":
            continue
        value = c["custom_fields"].get("lifetime_value") or 0
        vip = company in KEY_ACCOUNTS or value >= 40_000
        out[c["email"].strip().lower()] = ["vip"] if vip else []
    return out


@pytest.mark.sandbox
def test_marketings_two_rules_as_a_recipe_match_the_custom_code(tmp_path, monkeypatch):
    options = {"crm": {"messy_rate": 0.05}}
    with Sandbox(contacts=300, seed=0, services=("crm", "mail"), options=options) as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        mail = sb.state("mail")
        list_id = str(mail.create_list("Rules").id)
        sync = from_recipe(rules_recipe(list_id), state=tmp_path / "s.db", progress=None)
        try:
            report = sync.run()
        finally:
            sync.close()
        held = {s["email"]: sorted(s["tags"]) for s in mail.subscribers(list_id)}
        expected = expected_by_code(sb)
        assert held == expected
        assert any(tags == ["vip"] for tags in held.values())  # both paths were taken
        assert any(tags == [] for tags in held.values())
        assert report.written == len(expected)


def test_paths_and_steps_are_validated(monkeypatch):
    for name in ("CRM_URL", "MAIL_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/x")
    for name in ("CRM_TOKEN", "MAIL_API_KEY"):
        monkeypatch.setenv(name, "t")
    recipe = rules_recipe("lst")
    with pytest.raises(ConfigError, match="needs a map"):
        from_recipe({**recipe, "paths": [{"when": "{{ email }}"}]}, state=":memory:")
    with pytest.raises(ConfigError, match="Unknown step connection 'erp'"):
        bad_step = [{"find": "x", "connection": "erp", "path": "/x"}]
        from_recipe({**recipe, "steps": bad_step}, state=":memory:")
    with pytest.raises(ConfigError, match="lookups: maps each table"):
        from_recipe({**recipe, "lookups": {"t": ["a"]}}, state=":memory:")
