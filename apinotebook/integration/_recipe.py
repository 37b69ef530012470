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
:data:`FILTERS`; nothing is evaluated as Python.
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


#: The template filters, as in Zapier's formatter: name -> function(value, arg).
FILTERS: dict[str, Callable[[Any, Any], Any]] = {
    "lower": lambda v, a: str(v).lower(),
    "upper": lambda v, a: str(v).upper(),
    "title": lambda v, a: str(v).title(),
    "strip": lambda v, a: str(v).strip(),
    "default": lambda v, a: a if v in (None, "") else v,
    "contains": lambda v, a: a is not None and str(a) in str(v or ""),
    "truncate": lambda v, a: str(v)[: int(a or 50)],
    "replace": lambda v, a: _replace(str(v), str(a)),
    "split_first": lambda v, a: str(v).split(a or " ")[0],
    "int": lambda v, a: int(v),
    "float": lambda v, a: float(v),
    "str": lambda v, a: "" if v is None else str(v),
    "bool": lambda v, a: bool(v),
}


def _expression(expr: str, record: Any) -> Any:
    head, *filters = _pipes(expr)
    value = walk(record, head, None) if head else None
    for item in filters:
        match = _CALL.match(item)
        if not match or match.group(1) not in FILTERS:
            name = match.group(1) if match else item
            raise ConfigError.invalid_choice("filter", name, FILTERS)
        value = FILTERS[match.group(1)](value, _arg(match.group(2)))
    return value


def render(template: Any, record: Any) -> Any:
    """Fill ``{{ ... }}`` templates from ``record``.

    A template that is exactly one ``{{ ... }}`` keeps the value's type (a
    number stays a number); mixed text becomes a string. Dicts and lists are
    rendered recursively.
    """
    if isinstance(template, Mapping):
        return {k: render(v, record) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, record) for v in template]
    if not isinstance(template, str):
        return template
    whole = _TEMPLATE.fullmatch(template.strip())
    if whole and len(_TEMPLATE.findall(template)) == 1:
        return _expression(whole.group(1), record)
    return _TEMPLATE.sub(
        lambda m: "" if (v := _expression(m.group(1), record)) is None else str(v), template
    )


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

    @sync.transform
    def apply(record: Any) -> Any:
        if condition is not None and not render(condition, record):
            return None
        return render(mapping, record) if mapping else record

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
