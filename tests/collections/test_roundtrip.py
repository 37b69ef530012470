"""Import -> notebook -> export -> import keeps what matters; the docs example runs
against the sandbox CRM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from collection_samples import postman_crm
from nbrun import error_names, run_notebook

from apinotebook.collections import load, to_postman, write_notebook
from apinotebook.collections._pysource import identifier

pytest.importorskip("nbformat")


def signature(collection: object) -> list[tuple[str, str, list[str], str, str]]:
    out = []
    for parents, req in collection.walk():  # type: ignore[attr-defined]
        auth = collection.effective_auth(parents, req)  # type: ignore[attr-defined]
        url = req.url
        for var in req.variables:
            url = url.replace("{{" + var.name + "}}", "{{" + identifier(var.name) + "}}")
        headers = sorted(h.name.lower() for h in req.headers if not h.disabled)
        body = req.body.mode if req.body.mode not in ("raw", "xml") else "raw"
        out.append((req.method, url, headers, body, auth.type if auth else "none"))
    return out


def test_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "crm.json"
    src.write_text(json.dumps(postman_crm()))
    first = load(src)
    write_notebook(first, tmp_path / "crm.ipynb")
    out = to_postman(tmp_path / "crm.ipynb", tmp_path / "again.postman_collection.json")
    again = load(out["collection"])
    a, b = signature(first), signature(again)
    assert [x[:4] for x in a] == [x[:4] for x in b]
    # awsv4 is not supported (warned): the notebook sends that request without auth
    assert a[-1][4] == "awsv4" and b[-1][4] == "none"
    assert a[:-1] == b[:-1]
    env = json.loads(out["environment"].read_text())
    secret = {v["key"]: v for v in env["values"]}["crmToken"]
    assert secret["value"] == "" and secret["type"] == "secret"


DOCS_EXAMPLE = (
    Path(__file__).resolve().parents[2] / "docs" / "examples" / "crm.postman_collection.json"
)


@pytest.mark.sandbox
def test_docs_example_runs_against_the_sandbox(tmp_path: Path) -> None:
    """docs/collections.md: import the example collection, run the notebook on the sandbox CRM."""
    pytest.importorskip("nbclient")
    from apinotebook.sandbox import Sandbox

    with Sandbox(services=("crm",), contacts=20, companies=2) as box:
        write_notebook(load(DOCS_EXAMPLE), tmp_path / "crm.ipynb")
        env = {"CRM_URL": box.urls["crm"], "CRM_TOKEN": box.env["CRM_TOKEN"]}
        nb = run_notebook(tmp_path / "crm.ipynb", env)
        created = box.state("crm").list_contacts(email="ada@example.com")["data"]
    assert error_names(nb) == []
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the translated test script carried the first contact's id into the next request
    shown = json.dumps([o.get("data", {}) for c in code for o in c.outputs])
    assert "/contacts/c_" in shown and "201" in shown
    assert [row["last_name"] for row in created] == ["Lovelace"]  # the POST cell created it


def _notebook(tmp_path: Path, *cells: tuple[str, str]) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    path = tmp_path / "hand.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_export_collection_cli_reads_a_hand_written_notebook(tmp_path: Path) -> None:
    from apinotebook.cli import main

    path = _notebook(
        tmp_path,
        ("markdown", "# Hand written"),
        ("code", 'import os\nfrom apinotebook import ApiKey, RestClient, Secret\n'
                 'base = os.environ.get("BASE", "http://127.0.0.1:9")\n'
                 'key = Secret.from_env("SHOP_KEY")\n'
                 'shop = RestClient(base, auth=ApiKey(key, query="api_key"))'),
        ("markdown", "### Find orders\nThe open ones."),
        ("code", 'ex = shop.get("/orders", params={"status": "open"})\nex'),
        ("markdown", "### Place an order"),
        ("code", 'ex = shop.post(f"{base}/orders", data={"sku": "A-1", "qty": "2"})'),
    )  # fmt: skip
    out = tmp_path / "hand.postman_collection.json"
    assert main(["export-collection", str(path), "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["info"]["name"] == "Hand written"
    find, place = doc["item"]
    assert find["name"] == "Find orders" and find["request"]["description"] == "The open ones."
    assert find["request"]["url"]["raw"] == "{{base}}/orders?status=open"
    assert find["request"]["auth"]["type"] == "apikey"
    assert {a["key"]: a["value"] for a in find["request"]["auth"]["apikey"]} == {
        "key": "api_key", "value": "{{key}}", "in": "query"
    }  # fmt: skip
    assert place["request"]["body"]["mode"] == "urlencoded"
    env = json.loads(out.with_name("hand.postman_environment.json").read_text())
    assert {v["key"]: v["value"] for v in env["values"]} == {
        "base": "http://127.0.0.1:9",
        "key": "",
    }
