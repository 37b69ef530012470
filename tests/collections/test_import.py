"""Loading every format into the model and writing notebooks that are ruff-clean and secret-free."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from collection_samples import (
    BRU_ENV,
    BRU_REQUEST,
    INSOMNIA_V5,
    crm_environment,
    har_log,
    postman_crm,
)

from apinotebook.collections import CollectionError, load, write_notebook
from apinotebook.export._secrets_scan import scan_tree

pytest.importorskip("nbformat")

RUFF = [sys.executable, "-m", "ruff"]


def ruff_clean(notebook: Path) -> None:
    """``ruff check`` on the notebook with the project's rules (E, F, I, B, PIE, UP)."""
    result = subprocess.run(
        [*RUFF, "check", "--no-cache", "--isolated", "--line-length", "100",
         "--select", "E,F,I,B,PIE,UP", "--target-version", "py311", str(notebook)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def code_of(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_postman_model(tmp_path: Path) -> None:
    c = load(write(tmp_path, "crm.postman_collection.json", postman_crm()))
    assert c.format == "postman-2.1" and c.name == "CRM tour"
    names = [r.name for r in c.requests]
    assert names == ["List contacts", "Get one contact", "Create a contact", "Form post",
                     "GraphQL", "Upload", "Signed"]  # fmt: skip
    listing, one, create, form, gql, upload, signed = c.requests
    parents = dict((r.name, p) for p, r in c.walk())
    assert c.effective_auth(parents["List contacts"], listing).type == "bearer"  # inherited
    assert c.effective_auth(parents["Form post"], form).type == "none"
    assert listing.query[0].name == "limit" and listing.url == "{{baseUrl}}/contacts"
    assert one.url == "{{baseUrl}}/contacts/{{id}}"  # path variable
    assert create.body.mode == "json" and gql.body.mode == "graphql"
    assert form.body.mode == "urlencoded" and upload.body.mode == "form-data"
    assert upload.body.form[1].kind == "file" and upload.body.form[1].src == "/nowhere/a.txt"
    assert signed.auth is not None and signed.auth.type == "awsv4"


def test_postman_notebook(tmp_path: Path) -> None:
    src = write(tmp_path, "crm.json", postman_crm())
    result = write_notebook(load(src), tmp_path / "crm.ipynb")
    ruff_clean(tmp_path / "crm.ipynb")
    code = code_of(tmp_path / "crm.ipynb")
    assert 'crmToken = Secret.from_env("CRM_TOKEN")' in code
    assert "client = RestClient(auth=auth)" in code and "auth = Bearer(crmToken)" in code
    assert "assert ex.status == 200" in code
    assert 'contactId = ex.json()["data"][0]["id"]' in code
    assert 'assert ex.json()["email"] == "ada@example.com"' in code
    assert "# console.log(body);" in code  # untranslated, kept
    assert "gql.execute(" in code and 'variables={"n": 3}' in code
    assert 'attach("/nowhere/a.txt")' in code
    # literal credentials are gone, replaced by environment variables
    assert "hunter2" not in code and "k-9f8e7d6c5b4a39281706" not in code
    warned = " ".join(str(n) for n in result.warnings)
    assert "Public/Signed" in warned and "awsv4" in warned and "$randomFirstName" in warned
    report = result.explain()
    assert all(r in report for r in ("Contacts/List contacts", "Public/GraphQL"))
    # the exporter's literal-secret scanner finds nothing in the generated code
    assert scan_tree(ast.parse(code)) == []


def test_environment_values_but_never_secrets(tmp_path: Path) -> None:
    src = write(tmp_path, "crm.json", postman_crm())
    env = write(tmp_path, "env.json", crm_environment("http://127.0.0.1:9/crm"))
    write_notebook(load(src, environment=env), tmp_path / "crm.ipynb")
    text = (tmp_path / "crm.ipynb").read_text()
    assert 'baseUrl = \\"http://127.0.0.1:9/crm\\"' in text
    assert "never-written-anywhere" not in text


def test_insomnia_v5(tmp_path: Path) -> None:
    c = load(write(tmp_path, "export.yaml", INSOMNIA_V5))
    assert c.format == "insomnia-v5" and [r.name for r in c.requests] == [
        "List users", "Create user"
    ]  # fmt: skip
    assert c.requests[0].url == "{{base_url}}/users"
    assert c.items[0].auth is not None and c.items[0].auth.type == "basic"
    assert [e.name for e in c.environments] == ["Production"]
    write_notebook(c, tmp_path / "ins.ipynb")
    ruff_clean(tmp_path / "ins.ipynb")
    code = code_of(tmp_path / "ins.ipynb")
    assert 'Basic(f"{user}", password)' in code or "Basic(user, password)" in code
    assert 'json={"name": f"{name}", "age": 36}' in code


def test_bruno_folder(tmp_path: Path) -> None:
    root = tmp_path / "bru"
    (root / "users").mkdir(parents=True)
    (root / "environments").mkdir()
    (root / "bruno.json").write_text('{"version": "1", "name": "Bru API", "type": "collection"}')
    (root / "users" / "get-user.bru").write_text(BRU_REQUEST)
    (root / "environments" / "local.bru").write_text(BRU_ENV)
    c = load(root)
    assert c.name == "Bru API" and c.format == "bruno"
    (req,) = c.requests
    assert req.url == "{{baseUrl}}/users/{{id}}" and req.auth is not None
    assert req.auth.type == "bearer" and req.headers[1].disabled
    assert c.environments[0].variables[1].secret
    write_notebook(c, tmp_path / "bru.ipynb")
    ruff_clean(tmp_path / "bru.ipynb")
    code = code_of(tmp_path / "bru.ipynb")
    assert "assert ex.status == 200" in code and 'userName = ex.json()["name"]' in code
    assert "# disabled in the collection, not sent: X-Debug" in code


def test_har_drops_browser_noise(tmp_path: Path) -> None:
    c = load(write(tmp_path, "site.har", har_log("https://shop.example.com")))
    (req,) = c.requests
    assert [h.name for h in req.headers] == ["Accept", "Content-Type"]
    info = " ".join(n.message for n in c.notes)
    assert "Cookie" in info and "sec-ch-ua" in info and "static files" in info
    kept = load(write(tmp_path, "b.har", har_log("https://x.example")), keep_cookies=True)
    assert "Cookie" in [h.name for h in kept.requests[0].headers]
    write_notebook(c, tmp_path / "har.ipynb")
    ruff_clean(tmp_path / "har.ipynb")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty"),
        ("{not json", "neither JSON"),
        ('{"hello": "world"}', "not a collection"),
        ('{"id": "x", "name": "v1", "order": [], "requests": []}', "Collection v1"),
        ('{"_type": "export", "__export_format": 1, "items": []}', "format 1"),
        ("meta {\n  name: x\n\nget {\n  url: y\n", "not closed"),
    ],
)
def test_bad_files_are_typed_errors(tmp_path: Path, content: str, problem: str) -> None:
    suffix = ".bru" if content.startswith("meta") else ".json"
    path = write(tmp_path, f"bad{suffix}", content)
    with pytest.raises(CollectionError) as info:
        load(path)
    assert problem in str(info.value) and path.name in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="no such file"):
        load(tmp_path / "nope.json")


