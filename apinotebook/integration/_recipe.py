"""Platform-style integrations: a declarative recipe instead of code.

Integration platforms (Zapier, Make, Workato) let you *configure* a bridge:
pick a trigger in one app, map fields with a little template language, pick
an action in another app. :func:`from_recipe` does the same on top of
:class:`~apinotebook.integration.Integration`, so the course can show the
same job done natively, by configuration and by code — and that all three
are API calls underneath.

A recipe (a dict, or YAML text/file)::

    name: crm-to-newsletter
    connections:
      crm:  {type: rest, url: $CRM_URL, auth: {bearer: $CRM_TOKEN}}
      mail: {type: graphql, url: $MAIL_URL, auth: {api_key: $MAIL_API_KEY, header: X-API-Key}}
    trigger:                      # poll a REST collection, newest changes since the checkpoint
      connection: crm
      path: /contacts
      key: id
      cursor: updated_at
      since_param: updated_since
    filter: "{{ email | contains('@') }}"
    map:
      email: "{{ email | lower | strip }}"
      name: "{{ first_name }} {{ last_name }}"
    action:                       # a GraphQL mutation (or a REST request) per batch
      connection: mail
      batch_size: 100
      graphql: |
        mutation Upsert($listId: ID!, $input: [SubscriberInput!]!) {
          upsertSubscribers(listId: $listId, input: $input) { userErrors { index message } }
        }
      variables: {listId: "lst_newsletter", input: $batch}
      rejections: upsertSubscribers.userErrors   # per-record errors to dead-letter

``$NAME`` reads an environment variable (secrets stay out of the recipe).
Templates are ``{{ field.path | filter | filter(arg) }}`` with the filters in
:data:`FILTERS`; nothing is evaluated as Python. Filters with AND/OR groups of
comparisons, lookup tables (``lookups:``), find steps (``steps:``) and branches
(``paths:``) work as on the platforms: see :mod:`._recipe_rules`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from apinotebook._core.paths import pick, walk
from apinotebook._core.secrets import Secret
from apinotebook._exceptions import ConfigError, MissingSecretError
from apinotebook.integration._recipe_rules import find_steps, matches, parse_paths

__all__ = ["FILTERS", "from_recipe", "render"]

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}")
_CALL = re.compile(r"^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$")


def _arg(text: str | None) -> Any:
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text[:1] in "'\"" and text[-1:] == text[:1]:
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(
                f"filter argument {text!r} must be a quoted string or a number"
            ) from None


def _replace(value: str, arg: str) -> str:
    """``replace('old|new')``: the argument holds both sides, split at the first ``|``."""
    old, _, new = arg.partition("|")
    return value.replace(old, new)


def _pipes(expr: str) -> list[str]:
    """Split an expression at ``|`` outside quotes."""
    parts, current, quote = [], "", ""
    for char in expr:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "|":
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    return parts


def _text_filter(fn: Callable[[str, Any], Any]) -> Callable[[Any, Any], Any]:
    """A text filter that passes a missing value through, as platforms leave a field empty.

    ``lower`` of a missing field used to be the text ``"None"``; it is empty now, so a
    required field the mapping lost reaches the destination as null, not as ``"none"``.
    """
    return lambda v, a: None if v is None else fn(str(v), a)


#: The template filters, as in Zapier's formatter: name -> function(value, arg).
#: ``lookup('table')`` reads the recipe's ``lookups:`` (see :mod:`._recipe_rules`).
FILTERS: dict[str, Callable[[Any, Any], Any]] = {
    "lower": _text_filter(lambda v, a: v.lower()),
    "upper": _text_filter(lambda v, a: v.upper()),
    "title": _text_filter(lambda v, a: v.title()),
    "strip": _text_filter(lambda v, a: v.strip()),
    "default": lambda v, a: a if v in (None, "") else v,
    "contains": lambda v, a: a is not None and str(a) in str(v or ""),
    "truncate": _text_filter(lambda v, a: v[: int(a or 50)]),
    "replace": _text_filter(lambda v, a: _replace(v, str(a))),
    "split_first": _text_filter(lambda v, a: v.split(a or " ")[0]),
    "split_last": _text_filter(lambda v, a: v.split(a or " ")[-1]),
    "int": lambda v, a: None if v in (None, "") else int(v),
    "float": lambda v, a: None if v in (None, "") else float(v),
    "str": lambda v, a: "" if v is None else str(v),
    "bool": lambda v, a: bool(v),
    "lookup": lambda v, a: None,  # replaced per recipe by its tables (render(lookups=...))
}


def _lookup(lookups: Mapping[str, Any], table: Any, value: Any) -> Any:
    if table not in lookups:
        raise ConfigError.invalid_choice("lookup table", table, lookups)
    return lookups[table].get(value if value is None else str(value))


def _expression(expr: str, record: Any, lookups: Mapping[str, Any]) -> Any:
    head, *filters = _pipes(expr)
    value = walk(record, head, None) if head else None
    for item in filters:
        match = _CALL.match(item)
        if not match or match.group(1) not in FILTERS:
            name = match.group(1) if match else item
            raise ConfigError.invalid_choice("filter", name, FILTERS)
        if match.group(1) == "lookup":
            value = _lookup(lookups, _arg(match.group(2)), value)
        else:
            value = FILTERS[match.group(1)](value, _arg(match.group(2)))
    return value


def render(template: Any, record: Any, lookups: Mapping[str, Any] | None = None) -> Any:
    """Fill ``{{ ... }}`` templates from ``record``.

    A template that is exactly one ``{{ ... }}`` keeps the value's type (a
    number stays a number); mixed text becomes a string. Dicts and lists are
    rendered recursively. ``lookups`` are the tables ``lookup('name')`` reads.
    """
    tables = lookups or {}
    if isinstance(template, Mapping):
        return {k: render(v, record, tables) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, record, tables) for v in template]
    if not isinstance(template, str):
        return template
    whole = _TEMPLATE.fullmatch(template.strip())
    if whole and len(_TEMPLATE.findall(template)) == 1:
        return _expression(whole.group(1), record, tables)
    return _TEMPLATE.sub(
        lambda m: "" if (v := _expression(m.group(1), record, tables)) is None else str(v),
        template,
    )


def _lookups(spec: Any) -> dict[str, dict[str, Any]]:
    """The recipe's ``lookups:``: table name -> {key: value} (keys compared as text)."""
    if spec is None:
        return {}
    if not isinstance(spec, Mapping) or not all(isinstance(t, Mapping) for t in spec.values()):
        raise ConfigError("lookups: maps each table name to a {key: value} table")
    return {str(name): {str(k): v for k, v in table.items()} for name, table in spec.items()}


