"""Script translation, the notebook reader, History.to_postman and the Insomnia v4 / HAR paths."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from apinotebook import Bearer, History, RestClient, Secret
from apinotebook.collections import Script, load
from apinotebook.collections._scripts import translate


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("pm.response.to.have.status(201);", "assert ex.status == 201"),
        ("pm.expect(pm.response.code).to.eql(200);", "assert ex.status == 200"),
        ("pm.response.to.be.ok;", "assert ex.ok"),
        ('tests["Status code is 200"] = responseCode.code === 200;', "assert ex.status == 200"),
        ("pm.expect(pm.response.json().items.length).to.be.above(2);",
         'assert len(ex.json()["items"]) > 2'),
        ('pm.expect(pm.response.json().user["name"]).to.equal("Ada");',
         'assert ex.json()["user"]["name"] == "Ada"'),
        ('pm.environment.set("token", pm.response.json().data.token);',
         'token = ex.json()["data"]["token"]'),
        ('var body = JSON.parse(responseBody); postman.setEnvironmentVariable("id", body.id);',
         'id = ex.json()["id"]'),
        ("const j = pm.response.json();\npm.collectionVariables.set('first', j[0].name);",
         'first = ex.json()[0]["name"]'),
        ('bru.setVar("token", res.body.token);', 'token = ex.json()["token"]'),
        ('tests["seeded"] = postman.getEnvironmentVariable("FOO") === "alpha";',
         'assert FOO == "alpha"'),
        ('tests["unset"] = !postman.getEnvironmentVariable("FOO");', "assert not FOO"),
        ("pm.expect(pm.response.json().ok).to.eql(true);", 'assert ex.json()["ok"] is True'),
        ('var args = JSON.parse(responseBody).args; tests["v"] = args.val !== "x";',
         'assert ex.json()["args"]["val"] != "x"'),
        ("expect(res.getStatus()).to.equal(200);", "assert ex.status == 200"),
    ],
)  # fmt: skip
def test_translated(source: str, expected: str) -> None:
    out = translate([Script("test", source)], "ex", {"FOO": "FOO"}, set())
    assert out.after[-1] == expected and not out.untranslated


@pytest.mark.parametrize(
    "source",
    [
        'tests["always"] = true;',
        'tests["unknown"] = postman.getEnvironmentVariable("nowhere") === 1;',
        "pm.expect(a && b).to.eql(1);",
        'pm.sendRequest("https://x", function () {});',
    ],
)
def test_left_untranslated(source: str) -> None:
    out = translate([Script("test", source)], "ex", {"FOO": "FOO"}, set())
    assert out.after == [] and out.untranslated == [source]


def test_untranslated_lines_are_kept_and_secrets_wrapped() -> None:
    script = Script("test", 'pm.environment.set("token", pm.response.json().t);\nlodash.map(x);')
    out = translate([script], "ex", {"token": "token"}, {"token"})
    assert out.after == ["token = Secret(str(ex.json()[\"t\"]), name='token')"]
    assert out.untranslated == ["lodash.map(x);"]


def test_prerequest_literals_only() -> None:
    script = Script(
        "prerequest", 'pm.environment.set("page", 2);\npm.variables.set("t", Date.now());'
    )
    out = translate([script], "ex", {}, set())
    assert out.before == ["page = 2"] and out.untranslated == ['pm.variables.set("t", Date.now());']


def test_bruno_assert_block() -> None:
    script = Script("test", "res.status: eq 201\nres.body.count: gt 3\nres.body.x: isJson",
                    language="bruno-assert")  # fmt: skip
    out = translate([script], "ex", {}, set())
    assert out.after == ["assert ex.status == 201", 'assert ex.json()["count"] > 3']
    assert out.untranslated == ["res.body.x: isJson"]


def test_history_to_postman_masks_and_names_credentials(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    history = History()
    token = Secret("tok-0123456789abcdef", name="TOKEN")
    api = RestClient("https://api.example/v1", auth=Bearer(token), history=history,
                     transport=httpx.MockTransport(handler))  # fmt: skip
    api.get("/items", params={"page": 2})
    api.post("/items", json={"name": "x"}, headers={"X-Api-Key": "k-9f8e7d6c5b4a39281706"})
    out = history.to_postman(tmp_path / "history.json")
    text = out["collection"].read_text() + out["environment"].read_text()
    assert "tok-0123456789abcdef" not in text and "k-9f8e7d6c5b4a39281706" not in text
    doc = json.loads(out["collection"].read_text())
    first = doc["item"][0]["request"]
    assert first["auth"]["type"] == "bearer" and first["method"] == "GET"
    assert first["url"]["query"] == [{"key": "page", "value": "2"}]
    again = load(out["collection"])
    assert [r.method for r in again.requests] == ["GET", "POST"]
    assert again.requests[1].body.mode == "json"
    env = {v["key"]: v for v in json.loads(out["environment"].read_text())["values"]}
    assert env["bearerToken"]["type"] == "secret" and env["bearerToken"]["value"] == ""


INSOMNIA_V4 = {
    "_type": "export",
    "__export_format": 4,
    "resources": [
        {"_id": "wrk_1", "_type": "workspace", "parentId": None, "name": "Shop"},
        {"_id": "env_base", "_type": "environment", "parentId": "wrk_1",
         "data": {"base_url": "https://shop.example", "api": {"key": "k-0a1b2c3d4e5f6a7b8c9d"}}},
        {"_id": "env_prod", "_type": "environment", "parentId": "env_base", "name": "Prod",
         "data": {"base_url": "https://prod.shop.example"}},
        {"_id": "fld_1", "_type": "request_group", "parentId": "wrk_1", "name": "Orders",
         "environment": {"page_size": "20"}},
        {"_id": "req_1", "_type": "request", "parentId": "fld_1", "name": "List orders",
         "method": "GET", "url": "{{ _.base_url }}/orders",
         "parameters": [{"name": "size", "value": "{{ _.page_size }}"}],
         "headers": [{"name": "X-Key", "value": "{{ _.api.key }}"}],
         "authentication": {"type": "apikey", "key": "X-Api-Key", "value": "{{ _.api.key }}",
                            "addTo": "header"}},
        {"_id": "req_2", "_type": "request", "parentId": "fld_1", "name": "Search",
         "method": "POST", "url": "{{ _.base_url }}/graphql",
         "body": {"mimeType": "application/graphql",
                  "text": '{"query": "{ orders { id } }", "variables": {}}'}},
        {"_id": "grpc_1", "_type": "grpc_request", "parentId": "wrk_1", "name": "Stream"},
    ],
}  # fmt: skip


def test_insomnia_v4(tmp_path: Path) -> None:
    path = tmp_path / "insomnia.json"
    path.write_text(json.dumps(INSOMNIA_V4))
    c = load(path)
    assert c.name == "Shop" and c.format == "insomnia-v4"
    listing, search = c.requests
    assert listing.url == "{{base_url}}/orders" and listing.query[0].value == "{{page_size}}"
    assert listing.auth is not None and listing.auth.type == "apikey"
    assert search.body.mode == "graphql" and search.body.query == "{ orders { id } }"
    assert [v.name for v in c.variables] == ["base_url", "api.key"]
    assert [e.name for e in c.environments] == ["Prod"]
    assert any("gRPC" in n.message and n.item == "Stream" for n in c.notes)


def test_corpus_sources_are_pinned() -> None:
    import sys

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    from tests.corpus.fetch import load_sources

    formats = ("postman", "postman-environment", "insomnia", "bruno", "har", "openapi", "schema")
    archives = load_sources(Path(__file__).with_name("sources.toml"), formats)
    assert len(archives) == 6 and all(
        a.url.startswith("https://registry.npmjs.org/") for a in archives
    )
    covered = {inc.protocol for a in archives for inc in a.includes}
    assert covered == set(formats)
