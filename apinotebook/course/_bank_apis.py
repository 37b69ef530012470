"""Exercises of the API chapters: 01 (requests and responses), 02 (three styles), 06 (fares)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apinotebook.course._exercises import Exercise, Mistake

__all__ = ["API_EXERCISES"]


# -- 01 · What an API is ---------------------------------------------------------------------


def _judge_status(fn: Any) -> str | None:
    cases = {200: "success", 201: "success", 204: "success", 301: "redirect", 304: "redirect",
             400: "client error", 401: "client error", 404: "client error", 429: "client error",
             500: "server error", 503: "server error"}  # fmt: skip
    for status, expected in cases.items():
        got = fn(status)
        if got == expected:
            continue
        if status < 300 and got != "success":
            return f"{status} is a success (every 2xx is), but you said {got!r}."
        if 300 <= status < 400:
            return (
                f"{status} is neither a success nor an error: a 3xx is a redirect (or, for 304, "
                f"'nothing changed, use your copy'); you said {got!r}."
            )
        if 400 <= status < 500:
            return (
                f"{status} is the client's mistake (4xx: fix the request, retrying will not "
                f"help), not {got!r}."
            )
        return f"{status} is the server's failure (5xx: worth retrying later), not {got!r}."
    return None


STATUS = Exercise(
    id="01.1",
    title="What does this status mean?",
    task="Write status_kind(status) returning 'success', 'redirect', 'client error' or "
    "'server error' for an HTTP status code.",
    stub='def status_kind(status):\n    raise NotImplementedError("your turn")',
    judge=_judge_status,
    hints=(
        "The first digit decides: 2, 3, 4 or 5.",
        "status // 100 gives that digit.",
    ),
    solution=(
        "def status_kind(status):\n"
        "    return {2: 'success', 3: 'redirect', 4: 'client error', 5: 'server error'}"
        "[status // 100]"
    ),
    mistakes=(
        Mistake(
            "def status_kind(status):\n    return 'success' if status < 400 else 'client error'",
            "a 3xx is a redirect",
        ),
        Mistake(
            "def status_kind(status):\n"
            "    return {2: 'success', 3: 'redirect'}.get(status // 100, 'server error')",
            "is the client's mistake",
        ),
    ),
)


def _judge_next(fn: Any) -> str | None:
    middle = {"data": [{"id": "c_1"}], "has_more": True, "next_cursor": "abc"}
    last = {"data": [{"id": "c_9"}], "has_more": False, "next_cursor": None}
    got = fn(middle)
    if not isinstance(got, dict):
        return f"for a page with more after it, return the params of the next request, not {got!r}."
    if "cursor" not in got:
        return (
            "the CRM's parameter is called 'cursor' (its OpenAPI document says so); "
            f"you sent {got}."
        )
    if got != {"cursor": "abc"}:
        return f"the next page starts at next_cursor ('abc'); you sent {got}."
    got = fn(last)
    if got is not None:
        return (
            "on the last page (has_more is false) there is no next request: return None, or "
            f"the loop never ends; you returned {got!r}."
        )
    return None


NEXT_PAGE = Exercise(
    id="01.2",
    title="The next page",
    task="The CRM pages with a cursor: each page is {'data': [...], 'has_more': bool, "
    "'next_cursor': str | None}. Write next_params(page) returning the query parameters of "
    "the next request, or None after the last page.",
    stub='def next_params(page):\n    raise NotImplementedError("your turn")',
    judge=_judge_next,
    hints=(
        "Two questions: is there a next page (has_more)? If so, where does it start?",
        "return {'cursor': page['next_cursor']} if page['has_more'] else None",
    ),
    solution=(
        "def next_params(page):\n"
        "    if not page['has_more']:\n"
        "        return None\n"
        "    return {'cursor': page['next_cursor']}"
    ),
    mistakes=(
        Mistake(
            "def next_params(page):\n    return {'cursor': page['next_cursor']}",
            "there is no next request",
        ),
        Mistake(
            "def next_params(page):\n"
            "    return {'after': page['next_cursor']} if page['has_more'] else None",
            "parameter is called 'cursor'",
        ),
    ),
)

# -- 02 · Three API styles -------------------------------------------------------------------

MAIL_SDL = """
type Query { list(id: ID!): MailingList }
type MailingList {
  id: ID!
  name: String!
  subscribers(first: Int, after: String): SubscriberConnection!
}
type SubscriberConnection { edges: [SubscriberEdge!]! pageInfo: PageInfo! }
type SubscriberEdge { node: Subscriber! cursor: String! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type Subscriber { id: ID! email: String! name: String tags: [String!]! status: String! }
"""


def _judge_query(query: Any) -> str | None:
    from graphql import (
        GraphQLError,
        TypeInfo,
        Visitor,
        build_schema,
        parse,
        validate,
        visit,
    )
    from graphql.utilities import TypeInfoVisitor

    if not isinstance(query, str):
        return f"QUERY is the text of a GraphQL query (a str), not {type(query).__name__}."
    schema = build_schema(MAIL_SDL)
    try:
        document = parse(query)
    except GraphQLError as exc:
        return f"that is not GraphQL yet: {exc.message}"
    errors = validate(schema, document)
    if errors:
        return f"the schema says: {errors[0].message}"
    info = TypeInfo(schema)
    picked: set[str] = set()
    arguments: dict[str, Any] = {}

    class Collect(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None and parent.name == "Subscriber":
                picked.add(node.name.value)
            if node.name.value == "subscribers":
                arguments.update({a.name.value: a.value for a in node.arguments})

    visit(document, TypeInfoVisitor(info, Collect()))
    extra, missing = picked - {"email", "name"}, {"email", "name"} - picked
    if missing:
        return f"the subscribers' {' and '.join(sorted(missing))} are not selected."
    if extra:
        return (
            f"you also asked for {', '.join(sorted(extra))}: GraphQL returns exactly what you "
            "select, so select only email and name."
        )
    first = arguments.get("first")
    if first is None or getattr(first, "value", None) != "10":
        return "ask for the first 10 subscribers: subscribers(first: 10)."
    operation = document.definitions[0]
    if not getattr(operation, "variable_definitions", None):
        return "take the list's id as a variable ($id: ID!), not written into the query."
    return None


QUERY = Exercise(
    id="02.1",
    title="Ask for exactly what you need",
    task="Write QUERY: the email and name of the first 10 subscribers of a mailing list whose "
    "id is the variable $id. The schema: list(id: ID!) { subscribers(first:, after:) "
    "{ edges { node { email name tags status } } } }.",
    stub='QUERY = """\n# your query here\n"""',
    judge=_judge_query,
    hints=(
        "Start with query Members($id: ID!) { list(id: $id) { ... } }",
        "Relay connections nest: subscribers(first: 10) { edges { node { ... } } }",
    ),
    solution=(
        'QUERY = """query Members($id: ID!) {\n'
        "  list(id: $id) { subscribers(first: 10) { edges { node { email name } } } }\n"
        '}"""'
    ),
    mistakes=(
        Mistake(
            'QUERY = """query($id: ID!) { list(id: $id) { subscriber(first: 10) '
            '{ edges { node { email name } } } } }"""',
            "Did you mean 'subscribers'",
        ),
        Mistake(
            'QUERY = """query($id: ID!) { list(id: $id) { subscribers(first: 10) '
            '{ edges { node { email name status } } } } }"""',
            "you also asked for status",
        ),
        Mistake(
            'QUERY = """{ list(id: "lst_1") { subscribers(first: 10) '
            '{ edges { node { email name } } } } }"""',
            "as a variable",
        ),
    ),
)


