"""Which cells and statements become code, and why (the notebook is never run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from apinotebook.export import export_notebook

from .conftest import DATA, INTEGRATION, code, md


def export(make_notebook, *cells, **kwargs) -> tuple[object, str]:  # type: ignore[no-untyped-def]
    nb = make_notebook(DATA, INTEGRATION, *cells)
    result = export_notebook(nb, nb.with_suffix(".py"), format=False, **kwargs)
    return result, result.path.read_text()


def body(text: str) -> str:
    """The generated module without its docstring."""
    return text.split('"""', 2)[2]


# (label, cell source, tags, kept snippets, dropped snippets, reason in --explain)
RULES = [
    ("display", "rows_seen = len(ROWS)\ndisplay(rows_seen)", (), [], ["display("], "display"),
    ("print-only cell", 'print("hello")\nprint(ROWS)', (), [], ["print("], "display: print"),
    ("Inspector widget", "from apinotebook.widgets import Inspector\nInspector(ROWS)", (), [],
     ["Inspector", "apinotebook.widgets"], "display: Inspector"),
    ("inspect()", "inspect(ROWS)", (), [], ["inspect("], "display: inspect"),
    (".explore()", "sync.history.explore()", (), [], ["explore"], "exploration: .explore()"),
    ("trailing expression", "LIMIT = 5\nLIMIT", (), [], ["\nLIMIT\n"], "trailing expression"),
    ("trailing call", "ROWS.copy()", (), [], ["ROWS.copy()"], "trailing expression"),
    ("trailing mutator", "ROWS.append({'id': 3})", (), ["ROWS.append({'id': 3})"], [], None),
    ("dry run", "preview = sync.run(dry_run=True, limit=5)\npreview", (), [],
     ["dry_run", "preview"], "dry run"),
    ("run", "report = sync.run()\nreport.raise_for_status()", (), [], ["sync.run", "report"],
     "the script's `run` command"),
    ("replay", "sync.replay()", (), [], ["replay"], "`replay` command"),
    ("every", 'sync.every("5m")', (), [], ["every"], "`schedule` command"),
    ("cron", 'sync.cron("*/5 * * * *")', (), [], ["cron("], "`schedule` command"),
    ("on_webhook", 'r = sync.on_webhook("/hook", secret=Secret.from_env("S"))\nr.url', (), [],
     ["on_webhook"], "`serve` command"),
    ("reset", "sync.reset()", (), [], ["reset"], "housekeeping"),
    ("sandbox", "from apinotebook.sandbox import get_sandbox\nsb = get_sandbox()", (), [],
     ["sandbox", "sb ="], "sandbox start-up"),
    ("Sandbox()", "from apinotebook.sandbox import Sandbox\nbox = Sandbox(seed=1).start()", (),
     [], ["Sandbox"], "sandbox start-up"),
    ("%pip", "%pip install apinotebook\nLIMIT = 5\nROWS.extend([{'id': LIMIT}])", (),
     ["ROWS.extend"], ["%pip", "pip install"], "package install"),
    ("shell", "!ls -la\nROWS.extend([])", (), ["ROWS.extend([])"], ["ls -la"], "shell command"),
    ("line magic", "%load_ext apinotebook\n%time ROWS.extend([])", (), [], ["load_ext", "%time"],
     "line magic"),
    ("shell assignment", "files = !ls\nROWS.extend([])", (), ["ROWS.extend"], ["files"],
     "IPython assignment"),
    ("help", "sync.run?", (), [], ["sync.run?"], "IPython help"),
    ("%%time", "%%time\nROWS.extend([{'id': 9}])", (), ["ROWS.extend([{'id': 9}])"], ["%%time"],
     None),
    ("%%html", "%%html\n<b>hi</b>", (), [], ["<b>"], "not Python (%%html)"),
    ("%%bash", "%%bash\necho hi", (), [], ["echo"], "not Python (%%bash)"),
    ("%%timeit", "%%timeit\nlen(ROWS)", (), [], ["len(ROWS)"], "benchmark"),
    ("no-export", "ROWS.extend([{'id': 7}])", ("no-export",), [], ["'id': 7"], "no-export"),
    ("export tag keeps all", "EXTRA = 1\nEXTRA", ("export",), ["EXTRA = 1\nEXTRA"], [], "tagged"),
    ("unused assignment", "first = ROWS[0]", (), [], ["first"], "not used by the integration"),
    ("unused helper", "def helper(x):\n    return x", (), [], ["def helper"], "not used"),
    ("used helper", "def helper(x):\n    return x\n\n\nROWS.extend(helper([]))", (),
     ["def helper", "ROWS.extend(helper([]))"], [], None),
    ("magic in a string stays", 'DOC = """\n%pip install x\n!rm -rf /\n"""\nROWS.extend([DOC])', (),
     ["%pip install x", "!rm -rf /"], [], None),
    ("display-only loop", "for r in ROWS:\n    print(r)", (), [], ["for r in ROWS"],
     "display-only"),
    ("top-level pass", "pass", (), [], [], "no code"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "source", "tags", "kept", "dropped", "reason"), RULES, ids=[r[0] for r in RULES]
)
def test_selection_rules(
    make_notebook, label: str, source: str, tags: tuple, kept: list, dropped: list, reason: str
) -> None:
    result, text = export(make_notebook, code(source, *tags))
    generated = body(text)
    ast.parse(text)
    for snippet in kept:
        assert snippet in generated, f"{label}: {snippet!r} should be kept"
    for snippet in dropped:
        assert snippet not in generated, f"{label}: {snippet!r} should be dropped"
    if reason:
        assert reason in result.explain(), result.explain()


