"""The course keeps its state files under ``notebooks/build/``, never beside the notebooks.

``make notebooks`` runs the course with nbval from ``notebooks/``: an integration
with ``state="x.db"`` would leave ``x.db``, ``x.db-wal`` and ``x.db-shm`` beside
the course after every run (``.gitignore`` hides them from ``git status`` but not
from the folder a learner opens).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "notebooks"
#: a notebook whose integration keeps SQLite state (the quickest of them to run)
STATEFUL = "09_billing_to_crm.ipynb"


def _state_values() -> list[tuple[str, int, str]]:
    """Every literal ``state=`` argument in the course's code cells."""
    found = []
    for path in sorted(COURSE.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            # IPython lines (%magic, !shell) are not Python: blank them out
            source = re.sub(r"(?m)^\s*[%!].*$", "", source)
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    for kw in node.keywords:
                        if kw.arg == "state" and isinstance(kw.value, ast.Constant):
                            found.append((path.name, index, str(kw.value.value)))
    return found


def test_every_state_file_of_the_course_is_under_build():
    values = _state_values()
    assert any(v.startswith("build/") for _, _, v in values)  # the check sees them
    beside = [(n, i, v) for n, i, v in values if v != ":memory:" and not v.startswith("build/")]
    assert not beside, f"state files beside the course (use build/state/...): {beside}"


def _new_files() -> set[str]:
    """Untracked and ignored paths in notebooks/, apart from the build folder."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "notebooks/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    paths = {line[3:] for line in out.splitlines() if line[:2] in ("??", "!!")}
    return {p for p in paths if not p.startswith("notebooks/build/")}


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_running_a_stateful_notebook_leaves_nothing_beside_the_course():
    before = _new_files()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         f"notebooks/{STATEFUL}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (COURSE / "build" / "state" / "billing_to_crm.db").exists()
    assert _new_files() - before == set()
