"""Import -> notebook -> export -> import keeps what matters; the exported file is valid v2.1;
an imported collection runs against the sandbox CRM."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from collection_samples import crm_environment, postman_crm

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


@pytest.mark.sandbox
def test_imported_collection_runs_against_the_sandbox(tmp_path: Path) -> None:
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    from apinotebook.sandbox import Sandbox

    with Sandbox(services=("crm",), contacts=20, companies=2) as box:
        src = tmp_path / "crm.json"
        src.write_text(json.dumps(postman_crm()))
        env = tmp_path / "env.json"
        env.write_text(json.dumps(crm_environment(box.urls["crm"])))
        c = load(src, environment=env)
        c.items = c.items[:1]  # the Contacts folder: the requests the CRM serves
        c.items[0].items = c.items[0].items[:1] + c.items[0].items[2:]  # type: ignore[union-attr]
        write_notebook(c, tmp_path / "crm.ipynb")
        nb = nbformat.read(tmp_path / "crm.ipynb", as_version=4)
        old = os.environ.get("CRM_TOKEN")
        os.environ["CRM_TOKEN"] = box.env["CRM_TOKEN"]
        try:
            nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
        finally:
            if old is None:
                os.environ.pop("CRM_TOKEN", None)
            else:
                os.environ["CRM_TOKEN"] = old
        outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
        assert not [o for o in outputs if o.output_type == "error"]
        text = json.dumps([o.get("data", {}) for o in outputs])
        assert "201" in text and "/contacts" in text