def test_the_integration_is_kept_with_its_decorated_functions(make_notebook) -> None:
    result, text = export(make_notebook)
    assert 'sync = Integration("demo", state=cli.state_path(":memory:"))' in text
    assert '@sync.source(key="id")' in text and "@sync.destination" in text
    assert text.rstrip().endswith("raise SystemExit(main(sync, cli=cli))")
    assert result.integration == "sync"


def test_state_defaults_to_the_integrations_own(make_notebook) -> None:
    nb = make_notebook(
        DATA,
        code(
            "from apinotebook.integration import Integration\n"
            'sync = Integration(\n    "demo",\n)\n\n\n@sync.source\ndef rows(since):\n'
            "    yield from ROWS\n\n\n@sync.destination\ndef write(batch):\n    pass"
        ),
    )
    text = export_notebook(nb, nb.with_suffix(".py"), format=False).path.read_text()
    assert '"demo", state=cli.state_path(),' in text


def test_sandbox_lookups_become_environment_reads(make_notebook) -> None:
    cells = [
        code("from apinotebook.sandbox import get_sandbox\nsb = get_sandbox()"),
        code(
            "from apinotebook import Bearer, RestClient\n"
            'crm = RestClient(sb.urls["crm"], auth=Bearer(sb.env["CRM_TOKEN"]))\n'
            'billing = sb.urls["billing"]\n'
            'skyhigh = sb.urls["fares"]["skyhigh"]\n'
            'KEY = sb.env.get("MAIL_API_KEY")\n'
            "BASE = sb.url\n"
            "ROWS.extend([crm, billing, skyhigh, KEY, BASE])"
        ),
        code('import os\nos.environ["CRM_URL"] = sb.urls["crm"]'),
        code('sb.set_fault("crm", error_rate=0.5)'),
    ]
    result, text = export(make_notebook, *cells)
    assert 'RestClient(os.environ["CRM_URL"], auth=Bearer(os.environ["CRM_TOKEN"]))' in text
    assert 'billing = os.environ["BILLING_WSDL"]' in text
    assert 'skyhigh = os.environ["FARES_SKYHIGH_URL"]' in text
    assert 'KEY = os.environ.get("MAIL_API_KEY")' in text
    assert 'BASE = os.environ["SANDBOX_URL"]' in text
    assert "sb" not in body(text).replace("SANDBOX", "")
    assert "sandbox set-up" in result.explain() and "sandbox control" in result.explain()
    assert "import os\n" in text


def test_uses_of_dropped_names_are_dropped_too(make_notebook) -> None:
    result, text = export(
        make_notebook,
        code("report = sync.run()"),
        code("FAILED = report.failed\nROWS.extend([FAILED])"),
    )
    assert "FAILED" not in body(text)
    assert "uses report, which is not exported" in result.explain()


def test_functions_using_dropped_names_are_warned_about(make_notebook) -> None:
    result, _ = export(
        make_notebook,
        code("report = sync.run()"),
        code("def show():\n    display(report)\n\n\nROWS.extend([show])"),
    )
    assert any("report" in w and "display" in w for w in result.warnings), result.warnings