def _env(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\$[A-Z_][A-Z0-9_]*", value):
        name = value[1:]
        if name not in os.environ:
            raise MissingSecretError(name)
        return os.environ[name]
    return value


def _auth(spec: Mapping[str, Any] | None) -> Any:
    from apinotebook.auth import ApiKey, Basic, Bearer

    if not spec:
        return None
    if "bearer" in spec:
        return Bearer(Secret(_env(spec["bearer"])))
    if "api_key" in spec:
        return ApiKey(Secret(_env(spec["api_key"])), header=spec.get("header", "X-API-Key"))
    if "basic" in spec:
        user, password = spec["basic"]
        return Basic(_env(user), Secret(_env(password)))
    kinds = ("bearer", "api_key", "basic")
    raise ConfigError.invalid_choice("auth kind", next(iter(spec), ""), kinds)


def _connection(name: str, spec: Mapping[str, Any]) -> Any:
    kind = spec.get("type", "rest")
    url = _env(spec.get("url", ""))
    if not url:
        raise ConfigError(f"connection {name!r} needs a url")
    auth = _auth(spec.get("auth"))
    if kind == "rest":
        from apinotebook.rest import RestClient

        return RestClient(url, auth=auth)
    if kind == "graphql":
        from apinotebook.graphql import GraphQLClient

        return GraphQLClient(url, auth=auth)
    raise ConfigError.invalid_choice("connection type", kind, ("rest", "graphql"))


def _load(recipe: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    import yaml

    if isinstance(recipe, Mapping):
        return dict(recipe)
    text = recipe.read_text() if isinstance(recipe, Path) else recipe
    if isinstance(recipe, str) and "\n" not in recipe and Path(recipe).is_file():
        text = Path(recipe).read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"the recipe is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("a recipe is a mapping with name, connections, trigger, map and action")
    return data


def from_recipe(
    recipe: str | Path | Mapping[str, Any],
    *,
    state: str | Path | None = None,
    progress: Any = "auto",
) -> Any:
    """Build an :class:`~apinotebook.integration.Integration` from a recipe."""
    from apinotebook.integration._integration import Integration

    data = _load(recipe)
    missing = [k for k in ("name", "connections", "trigger", "action") if k not in data]
    if missing:
        raise ConfigError(f"the recipe lacks {', '.join(missing)}")
    connections = {n: _connection(n, s) for n, s in data["connections"].items()}
    trigger, action = data["trigger"], data["action"]
    for part, spec in (("trigger", trigger), ("action", action)):
        if spec.get("connection") not in connections:
            raise ConfigError.invalid_choice(
                f"{part} connection", spec.get("connection"), connections
            )
    sync = Integration(data["name"], state=state, progress=progress)
    source_client = connections[trigger["connection"]]
    since_param = trigger.get("since_param")
    params = dict(trigger.get("params", {}))

    def poll(since: Any) -> Any:
        query = dict(params)
        if since is not None and since_param:
            query[since_param] = since
        yield from source_client.paginate(trigger["path"], params=query, items=trigger.get("items"))

    mapping, condition = data.get("map"), data.get("filter")
    lookups = _lookups(data.get("lookups"))

    def fill(template: Any, record: Any) -> Any:
        return render(template, record, lookups)

    find = find_steps(data.get("steps"), connections, fill)
    branches = parse_paths(data.get("paths"))

    @sync.transform
    def apply(record: Any) -> Any:
        record = find(record)
        if condition is not None and not matches(condition, record, fill):
            return None
        for branch in branches:
            if branch.when is None or matches(branch.when, record, fill):
                return None if branch.skip else fill(branch.map, record)
        if branches and mapping is None:
            return None  # no path matched and no default mapping: nothing to send
        return fill(mapping, record) if mapping else record

    dest = connections[action["connection"]]
    rejections = action.get("rejections")

    def act(batch: Any) -> Any:
        if "graphql" in action:
            variables = {
                k: list(batch) if v == "$batch" else _env(v)
                for k, v in action.get("variables", {}).items()
            }
            exchange = dest.execute(action["graphql"], variables=variables).raise_for_status()
            if rejections:
                errors = pick(exchange.data, rejections) or []
                return [(int(e.get("index", 0)), e.get("message", "rejected")) for e in errors]
            return None
        method = action.get("method", "POST")
        for record, key in batch.with_idempotency_keys():
            dest.request(
                method,
                render(action["path"], record),
                json=record,
                headers={"Idempotency-Key": key},
            ).raise_for_status()
        return None

    sync.source(key=trigger.get("key", "id"), cursor=trigger.get("cursor"))(poll)
    sync.destination(batch_size=int(action.get("batch_size", 100)))(act)
    for client in connections.values():
        sync.on_close(client.close)
    sync.recipe = data  # type: ignore[attr-defined]
    return sync