def _judge_graphql_error(fn: Any) -> str | None:
    ok = (200, {"data": {"list": {"name": "News"}}})
    errors_200 = (200, {"data": None, "errors": [{"message": "Unknown list"}]})
    partial = (200, {"data": {"list": None}, "errors": [{"message": "not allowed"}]})
    server = (500, {"errors": [{"message": "boom"}]})
    if fn(*ok) is not False:
        return "a 200 with data and no errors is a success: return False for it."
    if fn(*errors_200) is not True:
        return (
            "GraphQL reports errors in the body, with HTTP 200: a response with an 'errors' "
            "list failed even though the status is 200."
        )
    if fn(*partial) is not True:
        return "data and errors can come together (a partial result): errors still mean it failed."
    if fn(*server) is not True:
        return "a 5xx failed too, whatever the body says."
    return None


GRAPHQL_ERRORS = Exercise(
    id="02.2",
    title="Did that GraphQL call fail?",
    task="Write failed(status, body): True when a GraphQL response (HTTP status, parsed JSON "
    "body) is an error, False when it succeeded.",
    stub='def failed(status, body):\n    raise NotImplementedError("your turn")',
    judge=_judge_graphql_error,
    hints=(
        "Look at the body, not only the status: GraphQL servers answer 200 to most errors.",
        "return status >= 400 or bool(body.get('errors'))",
    ),
    solution="def failed(status, body):\n    return status >= 400 or bool(body.get('errors'))",
    mistakes=(
        Mistake("def failed(status, body):\n    return status >= 400", "with HTTP 200"),
        Mistake(
            "def failed(status, body):\n    return status >= 400 or body.get('data') is None",
            "partial result",
        ),
    ),
)

