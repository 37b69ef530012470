"""export_notebook() and ``apinotebook export``: results, bad inputs, the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apinotebook import ConfigError, ExportError, LiteralSecretError
from apinotebook.cli import _build_parser
from apinotebook.export import TARGETS, ExportResult, export_notebook

from .conftest import DATA, INTEGRATION, code, md, notebook_json

SECRET = "crm_3697338065b15b6bae0a79c726acdb1e"

# (label, extra cells, cell index of the secret, line in that cell)
LITERAL_SECRETS = [
    ("assignment", [code(f'a = 1\nCRM_TOKEN = "{SECRET}"\nROWS.extend([CRM_TOKEN])')], 2, 2),
    ("Bearer()", [code(f'from apinotebook import Bearer\nauth = Bearer("{SECRET}")\n'
                       "ROWS.extend([auth])")], 2, 2),
    ("password keyword", [code('import httpx\nc = httpx.Client(auth=httpx.BasicAuth("u", '
                               'password="hunter22"))\nROWS.extend([c])')], 2, 2),
    ("headers dict", [code('HEADERS = {\n    "Accept": "application/json",\n'
                           '    "X-API-Key": "k-5521-aa",\n}\nROWS.extend([HEADERS])')], 2, 3),
    ("Secret()", [code(f'from apinotebook import Secret\nS = Secret("{SECRET}")\n'
                       "ROWS.extend([S])")], 2, 2),
    ("token-shaped", [code('STRIPE = "sk_live_abcdefghij0123456789"\nROWS.extend([STRIPE])')],
     2, 1),
    ("in a function", [code(f'def auth():\n    return "Bearer {SECRET}"\n\n\nROWS.extend([auth])')],
     2, 2),
    ("%%rest header", [code("from apinotebook import RestClient\ncrm = RestClient('http://x')"),
                       code(f"%%rest crm --out me\nGET /me\nAuthorization: Bearer {SECRET}"),
                       code("ROWS.extend([me])")], 3, 3),
    ("parameter", [code(f'API_TOKEN = "{SECRET}"', "parameters"), code("ROWS.extend([API_TOKEN])")],
     2, 1),
    ("export-tagged", [code(f'KEY = "{SECRET}"', "export")], 2, 1),
]  # fmt: skip


def write(tmp_path: Path, cells: list, name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(notebook_json(cells)), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("label", "cells", "cell", "line"), LITERAL_SECRETS, ids=[s[0] for s in LITERAL_SECRETS]
)
def test_literal_secrets_are_refused(
    tmp_path: Path, label: str, cells: list, cell: int, line: int
) -> None:
    nb = write(tmp_path, [DATA, INTEGRATION, *cells])
    with pytest.raises(LiteralSecretError) as info:
        export_notebook(nb, tmp_path / "out.py")
    assert (info.value.cell, info.value.line) == (cell, line), str(info.value)
    assert f"cell {cell}, line {line}" in str(info.value)
    assert SECRET not in str(info.value) and "hunter22" not in str(info.value)
    assert "environment" in str(info.value)
    assert not (tmp_path / "out.py").exists()


def test_a_secret_in_a_dropped_cell_is_only_a_warning(tmp_path: Path) -> None:
    nb = write(tmp_path, [DATA, INTEGRATION, code(f'TOKEN = "{SECRET}"\nTOKEN', "no-export"),
                          code(f'probe = "{SECRET}"')])  # fmt: skip
    result = export_notebook(nb, tmp_path / "out.py", format=False)
    assert SECRET not in result.path.read_text()
    assert any("cell 3, line 1 (not exported)" in w for w in result.warnings), result.warnings


BROKEN = [
    ("not JSON", "{not json", "not valid JSON"),
    ("not an object", "[1, 2]", "no list of 'cells'"),
    ("no cells", '{"nbformat": 4}', "no list of 'cells'"),
    ("nbformat 3", '{"nbformat": 3, "cells": []}', "nbformat 3"),
    ("a cell that is not an object", '{"nbformat": 4, "cells": [1]}', "cell 0 is not a JSON"),
    ("R", '{"nbformat": 4, "cells": [], "metadata": {"kernelspec": {"language": "R"}}}',
     "R notebook"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "text", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_notebook_files(tmp_path: Path, label: str, text: str, message: str) -> None:
    nb = tmp_path / "broken.ipynb"
    nb.write_text(text)
    with pytest.raises(ExportError, match=message):
        export_notebook(nb, tmp_path / "out.py")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot read the notebook"):
        export_notebook(tmp_path / "nope.ipynb", tmp_path / "out.py")
    binary = tmp_path / "binary.ipynb"
    binary.write_bytes(b"\xff\xfe\x00\x00")
    with pytest.raises(ExportError, match="not UTF-8"):
        export_notebook(binary, tmp_path / "out.py")


NOT_EXPORTABLE = [
    ("no integration", [code("import httpx\nr = httpx.get('http://x')")],
     "not an integration notebook: define Integration(...)"),
    ("integration only in a no-export cell",
     [code("from apinotebook.integration import Integration\ns = Integration('x')", "no-export")],
     "not an integration notebook"),
    ("two integrations", [DATA, INTEGRATION, code("other = Integration('other')\nother.store")],
     r"defines 2 integrations \(cell 1, line 3, cell 2, line 1\)"),
    ("not assigned", [code("from apinotebook.integration import Integration\n"
                           "syncs = [Integration('x')]\nsyncs[0].store")],
     "assign the integration to a variable"),
    ("syntax error", [DATA, INTEGRATION, code("a = 1\nb = (2,\nc = 3")], r"cell 2, line \d"),
    ("syntax error after a magic", [DATA, INTEGRATION, code("%%time\nx = 1\ny = = 2")],
     "cell 2, line 3: syntax error"),
    ("bad %%rest", [DATA, INTEGRATION, code("%%rest crm\nFETCH /contacts")],
     "cell 2, line 2: %%rest: the request line"),
    ("top-level await", [DATA, INTEGRATION, code("x = await ROWS.fetch()\nROWS.extend([x])")],
     "cell 2, line 1: top-level 'await'"),
    ("IPython in kept code", [DATA, INTEGRATION, code(
        "from IPython.display import HTML\n\n\ndef page():\n    return HTML('<b>')\n\n\n"
        "ROWS.extend([page])")], "cell 2, line 1 imports IPython.display"),
    ("parameter shadows an option", [DATA, INTEGRATION, code("LIMIT = 5", "parameters")],
     "would shadow the script's own option --limit"),
    ("undefined template object", [DATA, INTEGRATION, code("%%rest\nGET http://x/{{obj.id}}")],
     "names 'obj', which the notebook does not define"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "cells", "message"), NOT_EXPORTABLE, ids=[n[0] for n in NOT_EXPORTABLE]
)
def test_notebooks_that_cannot_be_exported(
    tmp_path: Path, label: str, cells: list, message: str
) -> None:
    nb = write(tmp_path, cells)
    with pytest.raises(ExportError, match=message):
        export_notebook(nb, tmp_path / "out.py")


def test_unknown_target_lists_the_valid_ones(tmp_path: Path) -> None:
    nb = write(tmp_path, [DATA, INTEGRATION])
    with pytest.raises(ConfigError, match="Valid targets: 'prefect', 'script'.*'prefect'"):
        export_notebook(nb, tmp_path / "out.py", target="prefekt")
    assert TARGETS == ("script", "prefect")


def test_result_and_header(tmp_path: Path) -> None:
    nb = write(tmp_path, [md("# Demo sync"), DATA, INTEGRATION, code("sync.run()")])
    result = export_notebook(nb, tmp_path / "demo.py", format=False)
    assert isinstance(result, ExportResult)
    assert result.path == tmp_path / "demo.py" and result.source == nb
    assert [c.index for c in result.kept] == [1, 2]
    assert [c.index for c in result.dropped] == [3]
    assert "demo.py" in repr(result)
    head = result.path.read_text().split('"""')[1]
    assert head.startswith("Demo sync.\n\nExported from nb.ipynb by apinotebook 0.1.0")
    assert "python demo.py run" in head and "python demo.py status --json" in head
    assert "pip install apinotebook" in head


