"""The Prefect target: the same script, plus a flow of extract, transform and load tasks.

The generated file keeps the notebook's code and command line and adds::

    @prefect.task(name="extract", retries=3, retry_delay_seconds=10, cache_policy=NO_CACHE)
    def extract_task(limit: int | None = None) -> Extracted:
        return extract_records(sync, limit=limit)
    ...
    @prefect.flow(name="crm-to-newsletter")
    def crm_to_newsletter_flow(limit: int | None = None) -> RunReport:
        return load_task(transform_task(extract_task(limit)), limit)

The three steps below run the *same* :class:`~apinotebook.integration.Integration`
with the same state file as the script target: extract reads the source from
the checkpoint, transform maps every record, and load hands the records and
their mappings to ``Integration.run``, which deduplicates, delivers in
batches, dead-letters and checkpoints exactly as it does for ``python
sync.py run``. So a flow run and a script run share checkpoints and dead
letters, and retrying ``load`` after a crash does not deliver twice.

This module never imports Prefect; only the generated file does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apinotebook.export._script import Module
    from apinotebook.integration import Integration, RunReport

__all__ = ["Extracted", "Mapped", "add_flow", "extract_records", "load_records", "map_records"]

EXTRACT_RETRIES = 3
LOAD_RETRIES = 3


@dataclass
class Extracted:
    """What the extract task read: the records and the source's final cursor."""

    since: Any
    records: list[Any]
    final: Any = None


@dataclass
class Mapped:
    """The extracted records and what mapping each gave.

    ``outcomes[i]`` is ``("ok", mapped)``, ``("filtered", None)`` or ``("error", exc)``.
    """

    extracted: Extracted
    outcomes: list[tuple[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Records per outcome."""
        out: dict[str, int] = {}
        for kind, _ in self.outcomes:
            out[kind] = out.get(kind, 0) + 1
        return out


def _source(integration: Integration) -> Any:
    source = integration._source  # the registered @source (no public accessor yet)
    if source is None:
        from apinotebook._exceptions import FatalIntegrationError

        raise FatalIntegrationError(
            f"{integration.name} has no source: decorate a function with @integration.source"
        )
    return source


def extract_records(integration: Integration, *, limit: int | None = None) -> Extracted:
    """Read the source from the integration's checkpoint (at most ``limit`` records)."""
    since = integration.store.cursor()
    iterator = iter(_source(integration).fn(since))
    records: list[Any] = []
    final = None
    while limit is None or len(records) < limit:
        try:
            records.append(next(iterator))
        except StopIteration as stop:
            final = stop.value
            break
    return Extracted(since, records, final)


def map_records(integration: Integration, extracted: Extracted) -> Mapped:
    """Apply the integration's transforms, in order, to every extracted record."""
    mapped = Mapped(extracted)
    transforms = list(integration._transforms)
    for record in extracted.records:
        value = record
        try:
            for fn in transforms:
                value = fn(value)
                if value is None:
                    break
        except Exception as exc:  # noqa: BLE001 - load dead-letters it with this error
            mapped.outcomes.append(("error", exc))
            continue
        mapped.outcomes.append(("filtered", None) if value is None else ("ok", value))
    return mapped


@contextlib.contextmanager
def _replaying(integration: Integration, mapped: Mapped) -> Iterator[None]:
    """Make the integration read ``mapped``'s records and use their precomputed mappings."""
    records = mapped.extracted.records
    by_id = {id(r): i for i, r in enumerate(records)}
    source = _source(integration)

    def replay(since: Any) -> Generator[Any, None, Any]:
        yield from records
        return mapped.extracted.final

    def lookup(record: Any) -> Any:
        kind, value = mapped.outcomes[by_id[id(record)]]
        if kind == "error":
            raise value
        return value

    saved = (integration._source, integration._transforms)
    integration._source = dataclasses.replace(source, fn=replay)
    integration._transforms = [lookup]
    try:
        yield
    finally:
        integration._source, integration._transforms = saved


def load_records(
    integration: Integration, mapped: Mapped, *, limit: int | None = None
) -> RunReport:
    """Deliver, dead-letter and checkpoint through ``Integration.run`` (shared state).

    Raises:
        FatalIntegrationError: the run stopped (Prefect retries the task).
    """
    if len(mapped.outcomes) != len(mapped.extracted.records):
        from apinotebook._exceptions import ConfigError

        raise ConfigError("the mapped records do not match the extracted ones; run transform again")
    with _replaying(integration, mapped):
        report: RunReport = integration.run(limit=limit, progress="log", trigger="prefect")
    return report


# -- code generation ---------------------------------------------------------------------------


def _free(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def add_flow(module: Module, out_name: str) -> None:
    """Add the Prefect tasks, the flow and their imports to a rendered script module."""
    from apinotebook.export._script import call, py_literal

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
    module.imports.add("apinotebook.integration", "RunReport")
    for name in ("Extracted", "Mapped", "extract_records", "load_records", "map_records"):
        module.imports.add("apinotebook.export._prefect", name)
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
                f"    return extract_records({sync}, limit=limit)",
                f"@{call('prefect.task', transform_args)}\n"
                f"def {names['transform']}(extracted: Extracted) -> Mapped:\n"
                '    """Map every record (load dead-letters the ones the mapping rejects)."""\n'
                f"    return map_records({sync}, extracted)",
                f"@{call('prefect.task', load_args)}\n"
                f"def {names['load']}(mapped: Mapped, limit: int | None = None) -> RunReport:\n"
                '    """Deliver, dead-letter and checkpoint (the state the script uses)."""\n'
                f"    return load_records({sync}, mapped, limit=limit)",
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
    from apinotebook.export._notebook import bound

    return bound(stmt.node)


def _integration_label(selection: Any) -> str:
    """The integration's name: the first argument of ``Integration(...)``, else the variable."""
    import ast

    for stmt in selection.kept():
        node = stmt.node
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == selection.integration:
                args = node.value.args
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    return args[0].value
    return str(selection.integration)
