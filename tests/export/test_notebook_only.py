"""The exporter leaves out plots and widgets, and refuses kept code that needs them."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from apinotebook import ExportError
from apinotebook.export import export_notebook
from apinotebook.export._notebook_only import is_notebook_only

from .conftest import DATA, INTEGRATION, ROOT, code, ruff, ruff_problems, sandbox_env

#: the course notebooks that define one integration and export today
COURSE_EXPORTS = [
    "05_when_to_use_which",
    "07_crm_to_newsletter",
    "08_calendar_to_chat",
    "09_billing_to_crm",
]


def _imported_modules(path: Path) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


@pytest.mark.skipif(ruff() is None, reason="needs ruff")
@pytest.mark.parametrize("name", COURSE_EXPORTS)
def test_course_exports_are_ruff_clean_without_notebook_only_imports(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)  # where a notebook's kernel runs the exporter
    result = export_notebook(ROOT / "notebooks" / f"{name}.ipynb", tmp_path / "out" / f"{name}.py")
    assert result.formatted
    assert not (tmp_path / ".ruff_cache").exists()  # nothing left beside the course
    assert not [m for m in _imported_modules(result.path) if is_notebook_only(m)]
    assert ruff_problems(result.path) == ""


def test_notebook_05_drops_the_chart_and_the_data_only_it_used(tmp_path):
    result = export_notebook(ROOT / "notebooks" / "05_when_to_use_which.ipynb", tmp_path / "05.py")
    text = result.path.read_text(encoding="utf-8")
    assert "plt" not in text and "ax." not in text and "measured" not in text
    (chart,) = [c for c in result.cells if c.index == 5]
    assert chart.status == "dropped"
    assert any("notebook-only import (matplotlib.pyplot)" in d for d in chart.details)


#: runs a script as if only the core were installed: notebook-only imports fail
CORE_ONLY = textwrap.dedent(
    """
    import importlib.abc, runpy, sys

    from apinotebook.export._notebook_only import is_notebook_only


    class CoreOnly(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if is_notebook_only(name):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, CoreOnly())
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
    """
)


@pytest.mark.sandbox
def test_exported_notebook_05_runs_without_notebook_only_packages(tmp_path):
    from apinotebook.sandbox import Sandbox

    script = export_notebook(
        ROOT / "notebooks" / "05_when_to_use_which.ipynb", tmp_path / "05.py"
    ).path
    (tmp_path / "core_only.py").write_text(CORE_ONLY, encoding="utf-8")
    box = Sandbox(seed=0).start()
    try:
        proc = subprocess.run(
            [sys.executable, "core_only.py", str(script), "run", "--dry-run", "--limit", "5"],
            cwd=tmp_path, env=sandbox_env(box.env), capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    finally:
        box.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]


PLOT = code(
    "import matplotlib.pyplot as plt\n\n"
    "fig, ax = plt.subplots()\n"
    "for row in ROWS:\n"
    "    ax.bar(row['id'], 1)\n"
    "ax.set_title('rows')\n"
    "plt.show()"
)


def test_a_chart_beside_the_integration_is_left_out(make_notebook, tmp_path):
    nb = make_notebook(DATA, INTEGRATION, PLOT)
    result = export_notebook(nb, tmp_path / "out.py")
    text = result.path.read_text(encoding="utf-8")
    assert "matplotlib" not in text and "ax.bar" not in text and "fig" not in text
    assert "ROWS = " in text  # the integration still needs the data the chart used
    (cell,) = [c for c in result.cells if c.index == 2]
    assert cell.status == "dropped"


def test_names_the_chart_shares_with_kept_code_do_not_taint_it(make_notebook, tmp_path):
    # the chart's loop variable `row` is also a parameter and a loop variable of kept code
    kept = code(
        "@sync.transform\ndef shape(row):\n"
        "    return {**row, 'n': len([row for row in [row]])}\n\n\n"
        "for row in list(ROWS):\n    ROWS.append({'id': row['id'] + 10})"
    )
    nb = make_notebook(DATA, INTEGRATION, PLOT, kept)
    result = export_notebook(nb, tmp_path / "out.py")
    text = result.path.read_text(encoding="utf-8")
    assert "def shape(row)" in text and "ROWS.append" in text
    assert "matplotlib" not in text and "ax.bar" not in text


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        (  # the integration's own code draws
            code(
                "import matplotlib.pyplot as plt\n\n\n@sync.transform\ndef log(record):\n"
                "    plt.plot([record['id']])\n    return record"
            ),
            "cell 2, line 1 imports matplotlib.pyplot.*cell 2, line 5 uses plt",
        ),
        (  # a figure handed to kept code
            code("import matplotlib.pyplot as plt\n\nfig = plt.figure()\nSINK.append(fig)"),
            "cell 2, line 1 imports matplotlib.pyplot.*cell 2, line 4 uses fig",
        ),
        (  # a widget value the data depends on
            code(
                "import ipywidgets as w\n\nslider = w.IntSlider(value=3)\n"
                "ROWS.append({'id': slider.value})"
            ),
            "cell 2, line 1 imports ipywidgets.*cell 2, line 4 uses slider",
        ),
    ],
    ids=["transform", "figure-in-kept-code", "widget-value"],
)
def test_kept_code_that_needs_a_notebook_only_package_is_refused(
    make_notebook, tmp_path, extra, where
):
    nb = make_notebook(DATA, INTEGRATION, extra)
    with pytest.raises(ExportError, match=where) as info:
        export_notebook(nb, tmp_path / "out.py")
    assert "only runs in a notebook" in str(info.value)
    assert not (tmp_path / "out.py").exists()