def test_default_output_and_overwrite_rules(tmp_path: Path) -> None:
    nb = write(tmp_path, [DATA, INTEGRATION])
    first = export_notebook(nb, format=False)
    assert first.path == tmp_path / "nb.py"
    export_notebook(nb, format=False)  # an earlier export is replaced
    other = tmp_path / "mine.py"
    other.write_text("print('my own code')\n")
    with pytest.raises(ExportError, match="not an earlier export"):
        export_notebook(nb, other)
    assert other.read_text() == "print('my own code')\n"
    with pytest.raises(ExportError, match="not an earlier export"):
        export_notebook(nb, first.path, overwrite=False)
    with pytest.raises(ExportError, match="overwrite the notebook"):
        export_notebook(nb, nb)


def test_the_export_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = write(tmp_path, [DATA, INTEGRATION, code("display(ROWS)")])
    parser = _build_parser()
    out = tmp_path / "out.py"
    args = parser.parse_args(["export", str(nb), "-o", str(out), "--explain", "--no-format"])
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    assert "cell   2 code     dropped    display: display(...)" in printed
    args = parser.parse_args(["export", str(nb), "-o", str(out), "--target", "prefect"])
    assert args.handler(args) == 0
    assert "wrote" in capsys.readouterr().out and "import prefect" in out.read_text()
    args = parser.parse_args(["export", str(nb), "-o", str(out), "--target", "airflow"])
    with pytest.raises(ConfigError, match="Unknown target 'airflow'"):
        args.handler(args)