def test_imports_are_pruned_merged_and_sorted(make_notebook) -> None:
    result, text = export(
        make_notebook,
        code("import json\nimport sys, os\nfrom pathlib import Path\nfrom typing import Any"),
        code("import httpx\nfrom apinotebook import Secret, Bearer\nTOKEN = Bearer(Secret('x'*3))"),
        code("ROWS.extend([json.dumps({}), Path('.'), httpx.URL('http://a'), TOKEN])"),
    )
    start = text.index("import json")
    block = text[start : text.index("\n\ncli = Cli(", start)]
    assert block == (
        "import json\nfrom pathlib import Path\n\nimport httpx\n"
        "from apinotebook import Bearer, Secret\n"
        "from apinotebook.export.runtime import Cli, main\n"
        "from apinotebook.integration import Integration"
    )


def test_parameters_become_options(make_notebook) -> None:
    params = code(
        'BATCH_SIZE = 2  # records per call\nLIST_NAME = "News"\nVERBOSE = False\n'
        'TAGS = ["a", "b"]\nRATIO = 0.5\nSINCE = None\nCRM_TOKEN = ""\n'
        'COMPUTED = "x" * 3',
        "parameters",
    )
    use = code(
        "ROWS.extend([BATCH_SIZE, LIST_NAME, VERBOSE, TAGS, RATIO, SINCE, CRM_TOKEN, COMPUTED])"
    )
    result, text = export(make_notebook, params, use)
    options = {p.option: (p.value, p.secret) for p in result.parameters}
    assert options == {
        "--batch-size": (2, False),
        "--list-name": ("News", False),
        "--verbose": (False, False),
        "--tags": (["a", "b"], False),
        "--ratio": (0.5, False),
        "--since": (None, False),
        "--crm-token": (None, True),
    }
    assert 'Parameter("BATCH_SIZE", 2, help="records per call")' in text
    assert 'Parameter("CRM_TOKEN", None, secret=True)' in text
    assert "BATCH_SIZE: int = cli.param(" in text and "SINCE: str | None = cli.param(" in text
    assert "VERBOSE: bool" in text and "TAGS: list" in text and "RATIO: float" in text
    assert 'COMPUTED = "x" * 3' in text  # not a literal: kept as code
    assert "--batch-size" in text.split('"""')[1]  # documented in the header


def test_rest_cell_templates(make_notebook) -> None:
    cells = [
        code("from apinotebook import RestClient\ncrm = RestClient('http://crm.example')"),
        code("CONTACT = 'c_1'"),
        code(
            "%%rest crm --out contact\nGET /contacts/{{CONTACT}}\n"
            "Authorization: Bearer {{CRM_TOKEN}}"
        ),
        code("%%rest\nGET https://example.com/ping"),
        code("ROWS.extend([contact])"),
    ]
    result, text = export(make_notebook, *cells)
    assert (
        'contact = crm.request(\n    "GET",\n    f"/contacts/{CONTACT}",\n'
        '    headers={"Authorization": f"Bearer {os.environ[\'CRM_TOKEN\']}"},\n)'
    ) in text
    assert "example.com/ping" not in text  # no --out, not used: exploration
    assert "%%rest → client call" in result.explain()


def test_long_graphql_cells_are_laid_out_in_100_columns(make_notebook) -> None:
    query = "\n".join(["query Long {", *(f"  field{i} {{ id name value }}" for i in range(8)), "}"])
    cells = [
        code("from apinotebook.graphql import GraphQLClient\nmail = GraphQLClient(None)"),
        code(f"%%graphql mail --out page\n{query}"),
        code("ROWS.extend([page])"),
    ]
    _, text = export(make_notebook, *cells)
    assert all(len(line) <= 100 for line in text.splitlines())
    tree = ast.parse(text)
    [assign] = [n for n in tree.body if isinstance(n, ast.Assign) and "page" in ast.unparse(n)]
    assert assign.value.args[0].value == query  # type: ignore[attr-defined]


def test_markdown_headings_name_the_cells(make_notebook) -> None:
    _, text = export(make_notebook, md("## Clients\nSome text"), code("ROWS.extend([1])"))
    assert "# -- cell 3: Clients\nROWS.extend([1])" in text


def test_comments_above_statements_are_kept(make_notebook) -> None:
    _, text = export(
        make_notebook, code("# why we do this\nROWS.extend([1])  # trailing note\nROWS\n")
    )
    assert "# why we do this\nROWS.extend([1])  # trailing note" in text


def test_explain_lists_every_cell(make_notebook, tmp_path: Path) -> None:
    result, _ = export(make_notebook, md("# Title"), code("ROWS"))
    lines = result.explain().splitlines()
    assert lines[0].startswith("nb.ipynb -> ")
    assert [line.split()[1] for line in lines[1:5]] == ["0", "1", "2", "3"]
    assert "skipped" in lines[3] and "dropped" in lines[4]
