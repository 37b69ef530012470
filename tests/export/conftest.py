"""Helpers for the export tests: notebooks from cells, a notebook runner, ruff, sandboxes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"
ROOT = Path(__file__).parents[2]
#: the project's ruff rules minus the docstring rules, as an exported script is checked
RUFF_RULES = "E,F,I,B,PIE,UP"


def code(source: str, *tags: str) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "tags": list(tags)}


def md(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "source": source, "tags": []}


def notebook_json(cells: list[dict[str, Any]]) -> dict[str, Any]:
    out = []
    for c in cells:
        cell: dict[str, Any] = {
            "cell_type": c["cell_type"],
            "metadata": {"tags": c["tags"]} if c["tags"] else {},
            "source": c["source"].strip("\n").splitlines(keepends=True),
        }
        if c["cell_type"] == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    return {
        "cells": out,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture
def make_notebook(tmp_path: Path):
    def make(*cells: dict[str, Any], name: str = "nb.ipynb") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(notebook_json(list(cells))), encoding="utf-8")
        return path

    return make


INTEGRATION = code(
    """
from apinotebook.integration import Integration

sync = Integration("demo", state=":memory:")


@sync.source(key="id")
def rows(since):
    yield from ROWS


@sync.destination
def write(batch):
    SINK.extend(batch)
"""
)
DATA = code("ROWS = [{'id': 1}, {'id': 2}]\nSINK: list = []")


# -- ruff ---------------------------------------------------------------------------------


def ruff() -> str | None:
    from apinotebook.export._script import find_ruff

    return find_ruff()


def ruff_problems(path: Path) -> str:
    """``ruff check`` (project rules minus docstrings) and ``ruff format --check`` output."""
    binary = ruff()
    assert binary is not None
    check = subprocess.run(
        [binary, "check", "--isolated", "--select", RUFF_RULES, "--line-length", "100",
         "--target-version", "py311", "--output-format", "concise", path.name],
        cwd=path.parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    fmt = subprocess.run(
        [binary, "format", "--isolated", "--line-length", "100", "--diff", path.name],
        cwd=path.parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    problems = ""
    if check.returncode:
        problems += check.stdout + check.stderr
    if fmt.returncode:
        problems += fmt.stdout + fmt.stderr
    return problems


# -- running a notebook in-process, the way Jupyter would ---------------------------------


def _run_magic(kind: str, line: str, body: str, ns: dict[str, Any]) -> None:
    """What the %%rest / %%graphql magics do, written independently of the exporter."""
    from apinotebook._core.cellsyntax import (
        GraphQLCell,
        RestCell,
        namespace_resolver,
        parse_cell,
        substitute,
    )

    cell = parse_cell(kind, line, body)  # type: ignore[arg-type]
    resolve = namespace_resolver(ns, os.environ)
    if isinstance(cell, RestCell):
        client = ns[cell.client] if cell.client else None
        headers = {k: substitute(v, resolve) for k, v in cell.headers}
        content = substitute(cell.body, resolve) if cell.body is not None else None
        result = client.request(
            cell.method, substitute(cell.url, resolve), headers=headers, content=content
        )
    elif isinstance(cell, GraphQLCell):
        variables = ns[cell.variables] if cell.variables else None
        result = ns[cell.client].execute(
            substitute(cell.query, resolve), variables, cell.operation_name
        )
    else:  # pragma: no cover - no SOAP cell in the fixtures
        raise NotImplementedError
    ns[cell.out or "_"] = result


def execute_notebook(path: Path) -> dict[str, Any]:
    """Run every code cell in a fresh namespace (line magics and shell lines are no-ops)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    ns: dict[str, Any] = {"__name__": "__notebook__", "display": lambda *a, **k: None}
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if source.startswith("%%"):
            first, _, body = source.partition("\n")
            name, _, line = first[2:].partition(" ")
            if name in ("rest", "graphql", "soap"):
                _run_magic(name, line, body, ns)
            elif name in ("time", "capture"):
                exec(compile(body, f"<cell {index}>", "exec"), ns)
            continue
        lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n")]
        exec(compile("\n".join(lines), f"<cell {index}>", "exec"), ns)
    return ns


# -- sandboxes and subprocesses -------------------------------------------------------------


@pytest.fixture(scope="session")
def crm_registered() -> Iterator[None]:
    """Serve the CRM even before it is listed in SERVICES (it is being finished)."""
    pytest.importorskip("fastapi")
    from apinotebook.sandbox import _runner

    with pytest.MonkeyPatch.context() as mp:
        if "crm" not in _runner.SERVICES:
            mp.setattr(_runner, "SERVICES", (*_runner.SERVICES, "crm"))
        yield


def sandbox_env(env: dict[str, str]) -> dict[str, str]:
    """The current environment without sandbox variables, plus ``env``."""
    from apinotebook.sandbox._runner import _is_sandbox_var

    base = {k: v for k, v in os.environ.items() if k != "SANDBOX_URL" and not _is_sandbox_var(k)}
    return {**base, **env}


def run_script(
    script: Path, *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def subscribers(box: Any, list_name: str = "Newsletter") -> list[tuple[Any, ...]]:
    """A mailing list's subscribers, without ids and timestamps (they differ between runs)."""
    store = box.state("mail")
    rows = store.subscribers(store.list_id(list_name))
    return sorted((r["email"], r["name"], r["status"], tuple(r["tags"])) for r in rows)
