"""The Prefect target: the same script, plus a flow of extract, transform and load tasks.

The generated file keeps the notebook's code and command line and adds::

    @prefect.task(name="extract", retries=3, retry_delay_seconds=10, cache_policy=NO_CACHE)
    def extract_task(limit: int | None = None) -> Extracted:
        return sync.extract(limit=limit)
    ...
    @prefect.flow(name="crm-to-newsletter")
    def crm_to_newsletter_flow(limit: int | None = None) -> RunReport:
        return load_task(transform_task(extract_task(limit)), limit)

The three tasks call the integration's public staged API
(:meth:`~apinotebook.integration.Integration.extract`, ``.map``, ``.load``; see
:mod:`apinotebook.integration._stages`) with the same state file as the script
target: load deduplicates, delivers in batches, dead-letters and checkpoints
exactly as ``python sync.py run`` does. So a flow run and a script run share checkpoints and dead
letters, and retrying ``load`` after a crash does not deliver twice.

This module never imports Prefect; only the generated file does.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

from apinotebook.export._pycode import call, py_literal
from apinotebook.export._syntax import bound

if TYPE_CHECKING:
    from apinotebook.export._script import Module

__all__ = ["add_flow"]

EXTRACT_RETRIES = 3
LOAD_RETRIES = 3


def _free(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def add_flow(module: Module, out_name: str) -> None:
    """Add the Prefect tasks, the flow and their imports to a rendered script module."""
    selection = module.selection
    taken = {n for c in selection.cells for s in c.stmts for n in _bound_names(s)}
    taken |= {p.name for p in selection.params} | {selection.cli, selection.integration}
    integration_name = _integration_label(selection)
    snake = re.sub(r"\W+", "_", integration_name).strip("_").lower() or "integration"
    names = {step: _free(f"{step}_task", taken) for step in ("extract", "transform", "load")}
    flow_fn = _free(f"{snake}_flow", taken)
    sync = selection.integration
    module.target = "prefect"
    module.imports.plain.add(("prefect", None))
    module.imports.add("prefect.cache_policies", "NO_CACHE")
    for name in ("Extracted", "Mapped", "RunReport"):
        module.imports.add("apinotebook.integration", name)
    extract_args = ['name="extract"', f"retries={EXTRACT_RETRIES}", "retry_delay_seconds=10",
                    "cache_policy=NO_CACHE"]  # fmt: skip
    transform_args = ['name="transform"', "retries=1", "cache_policy=NO_CACHE"]
    load_args = ['name="load"', f"retries={LOAD_RETRIES}", "retry_delay_seconds=30",
                 "cache_policy=NO_CACHE"]  # fmt: skip
    module.extra.append(
        "\n\n\n".join(
            [
                f"@{call('prefect.task', extract_args)}\n"
                f"def {names['extract']}(limit: int | None = None) -> Extracted:\n"
                '    """Read the source from the last checkpoint."""\n'
                f"    return {sync}.extract(limit=limit)",
                f"@{call('prefect.task', transform_args)}\n"
                f"def {names['transform']}(extracted: Extracted) -> Mapped:\n"
                '    """Map every record (load dead-letters the ones the mapping rejects)."""\n'
                f"    return {sync}.map(extracted)",
                f"@{call('prefect.task', load_args)}\n"
                f"def {names['load']}(mapped: Mapped, limit: int | None = None) -> RunReport:\n"
                '    """Deliver, dead-letter and checkpoint (the state the script uses)."""\n'
                f'    return {sync}.load(mapped, limit=limit, trigger="prefect")',
                f"@prefect.flow(name={py_literal(integration_name)})\n"
                f"def {flow_fn}(limit: int | None = None) -> RunReport:\n"
                f'    """Run {integration_name} once: extract, transform, load."""\n'
                f"    extracted = {names['extract']}(limit)\n"
                f"    return {names['load']}({names['transform']}(extracted), limit)",
            ]
        )
    )
    module.main_args.insert(2, f"flow={flow_fn}")
    run = f"python {out_name}"
    module.commands = [
        f"{run} run                          # one flow run (extract, transform, load)",
        f"{run} run --dry-run --limit 20",
        f"{run} serve --cron '*/5 * * * *'   # flow.serve(): runs on schedule until stopped",
        f"{run} deploy --work-pool POOL --cron '*/5 * * * *'  # flow.deploy() to a pool",
        f"{run} replay                       # retry the dead letters",
        f"{run} status --json",
    ]


def _bound_names(stmt: Any) -> set[str]:
    return bound(stmt.node)


def _integration_label(selection: Any) -> str:
    """The integration's name: the first argument of ``Integration(...)``, else the variable."""
    for stmt in selection.kept():
        node = stmt.node
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == selection.integration:
                args = node.value.args
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    return args[0].value
    return str(selection.integration)
