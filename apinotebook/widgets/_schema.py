"""SchemaExplorer: browse a GraphQL schema, build a query by clicking, validate it live, run it.

>>> SchemaExplorer(mail)          # doctest: +SKIP
>>> mail.explore()                # doctest: +SKIP

The tree starts at the ``Query`` (or ``Mutation``) type: expand a field to see
its arguments and the fields of its type, tick a field to add it to the
query (its required arguments become variables; tick an optional argument
to add it too), untick it to remove it. The query text stays editable; the
tree follows it. Every change is validated against the schema in the
kernel (``client.validate``, debounced in the browser) and the problems show
under the editor before anything is sent. *Run* executes the query and
shows an :class:`~apinotebook.widgets.Inspector` below.

A schema with thousands of types stays responsive: the synced state holds
the type names and kinds only (about 30 bytes a type); the fields of a type
are sent when it is expanded, and search runs in the kernel over an index
built when the explorer opens (a few milliseconds a search on GitHub's schema).

==========  ===========================================  ==============================
request     fields                                       reply
==========  ===========================================  ==============================
type        name                                         info (fields with arguments, ...)
search      query, limit                                 matches, complete
toggle      query, variables, root, path, arg, on        query, variables, problems,
                                                         selected
validate    query, variables, root                       problems, selected
run         query, variables, root                       status, ok, summary, error
code        query, variables, root                       code
complete    query, offset                                options (label, type, detail)
format      query                                        query
==========  ===========================================  ==============================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import TYPE_CHECKING, Any

import traitlets

from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._exceptions import ConfigError, SchemaError
from apinotebook._exchange import Exchange
from apinotebook.widgets._base import Widget, esm
from apinotebook.widgets._editors import CodeEditors
from apinotebook.widgets._explorer import Explorer, call_code, explorer_css, run_call, value_code
from apinotebook.widgets._schema_complete import complete, format_query
from apinotebook.widgets._schema_query import (
    operation_name,
    selection_paths,
    toggle,
    type_info,
    type_names,
    variable_values,
)
from apinotebook.widgets._schema_search import search, search_index
from apinotebook.widgets._snippets import py_str

if TYPE_CHECKING:
    from graphql import GraphQLSchema

    from apinotebook.graphql import GraphQLClient

__all__ = ["SchemaExplorer", "SchemaPanel"]

_SEARCH_LIMIT = 100
_FIELD_PAGE = 100
_HTML_FIELDS = 100


def _variables(content: Mapping[str, Any]) -> dict[str, Any]:
    variables = content.get("variables")
    if variables is None or variables == "":
        return {}
    if not isinstance(variables, Mapping):
        raise ConfigError('The variables must be a JSON object: {"name": value}')
    return dict(variables)


def _root(content: Mapping[str, Any]) -> str:
    root = str(content.get("root") or "query")
    if root not in ("query", "mutation"):
        raise ConfigError.invalid_choice("root", root, ("query", "mutation"))
    return root


#: how many of a schema's problems the explorer lists
_PROBLEMS_SHOWN = 50


class SchemaPanel(CodeEditors, Widget):
    """The tree, editor and docs of :class:`SchemaExplorer` (front end: ``static/schema.js``)."""

    _esm = esm("codebox.js", "schema.js")
    _css = explorer_css()

    summary = traitlets.Dict().tag(sync=True)
    #: kind -> type names (no field details: those come on demand)
    types = traitlets.Dict().tag(sync=True)
    #: the query text and variables as edited in the browser
    query = traitlets.Unicode("").tag(sync=True)
    variables = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        client: GraphQLClient,
        /,
        *,
        name: str = "client",
        query: str = "",
        show: Callable[[Exchange], None] | None = None,
    ) -> None:
        self._client = client
        self._name = name
        self._show = show or (lambda exchange: None)
        schema = client.schema  # fetched by introspection if needed; SchemaError says why
        self._schema: GraphQLSchema = schema
        roots = {
            "query": schema.query_type.name if schema.query_type else None,
            "mutation": schema.mutation_type.name if schema.mutation_type else None,
            "subscription": schema.subscription_type.name if schema.subscription_type else None,
        }
        names = type_names(schema)
        search_index(schema)  # built now, so the first search answers as fast as the rest
        problems = client.schema_problems
        super().__init__(
            summary={
                "url": mask_url(client.url) if client.url else "",
                "types": sum(len(group) for group in names.values()),
                "roots": roots,
                "name": name,
                # what strict validation finds (the schema loads anyway); the first 50
                "problems": [mask_text(p) for p in problems[:_PROBLEMS_SHOWN]],
                "problem_count": len(problems),
            },
            types=names,
            query=query,
        )

    @property
    def schema(self) -> GraphQLSchema:
        """The schema shown."""
        return self._schema

    # -- browsing ------------------------------------------------------------------------

    def msg_type(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """One type: a page of its fields (with arguments), input fields, values, members."""
        offset = max(0, int(content.get("offset", 0)))
        limit = max(1, min(int(content.get("limit", _FIELD_PAGE)), 500))
        name = str(content.get("name", ""))
        return {"info": type_info(self._schema, name, offset=offset, limit=limit)}

    def msg_search(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Types and fields whose name or description contain every word (bounded)."""
        limit = max(1, min(int(content.get("limit", _SEARCH_LIMIT)), 500))
        return search(self._schema, str(content.get("query", "")), limit=limit)

    # -- the query -----------------------------------------------------------------------

    def msg_complete(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """What may be typed at ``offset`` in the query (fields, arguments, values, ...)."""
        query = str(content.get("query") or "")
        return complete(self._schema, query, int(content.get("offset", 0)))

    def msg_format(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The query in canonical layout (ConfigError if it does not parse)."""
        return {"query": format_query(str(content.get("query") or ""))}

    def _problems(self, query: str, variables: Mapping[str, Any], root: str) -> list[str]:
        if not query.strip():
            return []
        name = operation_name(query, root)
        try:
            return self._client.validate(query, variables or None, name)
        except ConfigError as exc:  # several operations, none named for this root, ...
            return [mask_text(str(exc))]
        except SchemaError as exc:
            return [mask_text(str(exc))]

    def _state(self, query: str, variables: Mapping[str, Any], root: str) -> dict[str, Any]:
        return {
            "problems": [mask_text(p) for p in self._problems(query, variables, root)],
            "selected": selection_paths(query, root),
        }

    def msg_toggle(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Add or remove the field at ``path`` (or its argument ``arg``) in the query."""
        root = _root(content)
        path = content.get("path")
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            raise ConfigError("path must be a list of field names")
        arg = content.get("arg")
        text = toggle(self._schema, str(content.get("query") or ""), root=root, path=path,
                      arg=str(arg) if arg else None, on=bool(content.get("on", True)))  # fmt: skip
        variables = variable_values(self._schema, text, root, _variables(content))
        return {"query": text, "variables": variables, **self._state(text, variables, root)}

    def msg_validate(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Problems of the query (and its variables) against the schema; what it selects."""
        root = _root(content)
        return self._state(str(content.get("query") or ""), _variables(content), root)

    def msg_run(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Execute the query; the Inspector shows below."""
        root = _root(content)
        query = str(content.get("query") or "")
        if not query.strip():
            raise ConfigError("The query is empty: tick fields in the tree or type a query")
        variables = _variables(content)
        name = operation_name(query, root)
        return run_call(lambda: self._client.execute(query, variables or None, name), self._show)

    def msg_code(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The query as ``client.execute(...)`` (masked)."""
        root = _root(content)
        query = str(content.get("query") or "")
        variables = _variables(content)
        literal = f'"""\n{query.strip()}\n"""' if '"""' not in query and "\\" not in query \
            else py_str(query)  # fmt: skip
        args = [literal]
        if variables:
            args.append(f"variables={value_code(variables, indent=4)}")
        name = operation_name(query, root)
        if name:
            args.append(f"operation_name={py_str(name)}")
        return {"code": call_code(f"{self._name}.execute", args)}

    def _text_fallback(self) -> str:
        roots = self.summary.get("roots", {})
        parts = [f"{kind}: {name}" for kind, name in roots.items() if name]
        where = f" {self.summary['url']}" if self.summary.get("url") else ""
        return f"<SchemaExplorer{where} · {self.summary['types']} types · {', '.join(parts)}>"


class SchemaExplorer(Explorer):
    """Browse a GraphQL schema, build a query by ticking fields, validate it live and run it.

    Args:
        client: a :class:`~apinotebook.graphql.GraphQLClient`; its schema is
            fetched by introspection if it has none yet.
        name: the client's variable in *Copy as code* (``client.execute(...)``).
        query: a query to start from.

    Raises:
        SchemaError: the client has no schema and none could be fetched.
    """

    def __init__(self, client: GraphQLClient, /, *, name: str = "client", query: str = "") -> None:
        from apinotebook.graphql import GraphQLClient

        if not isinstance(client, GraphQLClient):
            raise ConfigError(f"SchemaExplorer takes a GraphQLClient, not {type(client).__name__}")
        self._client = client
        super().__init__(SchemaPanel(client, name=name, query=query, show=self.show))

    @property
    def client(self) -> GraphQLClient:
        """The client the queries go through."""
        return self._client

    @property
    def query(self) -> str:
        """The query text as it stands in the editor."""
        return str(self.panel.query)

    @property
    def variables(self) -> dict[str, Any]:
        """The variables as they stand in the editor (when they are valid JSON)."""
        return dict(self.panel.variables)

    def _text_fallback(self) -> str:
        return self.panel._text_fallback()

    def _panel_html(self) -> str:
        panel = self.panel
        sections = []
        for kind, type_name in panel.summary.get("roots", {}).items():
            if not type_name:
                continue
            info = type_info(panel.schema, type_name, limit=_HTML_FIELDS)
            more = info["field_count"] - len(info["fields"])
            rows = "".join(
                f"<tr><td><code>{escape(f['name'])}</code></td><td><code>{escape(f['type'])}"
                f"</code></td><td>{escape(f['description'][:200])}</td></tr>"
                for f in info["fields"]
            )
            tail = f"<div>… and {more} more fields</div>" if more > 0 else ""
            sections.append(
                f"<div><b>{escape(kind)}</b> <code>{escape(type_name)}</code></div>"
                f"<table><tbody>{rows}</tbody></table>{tail}"
            )
        head = f"<div>GraphQL schema · {panel.summary['types']} types</div>"
        query = panel.query.strip()
        shown = f"<pre>{escape(mask_text(query))}</pre>" if query else ""
        return f"<div class='apinotebook-schema'>{head}{''.join(sections)}{shown}</div>"