# -- 06 · Travel fares -----------------------------------------------------------------------

RATES = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}


def _judge_to_eur(fn: Any) -> str | None:
    got = fn("19.99", "USD", RATES)
    if isinstance(got, float):
        return (
            "money as a float rounds wrongly (0.1 + 0.2 != 0.3 in binary floating point): "
            "use Decimal(amount), never float(amount)."
        )
    if not isinstance(got, Decimal):
        return f"return a Decimal amount in euros, not {type(got).__name__}."
    if got == Decimal("19.99"):
        return "the amount is in US dollars: multiply by the USD rate to get euros."
    if got != Decimal("18.39"):
        return f"19.99 USD at 0.92 is 18.39 EUR, rounded to the cent; you returned {got}."
    if fn("10", "EUR", RATES) != Decimal("10.00"):
        return "euros stay euros (rate 1), with two decimals: 10.00."
    return None


TO_EUR = Exercise(
    id="06.1",
    title="Money in one currency",
    task="Fares arrive as text in their own currency. Write to_eur(amount, currency, rates) "
    "returning a Decimal in euros rounded to the cent (rates: euros per unit, as Decimals).",
    stub='def to_eur(amount, currency, rates):\n    raise NotImplementedError("your turn")',
    judge=_judge_to_eur,
    hints=(
        "from decimal import Decimal, and Decimal(amount) keeps the text's exact value.",
        "(Decimal(amount) * rates[currency]).quantize(Decimal('0.01'))",
    ),
    solution=(
        "from decimal import ROUND_HALF_UP, Decimal\n\n\n"
        "def to_eur(amount, currency, rates):\n"
        "    return (Decimal(amount) * rates[currency]).quantize(Decimal('0.01'), ROUND_HALF_UP)"
    ),
    mistakes=(
        Mistake(
            "def to_eur(amount, currency, rates):\n"
            "    return round(float(amount) * float(rates[currency]), 2)",
            "money as a float",
        ),
        Mistake(
            "from decimal import Decimal\n\n\ndef to_eur(amount, currency, rates):\n"
            "    return Decimal(amount)",
            "multiply by the USD rate",
        ),
    ),
)

OFFERS = [
    {"flight": "SH101", "price_eur": "212.40", "stops": 1},
    {"flight": "BJ7", "price_eur": "99.90", "stops": 2},
    {"flight": "AC88", "price_eur": "305.00", "stops": 0},
    {"flight": "SH220", "price_eur": "1010.00", "stops": 0},
]


def _judge_nonstop(fn: Any) -> str | None:
    got = fn([dict(o) for o in OFFERS])
    if got is None:
        return "there are non-stop offers (stops == 0): return the cheapest of them."
    flight = got.get("flight") if isinstance(got, dict) else got
    if flight == "BJ7":
        return "BJ7 is the cheapest, but it stops twice: keep only offers with stops == 0."
    if flight == "SH220":
        return (
            "'1010.00' < '305.00' as text (strings compare character by character): compare "
            "prices as numbers (Decimal)."
        )
    if flight != "AC88":
        return f"the cheapest non-stop offer is AC88; you returned {got!r}."
    if fn([o for o in OFFERS if o["stops"]]) is not None:
        return "with no non-stop offer at all, return None rather than raising."
    return None


NONSTOP = Exercise(
    id="06.2",
    title="The cheapest non-stop flight",
    task="Write cheapest_nonstop(offers): the offer (a dict with flight, price_eur as text and "
    "stops) with the lowest price among those with no stop, or None if there is none.",
    stub='def cheapest_nonstop(offers):\n    raise NotImplementedError("your turn")',
    judge=_judge_nonstop,
    hints=(
        "Filter first (stops == 0), then take the minimum by price.",
        "min(nonstop, key=lambda o: Decimal(o['price_eur']), default=None)",
    ),
    solution=(
        "from decimal import Decimal\n\n\n"
        "def cheapest_nonstop(offers):\n"
        "    nonstop = [o for o in offers if o['stops'] == 0]\n"
        "    return min(nonstop, key=lambda o: Decimal(o['price_eur']), default=None)"
    ),
    mistakes=(
        Mistake(
            "def cheapest_nonstop(offers):\n"
            "    return min(offers, key=lambda o: float(o['price_eur']))",
            "it stops twice",
        ),
        Mistake(
            "def cheapest_nonstop(offers):\n"
            "    nonstop = [o for o in offers if o['stops'] == 0]\n"
            "    return min(nonstop, key=lambda o: o['price_eur'], default=None)",
            "as text",
        ),
    ),
)

API_EXERCISES = (STATUS, NEXT_PAGE, QUERY, GRAPHQL_ERRORS, TO_EUR, NONSTOP)
