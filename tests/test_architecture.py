"""The package's shape: no import cycles (function-level imports included), small modules.

The layers themselves are import-linter contracts in pyproject.toml, checked by
``lint-imports`` in ``make lint``; this module checks what import-linter does not:
cycles through a package's ``__init__`` and the size of every module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "apinotebook"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports, anywhere in its code (not under TYPE_CHECKING)."""
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skipped = _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycles_not_even_inside_functions():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_function_level_imports_are_in_the_graph():
    graph = import_graph()
    # RestClient.explore() asks the views registry; the magics import IPython lazily
    assert "apinotebook._core.views" in graph["apinotebook.rest._client"]
    assert "apinotebook.magics._magics" in graph["apinotebook.magics"]


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_module_is_small(name):
    lines = len(_modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it (at most {MAX_LINES})"


def test_the_layers_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (the dev extra has it)")
    proc = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


TESTS = ROOT / "tests"
# beside the mirror: shared fixture files, the suites that cut across packages, and the
# real-world corpus tools
BESIDE_THE_MIRROR = {"fixtures", "reliability", "security", "browser", "corpus"}


def test_the_tests_mirror_the_package():
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name[0] not in "._"}
    packages = {p.parent.name.lstrip("_") for p in PACKAGE.glob("*/__init__.py")}
    # tests/core holds the tests of _core and of the model beside it (_exchange, _history, ...)
    strays = sorted(folders - packages - BESIDE_THE_MIRROR)
    assert not strays, f"tests/ folders that mirror no package: {strays}"
    loose = sorted(
        p.name for p in TESTS.glob("test_*.py") if p.stem not in {"test_architecture",
        "test_package", "test_public_api"}
    )  # fmt: skip
    assert not loose, f"test modules at the top of tests/ (move them beside their package): {loose}"


def test_every_test_module_is_small_and_has_its_own_name():
    big = {
        str(p.relative_to(ROOT)): n
        for p in TESTS.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not big, f"test modules over {MAX_LINES} lines (split them by feature): {big}"
    # most test folders are not packages: pytest imports their modules by file name
    files = [p for p in TESTS.rglob("*.py") if p.name not in {"conftest.py", "__init__.py"}]
    names = defaultdict(list)
    for p in files:
        names[p.name].append(str(p.relative_to(ROOT)))
    twins = {name: paths for name, paths in names.items() if len(paths) > 1}
    assert not twins, f"test modules with the same file name: {twins}"