def test_cli_import_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from apinotebook.cli import main

    src = write(tmp_path, "crm.json", postman_crm())
    assert main(["import", str(src), "-o", str(tmp_path / "out.ipynb"), "--explain"]) == 0
    out = capsys.readouterr()
    assert "Contacts/Create a contact: POST via client.request" in out.out
    assert "warning: Public/Signed" in out.out and "out.ipynb" in out.err
    assert main(["import", str(tmp_path / "none.json"), "-o", str(tmp_path / "x.ipynb")]) == 2


def test_openapi_one_cell_per_operation(tmp_path: Path) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9/v1"}],
        "paths": {
            "/pets/{petId}": {
                "get": {
                    "operationId": "getPet",
                    "tags": ["pets"],
                    "parameters": [
                        {
                            "name": "petId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "example": 7},
                        }
                    ],  # fmt: skip
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    c = load(write(tmp_path, "pets.json", spec))
    assert c.spec and c.requests[0].operation == "getPet"
    write_notebook(c, tmp_path / "pets.ipynb")
    ruff_clean(tmp_path / "pets.ipynb")
    code = code_of(tmp_path / "pets.ipynb")
    assert 'ex = api.call("getPet", petId=7)' in code and "RestClient.from_openapi(" in code
    assert shutil.which is not None


@pytest.mark.parametrize(
    "data",
    [
        {"info": {"name": "x", "schema": "v2.1.0"}, "item": "not a list"},
        {"info": {"name": "x"}, "item": [{"name": "r", "request": {"url": 5, "header": "a"}}]},
        {"info": {"name": "x"}, "item": [{"request": {"body": {"mode": "raw", "raw": 7}}}]},
        {"info": {"name": "x"}, "item": [{"request": {"auth": {"type": "bearer", "bearer": 3}}}]},
        {"info": {}, "item": [{"item": [{"item": None}]}], "variable": "x"},
        {"log": {"entries": "nope"}},
        {"log": {"entries": [{"request": {"url": None, "method": None, "headers": "x"}}]}},
        {"_type": "export", "__export_format": 4, "resources": [1, None, {"_type": "request"}]},
        {"type": "collection.insomnia.rest/5.0", "collection": [{"children": None}, 3]},
        {"openapi": "3.0.0", "paths": {"/x": {"get": None}}},
        [{"key": None, "value": {"a": 1}}],
    ],
)
def test_odd_shapes_never_crash(tmp_path: Path, data: object) -> None:
    path = write(tmp_path, "odd.json", data)
    try:
        collection = load(path)
    except CollectionError as exc:
        assert "odd.json" in str(exc)
    else:
        write_notebook(collection, tmp_path / "odd.ipynb")
        ruff_clean(tmp_path / "odd.ipynb")
