import ast

import pytest

from apinotebook import Secret
from apinotebook._core.cellsyntax import (
    GraphQLCell,
    MagicSyntaxError,
    RestCell,
    SoapCell,
    namespace_resolver,
    parse_cell,
    substitute,
    to_python,
)

REST = """\
POST /contacts
Content-Type: application/json
Idempotency-Key: {{key}}

{"email": "ada@example.com", "first_name": "Ada"}
"""


def test_rest_cell_parses():
    cell = parse_cell("rest", "crm --out created", REST)
    assert cell == RestCell(
        client="crm",
        method="POST",
        url="/contacts",
        headers=(("Content-Type", "application/json"), ("Idempotency-Key", "{{key}}")),
        body='{"email": "ada@example.com", "first_name": "Ada"}',
        out="created",
    )


@pytest.mark.parametrize(
    ("line", "body", "expected"),
    [
        ("crm", "GET /contacts?limit=5", ("GET", "/contacts?limit=5", (), None)),
        (
            "crm",
            "\n# a comment\nget /x HTTP/1.1\nAccept: */*\n",
            ("GET", "/x", (("Accept", "*/*"),), None),
        ),
        ("", "GET https://api.example/x", ("GET", "https://api.example/x", (), None)),
        ("crm", "/contacts", ("GET", "/contacts", (), None)),
        ("crm", "DELETE /contacts/1\n\n", ("DELETE", "/contacts/1", (), None)),
    ],
)
def test_rest_cell_variants(line, body, expected):
    cell = parse_cell("rest", line, body)
    assert (cell.method, cell.url, cell.headers, cell.body) == expected


@pytest.mark.parametrize(
    ("kind", "line", "body", "fragment"),
    [
        ("rest", "crm", "", "cell is empty"),
        ("rest", "crm", "FETCH /x", "METHOD URL"),
        ("rest", "crm", "GET /x extra words", "METHOD URL"),
        ("rest", "", "GET /relative", "name a client"),
        ("rest", "crm", "GET /x\nnot a header\n\nbody", "line 2"),
        ("rest", "crm --frobnicate", "GET /x", "unknown option --frobnicate"),
        ("rest", "crm --out", "GET /x", "needs a value"),
        ("rest", "crm --out 1bad", "GET /x", "not a Python name"),
        ("rest", "a b", "GET /x", "usage: %%rest"),
        ("rest", "crm 'unclosed", "GET /x", "cannot read"),
        ("graphql", "", "{ a }", "usage: %%graphql"),
        ("graphql", "mail", "   ", "cell is empty"),
        ("graphql", "mail --variables", "{ a }", "needs a value"),
        ("soap", "billing", "a: 1", "usage: %%soap"),
        ("soap", "bill-ing Op", "", "not a Python name"),
    ],
)
def test_bad_magic_input(kind, line, body, fragment):
    with pytest.raises(MagicSyntaxError, match=fragment):
        parse_cell(kind, line, body)


def test_graphql_and_soap_cells():
    g = parse_cell("graphql", "mail --variables vars --out result", "query { lists { id } }\n")
    assert g == GraphQLCell("mail", "query { lists { id } }", "vars", None, "result")
    s = parse_cell("soap", "billing GetInvoice", "invoiceId: INV-1\n")
    assert isinstance(s, SoapCell) and s.parsed_arguments() == {"invoiceId": "INV-1"}
    assert parse_cell("soap", "billing Op", '{"a": [1, 2]}').parsed_arguments() == {"a": [1, 2]}
    with pytest.raises(MagicSyntaxError, match="mapping"):
        parse_cell("soap", "billing Op", "- 1\n- 2").parsed_arguments()
    with pytest.raises(MagicSyntaxError, match="not valid YAML"):
        parse_cell("soap", "billing Op", "a: [1").parsed_arguments()


def test_substitution_from_namespace_then_environment():
    class Obj:
        id = "c_7"

    resolve = namespace_resolver(
        {"key": "k-1", "contact": Obj(), "tok": Secret("s3cret-v")}, {"CRM_TOKEN": "env-tok"}
    )
    assert substitute("{{key}}/{{ contact.id }}/{{CRM_TOKEN}}/{{tok}}", resolve) == (
        "k-1/c_7/env-tok/s3cret-v"
    )
    with pytest.raises(Exception, match="'missing' in the notebook"):
        substitute("{{missing}}", resolve)
    with pytest.raises(Exception, match="no attribute 'nope'"):
        substitute("{{contact.nope}}", resolve)


def expr(name: str) -> str:
    return name if name.islower() else f'os.environ["{name}"]'


@pytest.mark.parametrize(
    ("kind", "line", "body", "code"),
    [
        (
            "rest",
            "crm --out created",
            REST,
            "created = crm.request('POST', '/contacts', headers={'Idempotency-Key': f'{key}'}, "
            "json={'email': 'ada@example.com', 'first_name': 'Ada'})",
        ),
        (
            "rest",
            "crm",
            "GET /contacts/{{cid}}\nAuthorization: Bearer {{CRM_TOKEN}}",
            "_ = crm.request('GET', f'/contacts/{cid}', "
            "headers={'Authorization': f'Bearer {os.environ[\"CRM_TOKEN\"]}'})",
        ),
        (
            "rest",
            "",
            "POST https://h/x\nContent-Type: text/plain\n\nhi {{name}}",
            "_ = RestClient().request('POST', 'https://h/x', "
            "headers={'Content-Type': 'text/plain'}, content=f'hi {name}')",
        ),
        (
            "graphql",
            "mail --variables v --out r",
            "{ lists { id } }",
            "r = mail.execute('{ lists { id } }', variables=v)",
        ),
        (
            "soap",
            "billing GetInvoice",
            "invoiceId: INV-1",
            "_ = billing.call('GetInvoice', invoiceId='INV-1')",
        ),
        (
            "soap",
            "billing GetInvoice",
            "invoiceId: '{{inv}}'",
            "_ = billing.call('GetInvoice', invoiceId=f'{inv}')",
        ),
    ],
)
def test_to_python(kind, line, body, code):
    generated = to_python(parse_cell(kind, line, body), expr)
    assert generated == code
    ast.parse(generated)
