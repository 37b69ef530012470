"""Platform-style recipes: templates, validation, and whole bridges against the sandbox."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from apinotebook import ConfigError, MissingSecretError
from apinotebook.integration._recipe import FILTERS, from_recipe, render
from apinotebook.sandbox import Sandbox

CONTACT = {
    "id": "c_000007",
    "first_name": "Ada",
    "last_name": "Lee",
    "email": "  Ada.Lee@Example.COM ",
    "tags": ["vip", "beta"],
    "custom_fields": {"lead_score": "42", "newsletter_opt_in": True},
    "phone": None,
}

# -- templates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ first_name }}", "Ada"),
        ("{{ first_name }} {{ last_name }}", "Ada Lee"),  # two placeholders: text
        ("{{ last_name }}, {{ first_name }}", "Lee, Ada"),
        ("{{ email | strip | lower }}", "ada.lee@example.com"),
        ("{{ first_name | upper }}", "ADA"),
        ("{{ last_name | title }}", "Lee"),
        ("{{ custom_fields.lead_score | int }}", 42),  # a whole template keeps the type
        ("score {{ custom_fields.lead_score | int }}", "score 42"),  # mixed text is text
        ("{{ first_name }}!", "Ada!"),
        ("{{ custom_fields.lead_score | float }}", 42.0),
        ("{{ custom_fields.newsletter_opt_in }}", True),
        ("{{ tags.0 }}", "vip"),
        ("{{ tags.5 }}", None),  # out of range: missing
        ("{{ phone }}", None),
        ("call {{ phone }}", "call "),  # a missing value renders as nothing in text
        ("{{ phone | default('n/a') }}", "n/a"),
        ("{{ first_name | default('n/a') }}", "Ada"),
        ("{{ nowhere.deeper }}", None),
        ("{{ email | contains('@') }}", True),
        ("{{ phone | contains('@') }}", False),
        ("{{ first_name | truncate(2) }}", "Ad"),
        ("{{ email | strip | split_first('@') }}", "Ada.Lee"),
        ("{{ phone | str }}", ""),
        ("{{ first_name | bool }}", True),
        ("{{ last_name | replace('e') }}", "L"),
        ("plain text", "plain text"),
        (42, 42),
        (None, None),
        ({"name": "{{ first_name }}", "n": ["{{ tags.1 }}", 3]}, {"name": "Ada", "n": ["beta", 3]}),
    ],
)
def test_render(template, expected):
    assert render(template, CONTACT) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ last_name | replace('Lee|Li') }}", "Li"),
        ("{{ email | strip | replace('@|(at)') }}", "Ada.Lee(at)Example.COM"),
        ("{{ first_name | replace('a|b|c') }}", "Adb|c"),  # only the first '|' separates
        ("{{ phone | default('a|b') }}", "a|b"),  # '|' inside quotes is not a pipe
    ],
)
def test_quoted_pipes_are_arguments(template, expected):
    assert render(template, CONTACT) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ first_name | shout }}", "Unknown filter 'shout'"),
        ("{{ first_name | lowr }}", "Did you mean 'lower'"),
        ("{{ first_name | truncate(two) }}", "must be a quoted string or a number"),
        ("{{ first_name | lower( }}", "Unknown filter"),
    ],
)
def test_render_rejects(template, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        render(template, CONTACT)


def test_render_never_evaluates_python():
    # field lookups, nothing more: no such fields, so nothing
    assert render("{{ __import__('os').getpid() }}", CONTACT) is None
    assert render("{{ __class__.__name__ }}", CONTACT) is None


def test_filters_are_the_documented_set():
    assert set(FILTERS) == {
        "lower", "upper", "title", "strip", "default", "contains", "truncate", "replace",
        "split_first", "split_last", "int", "float", "str", "bool", "lookup",
    }  # fmt: skip


# -- recipe validation -----------------------------------------------------------------------


def base_recipe(**changes: Any) -> dict[str, Any]:
    recipe: dict[str, Any] = {
        "name": "crm-to-newsletter",
        "connections": {
            "crm": {"type": "rest", "url": "$CRM_URL", "auth": {"bearer": "$CRM_TOKEN"}},
            "mail": {
                "type": "graphql",
                "url": "$MAIL_URL",
                "auth": {"api_key": "$MAIL_API_KEY", "header": "X-API-Key"},
            },
        },
        "trigger": {
            "connection": "crm",
            "path": "/contacts",
            "key": "id",
            "cursor": "updated_at",
            "since_param": "updated_since",
            "params": {"limit": 100},
        },
        "filter": "{{ email | contains('@') }}",
        "map": {"email": "{{ email | lower | strip }}", "name": "{{ first_name }} {{ last_name }}"},
        "action": {
            "connection": "mail",
            "batch_size": 50,
            "graphql": (
                "mutation Upsert($listId: ID!, $input: [SubscriberInput!]!) {\n"
                "  upsertSubscribers(listId: $listId, input: $input) "
                "{ userErrors { index message } }\n}"
            ),
            "variables": {"listId": "LIST", "input": "$batch"},
            "rejections": "upsertSubscribers.userErrors",
        },
    }
    recipe.update(changes)
    return recipe


@pytest.fixture
def env(monkeypatch):
    values = {
        "CRM_URL": "http://127.0.0.1:9/crm",
        "CRM_TOKEN": "crm_token_for_tests",
        "MAIL_URL": "http://127.0.0.1:9/mail/graphql",
        "MAIL_API_KEY": "mail_key_for_tests",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"name": None}, ConfigError, "lacks name"),
        ({"action": None, "trigger": None}, ConfigError, "lacks trigger, action"),
        ({"connections": {"crm": {"type": "ftp", "url": "x"}}}, ConfigError,
         "Unknown connection type 'ftp'"),
        ({"connections": {"crm": {"type": "rest"}}}, ConfigError, "needs a url"),
        ({"connections": {"crm": {"url": "x", "auth": {"oauth": 1}}}}, ConfigError,
         "Unknown auth kind 'oauth'"),
        ({"connections": {"crm": {"url": "$NOT_SET_ANYWHERE"}}}, MissingSecretError,
         "NOT_SET_ANYWHERE"),
        ({"trigger": {"connection": "crmm", "path": "/contacts"}}, ConfigError,
         "Did you mean 'crm'"),
        ({"action": {"connection": "billing"}}, ConfigError, "Unknown action connection"),
        ({"name": "no spaces allowed"}, ConfigError, "letters, digits"),
    ],
)  # fmt: skip
def test_invalid_recipes(env, tmp_path, change, error, message):
    recipe = base_recipe()
    for key, value in change.items():
        if value is None:
            recipe.pop(key)
        else:
            recipe[key] = value
    with pytest.raises(error, match=message):
        from_recipe(recipe, state=tmp_path / "s.db", progress=None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "is a mapping"),
        ("plain words\n", "is a mapping"),
    ],
)
def test_invalid_yaml(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        from_recipe(text, state=tmp_path / "s.db", progress=None)


def test_recipe_from_yaml_text_and_files(env, tmp_path):
    import yaml

    text = yaml.safe_dump(base_recipe())
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    for source in (text, path, str(path)):
        sync = from_recipe(source, state=tmp_path / "s.db", progress=None)
        try:
            assert sync.name == "crm-to-newsletter" and sync.recipe == base_recipe()
            assert "crm_token_for_tests" not in repr(sync) + str(sync.recipe)
        finally:
            sync.close()


def test_recipe_does_not_change_the_callers_dict(env, tmp_path):
    recipe = base_recipe()
    snapshot = repr(recipe)
    from_recipe(recipe, state=tmp_path / "s.db", progress=None).close()
    assert repr(recipe) == snapshot


# -- whole bridges against the sandbox -----------------------------------------------------


def test_closing_a_recipe_integration_closes_its_clients(env, tmp_path):
    sync = from_recipe(base_recipe(), state=tmp_path / "s.db", progress=None)
    clients = [
        cell.cell_contents
        for fn in (sync._source.fn, sync._destination.fn)
        for cell in fn.__closure__ or ()
        if hasattr(cell.cell_contents, "_core")
    ]
    sync.close()
    open_clients = [c for c in clients if not c._core._client.is_closed]
    for client in open_clients:
        client.close()
    assert len(clients) == 2 and open_clients == []


@pytest.mark.sandbox
def test_recipe_crm_to_mail(tmp_path, monkeypatch):
    options = {"crm": {"messy_rate": 0.05}}
    with Sandbox(contacts=150, seed=5, services=("crm", "mail"), options=options) as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        mail = sb.state("mail")
        list_id = str(mail.create_list("Recipe").id)
        recipe = base_recipe()
        recipe["action"]["variables"]["listId"] = list_id
        sync = from_recipe(recipe, state=tmp_path / "s.db", progress=None)
        try:
            dry = sync.run(dry_run=True, limit=10)
            assert len(dry.rows) == 10 and mail.subscribers(list_id) == []
            report = sync.run()
            contacts = crm_contacts(sb)
            good = [c for c in contacts if "@" in c["email"]]
            held = {s["email"]: s["name"] for s in mail.subscribers(list_id)}
            assert held == {
                c["email"].lower().strip(): f"{c['first_name']} {c['last_name']}" for c in good
            }
            assert report.written == len(good)
            assert report.skipped_filtered == len(contacts) - len(good)  # the recipe's filter
            assert sync.run().written == 0
        finally:
            sync.close()


@pytest.mark.sandbox
def test_recipe_rejections_become_dead_letters(tmp_path, monkeypatch):
    options = {"crm": {"messy_rate": 0.05}}
    with Sandbox(contacts=150, seed=5, services=("crm", "mail"), options=options) as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        list_id = str(sb.state("mail").create_list("Recipe").id)
        recipe = base_recipe()
        del recipe["filter"]  # let the mail API refuse the bad emails
        recipe["action"]["variables"]["listId"] = list_id
        sync = from_recipe(recipe, state=tmp_path / "s.db", progress=None)
        try:
            report = sync.run()
            bad = {c["id"] for c in crm_contacts(sb) if "@" not in c["email"]}
            assert bad and {d.key for d in sync.dead_letters} == bad
            assert report.dead_lettered == len(bad) and report.exit_code == 1
            assert all(d.stage == "destination" for d in sync.dead_letters)
        finally:
            sync.close()


@pytest.mark.sandbox
def test_recipe_rest_action_posts_each_record_once(tmp_path, monkeypatch):
    with Sandbox(contacts=40, seed=5, services=("crm", "chat")) as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        chat = sb.state("chat")
        channel = chat.create_channel("recipe-feed").id
        recipe = base_recipe(
            connections={
                "crm": {"url": "$CRM_URL", "auth": {"bearer": "$CRM_TOKEN"}},
                "chat": {"type": "rest", "url": "$CHAT_URL", "auth": {"bearer": "$CHAT_TOKEN"}},
            },
            map={"text": "{{ id }}: {{ first_name }} {{ last_name }} ({{ lifecycle_stage }})"},
            action={"connection": "chat", "path": f"/channels/{channel}/messages", "batch_size": 7},
        )
        sb.set_faults("chat", drop_rate=0.2)  # dropped after the post: retried with the key
        sync = from_recipe(recipe, state=tmp_path / "s.db", progress=None)
        try:
            report = sync.run()
            contacts = [c for c in crm_contacts(sb) if "@" in c["email"]]
            per_contact = Counter(m["text"].split(":")[0] for m in chat.messages(channel))
            assert set(per_contact) == {c["id"] for c in contacts}
            assert set(per_contact.values()) == {1} and report.written == len(contacts)
            assert sb.stats()["chat"].get("dropped", 0) > 0
        finally:
            sync.close()


def crm_contacts(sb: Sandbox) -> list[dict[str, Any]]:
    store, out, cursor = sb.state("crm"), [], None
    while True:
        page = store.list_contacts(limit=500, cursor=cursor)
        out += page["data"]
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]


def test_example_recipe_in_the_docstring_parses(env, tmp_path):
    """The recipe in the module docstring is valid as written (with its list id)."""
    from apinotebook.integration import _recipe

    doc = _recipe.__doc__ or ""
    block = doc.split("A recipe (a dict, or YAML text/file)::", 1)[1].split("``$NAME``")[0]
    text = "\n".join(line[4:] for line in block.splitlines())
    sync = from_recipe(text, state=Path(tmp_path) / "s.db", progress=None)
    try:
        assert sync.recipe["action"]["rejections"] == "upsertSubscribers.userErrors"
        assert "source=poll" in repr(sync) and "destination=act" in repr(sync)
    finally:
        sync.close()
