"""The Prefect target: the same script, plus a flow that runs the integration in chunks.

The generated file keeps the notebook's code and command line and adds::

    @prefect.task(name="sync-chunk", retries=3, retry_delay_seconds=10, cache_policy=NO_CACHE)
    def chunk_task(limit: int | None = None) -> RunReport:
        with production(sync.history):
            return sync.run(limit=limit, progress="log", trigger="prefect")

    @prefect.flow(name="crm-to-newsletter")
    def crm_to_newsletter_flow(limit: int | None = None, chunk: int = 10_000) -> RunReport:
        return run_in_chunks(sync, chunk_task, chunk=chunk, limit=limit)

Each chunk task reads up to ``chunk`` records from the checkpoint, maps,
delivers in batches and checkpoints after every batch, with the same state
as the script target (see :mod:`apinotebook.integration._chunks`): records
never travel between tasks in a list, so memory stays flat whatever the
source's size, a retried chunk resumes from its last checkpoint, and a flow
run and a script run share checkpoints and dead letters.

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

CHUNK_RETRIES = 3
#: records per chunk task (the flow's ``chunk`` parameter)
CHUNK = 10_000


_FLOW = '''@{chunk_decorator}
def {task}(limit: int | None = None) -> RunReport:
    """Up to `limit` records from the checkpoint: map, deliver, checkpoint."""
    with production({sync}.history):  # no bodies kept: memory stays flat
        return {sync}.run(limit=limit, progress="log", trigger="prefect")


@{partition_decorator}
def {part_task}(partition: str, limit: int | None = None, chunk: int = {chunk}) -> RunReport:
    """One partition, in chunks from its own checkpoint."""
    with production():
        return {sync}.run_partition(partition, chunk=chunk, limit=limit)


@prefect.flow(name={name})
def {flow}(limit: int | None = None, chunk: int = {chunk}) -> RunReport:
    """Run {label} once, in chunks (a task and a checkpoint each)."""
    if {sync}.is_partitioned:  # one task per partition, run concurrently
        ids = [p.id for p in {sync}.partitions()]
        runs = {part_task}.map(ids, limit=unmapped(limit), chunk=unmapped(chunk))
        return merge_reports({sync}.name, [r.result() for r in runs], trigger="prefect")
    return run_in_chunks({sync}, {task}, chunk=chunk, limit=limit)'''


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
    task = _free("chunk_task", taken)
    part_task = _free("partition_task", taken)
    flow_fn = _free(f"{snake}_flow", taken)
    sync = selection.integration
    module.target = "prefect"
    module.imports.plain.add(("prefect", None))
    module.imports.add("prefect.cache_policies", "NO_CACHE")
    module.imports.add("prefect.utilities.annotations", "unmapped")
    for name in ("RunReport", "merge_reports", "run_in_chunks"):
        module.imports.add("apinotebook.integration", name)
    module.imports.add("apinotebook.export.runtime", "production")
    options = [f"retries={CHUNK_RETRIES}", "retry_delay_seconds=10", "cache_policy=NO_CACHE"]
    module.extra.append(
        _FLOW.format(
            chunk_decorator=call("prefect.task", ['name="sync-chunk"', *options]),
            partition_decorator=call("prefect.task", ['name="sync-partition"', *options]),
            name=py_literal(integration_name),
            label=integration_name,
            sync=sync,
            task=task,
            part_task=part_task,
            flow=flow_fn,
            chunk=CHUNK,
        )
    )
    module.main_args.insert(2, f"flow={flow_fn}")
    run = f"python {out_name}"
    module.commands = [
        f"{run} run                          # one flow run, in chunks of 10,000 records",
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
