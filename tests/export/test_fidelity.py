"""The exported script does what the notebook does: same destination, same counts.

The fixture notebook syncs CRM contacts (REST, Bearer ``CRM_TOKEN``) into the
mail service's newsletter (GraphQL ``upsertSubscribers`` with ``X-API-Key``),
looks the companies up with a ``%%rest`` cell and the list id with a
``%%graphql`` cell. It runs in-process against one sandbox; the exported
script runs as a subprocess against a second sandbox with the same seed; the
mailing lists must end up identical.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apinotebook.export import export_notebook

from .conftest import (
    NOTEBOOKS,
    execute_notebook,
    ruff,
    ruff_problems,
    run_script,
    sandbox_env,
    subscribers,
)

#: The notebook starts a webhook receiver; StateStore.close() closes only the calling
#: thread's SQLite connection, so those of the receiver's threads are finalized later and
pytestmark = [pytest.mark.sandbox]

SEED = 11
CONTACTS = 160


def _sandbox():  # type: ignore[no-untyped-def]
    from apinotebook.sandbox import Sandbox

    return Sandbox(seed=SEED, contacts=CONTACTS, companies=8).start()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "crm_to_newsletter.py"
    export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", out)
    return out


@pytest.fixture(scope="module")
def notebook_run(
    crm_registered: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, dict]]:
    """Sandbox A after running every cell of the notebook in-process."""
    box = _sandbox()
    cwd = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in sandbox_env(box.env).items():
            mp.setenv(key, value)
        mp.chdir(cwd)
        ns = execute_notebook(NOTEBOOKS / "crm_to_mail.ipynb")
        try:
            yield box, ns
        finally:
            from apinotebook import RestClient
            from apinotebook.graphql import GraphQLClient

            ns["sync"].close()
            for value in ns.values():
                if isinstance(value, RestClient | GraphQLClient):
                    value.close()
            box.stop()


@pytest.fixture(scope="module")
def script_box(crm_registered: None) -> Iterator[object]:
    box = _sandbox()
    yield box
    box.stop()


def test_script_matches_notebook(
    notebook_run: tuple[object, dict], script_box: object, exported: Path, tmp_path: Path
) -> None:
    box_a, ns = notebook_run
    before = subscribers(script_box)
    assert subscribers(box_a) != before  # the notebook's run changed the list

    env = sandbox_env(script_box.env)  # type: ignore[attr-defined]
    proc = run_script(exported, "run", "--json", env=env, cwd=tmp_path)
    report = json.loads(proc.stdout)
    expected = ns["report"]
    assert proc.returncode == expected.exit_code, proc.stderr
    assert expected.failed > 0 and proc.returncode == 1  # the CRM's messy emails
    for count in ("read", "written", "failed", "skipped_filtered", "dead_lettered"):
        assert report[count] == getattr(expected, count), count
    assert subscribers(script_box) == subscribers(box_a)

    # the state (checkpoint, dead letters) is the script's own, next to it
    status = run_script(exported, "status", "--json", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["dead_letters"] == len(ns["sync"].dead_letters)
    assert state["cursor"] == ns["sync"].state["cursor"]
    assert (tmp_path / "crm_to_newsletter.db").exists()

    # a second run finds nothing new: exit 0, nothing written
    again = run_script(exported, "run", "--json", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["written"] == 0


def test_rest_and_graphql_cells_became_client_calls(exported: Path) -> None:
    text = exported.read_text()
    tree = ast.parse(text)
    calls = {
        ast.unparse(node.targets[0]): ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
    }
    assert calls["companies_page"].startswith("crm.request('GET', '/companies?limit=100'")
    assert "os.environ['CRM_TOKEN']" in calls["companies_page"]
    assert calls["lists_page"].startswith("mail.execute('query Lists {")
    # the sandbox object became environment reads; nothing of the notebook UI is left
    assert 'os.environ["CRM_URL"]' in text
    for gone in ("get_sandbox", "sb.", "display(", "print(", "dry_run", ".run(", "on_webhook"):
        assert gone not in text, gone


def test_script_imports_only_the_core(exported: Path, script_box: object, tmp_path: Path) -> None:
    env = sandbox_env(script_box.env)  # type: ignore[attr-defined]
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import runpy, sys\n"
        f"sys.argv = [{str(exported)!r}, 'status']\n"
        "try:\n"
        f"    runpy.run_path({str(exported)!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'IPython', 'ipywidgets', 'anywidget', 'jupyter_client', 'ipykernel', 'prefect', "
        "'nbformat', 'fastapi', 'uvicorn', 'strawberry'})\n"
        "print('BAD', bad, [m for m in sys.modules if m.startswith('apinotebook.sandbox')])\n"
    )
    proc = run_script(probe, env=env, cwd=tmp_path)
    assert "BAD [] []" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(ruff() is None, reason="the ruff binary is not installed")
def test_export_is_ruff_clean_before_and_after_formatting(tmp_path: Path) -> None:
    raw = tmp_path / "raw.py"
    export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", raw, format=False)
    assert ruff_problems(raw) == ""
    flow = tmp_path / "flow.py"
    export_notebook(NOTEBOOKS / "crm_to_mail.ipynb", flow, target="prefect", format=False)
    assert ruff_problems(flow) == ""


def test_webhook_serve_options_come_from_the_notebook(exported: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CRM_WEBHOOK_SECRET"}
    env.update(CRM_URL="http://127.0.0.1:9", CRM_TOKEN="x" * 8, MAIL_URL="http://127.0.0.1:9")
    env["MAIL_API_KEY"] = "y" * 8
    proc = run_script(exported, "serve", "--help", env=env, cwd=tmp_path)
    assert proc.returncode == 0
    assert "/hooks/crm" in proc.stdout and "CRM_WEBHOOK_SECRET" in proc.stdout
    assert shutil.which(sys.executable)
