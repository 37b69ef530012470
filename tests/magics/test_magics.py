"""%%rest, %%graphql and %%soap in a real IPython shell, against httpx.MockTransport."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from IPython.core.error import UsageError

import apinotebook
from apinotebook import Bearer, Exchange, History, RestClient, Retry, Secret

FIXTURES = Path(__file__).parents[1] / "fixtures"
TOKEN = Secret("tok-5ecret-value-42", name="TEST_TOKEN").reveal()
MAIL_SDL = (FIXTURES / "graphql" / "mail.graphql").read_text()
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"


def api(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/boom"):
        raise httpx.ConnectError("connection refused", request=request)
    body = json.loads(request.content) if request.content else None
    return httpx.Response(
        201 if request.method == "POST" else 200,
        json={
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query.decode(),
            "auth": request.headers.get("authorization"),
            "key": request.headers.get("x-key"),
            "body": body,
        },
    )


@pytest.fixture
def ns(ip):
    history = History()
    client = RestClient(
        "https://api.example/v1",
        auth=Bearer(Secret(TOKEN)),
        transport=httpx.MockTransport(api),
        history=history,
        retry=False,
    )
    saved = dict(ip.user_ns)
    ip.user_ns.update(crm=client, n=5, key="k-1", not_a_client=42)
    yield ip.user_ns
    for name in set(ip.user_ns) - set(saved):
        del ip.user_ns[name]
    ip.user_ns.update(saved)
    client.close()


def test_rest_cell_binds_the_exchange_and_templates_resolve(ip, ns, monkeypatch):
    monkeypatch.setenv("ORIGIN_HEADER", "from-env")
    ip.run_cell_magic(
        "rest",
        "crm --out created",
        "POST /contacts?limit={{n}}\nContent-Type: application/json\nX-Key: {{key}}\n"
        "X-Origin: {{ORIGIN_HEADER}}\n\n"
        '{"email": "ada@example.com"}\n',
    )
    ex = ns["created"]
    assert isinstance(ex, Exchange) and ns["_"] is ex
    assert ex.status == 201
    assert ex.json() == {
        "method": "POST",
        "path": "/v1/contacts",
        "query": "limit=5",
        "auth": f"Bearer {TOKEN}",
        "key": "k-1",
        "body": {"email": "ada@example.com"},
    }
    assert ex.request.headers["x-origin"] == "from-env"


def test_rest_with_an_absolute_url_and_no_client(ip, ns, monkeypatch):
    seen: list[str] = []

    def transport_for(*args: Any, **kwargs: Any) -> Any:
        return real(
            *args,
            transport=httpx.MockTransport(lambda r: seen.append(str(r.url)) or httpx.Response(204)),
            **kwargs,
        )

    import apinotebook.rest

    real = apinotebook.rest.RestClient.__init__
    monkeypatch.setattr(
        apinotebook.rest.RestClient,
        "__init__",
        lambda self, *a, **kw: transport_for(self, *a, **kw),
    )
    ip.run_cell_magic("rest", "", "DELETE https://other.example/x/1")
    assert seen == ["https://other.example/x/1"] and ns["_"].status == 204


@pytest.mark.parametrize(
    ("magic", "line", "cell", "message"),
    [
        ("rest", "crm", "", "%%rest is a cell magic, but the cell body is empty"),
        ("rest", "crm", "\n# only a comment\n", "the %%rest cell is empty"),
        ("rest", "crm", "FETCH /x", "the request line must be 'METHOD URL'"),
        ("rest", "crm --bogus x", "GET /x", "unknown option --bogus for %%rest"),
        ("rest", "", "GET /relative", "is relative: name a client"),
        ("rest", "nobody", "GET /x", "there is no variable 'nobody' in the notebook"),
        ("rest", "not_a_client", "GET /x", "'not_a_client' is a int, not a RestClient"),
        ("rest", "crm", "GET /x/{{undefined_thing}}", "{{undefined_thing}} is not defined"),
        ("rest", "crm", "GET /boom", "connection refused"),
        ("rest", "crm --out 1bad", "GET /x", "is not a Python name"),
        ("graphql", "", "query { a }", "usage: %%graphql CLIENT"),
        ("graphql", "crm", "query { a }", "'crm' is a RestClient, not a GraphQLClient"),
        ("graphql", "mail --variables missing", "query { a }", "--variables missing: there is no"),
        ("graphql", "mail --variables n", "query { a }", "must be a dict of variable values"),
        ("graphql", "mail", "query { nosuchfield }", "does not match the schema"),
        ("soap", "crm", "GetInvoice", "usage: %%soap CLIENT OPERATION"),
        ("soap", "crm Echo", "x: 1", "'crm' is a RestClient, not a SoapClient"),
        ("soap", "echo Echo", "- not a mapping", "must be a mapping"),
        ("soap", "echo NoSuchOperation", "x: 1", "NoSuchOperation"),
    ],
)
def test_bad_input_gives_one_clear_paragraph(
    ip, ns, graphql_client, soap_client, magic, line, cell, message
):
    ns.update(mail=graphql_client, echo=soap_client)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic(magic, line, cell)
    text = str(info.value)
    assert message in text
    assert text.startswith(f"%%{magic}") and "\n" not in text
    assert TOKEN not in text


def test_errors_print_no_traceback_and_the_shell_survives(ip, ns, capsys):
    result = ip.run_cell("%%rest crm\nGET /boom\n")
    assert isinstance(result.error_in_exec, UsageError)
    out = capsys.readouterr()
    assert "UsageError: %%rest: " in out.err + out.out
    assert "Traceback" not in out.err + out.out
    assert ip.run_cell("1 + 1").result == 2


@pytest.fixture
def graphql_client():
    from apinotebook.graphql import GraphQLClient

    def server(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"data": {"echo": body}})

    client = GraphQLClient(
        "https://mail.example/graphql",
        schema=MAIL_SDL,
        history=History(),
        transport=httpx.MockTransport(server),
    )
    yield client
    client.close()


def test_graphql_cell(ip, ns, graphql_client):
    ns.update(mail=graphql_client, vars={"first": 2})
    query = "query Lists($first: Int) { lists(first: $first) { totalCount } }"
    ip.run_cell_magic("graphql", "mail --variables vars --operation Lists --out lists", query)
    sent = ns["lists"].data["echo"]
    assert sent == {"query": query, "variables": {"first": 2}, "operationName": "Lists"}
    assert ns["_"] is ns["lists"] and ns["lists"].protocol == "graphql"


@pytest.fixture
def soap_client():
    from apinotebook.soap import SoapClient

    def server(request: httpx.Request) -> httpx.Response:
        if b">fault<" in request.content:
            body = (
                "<soap:Fault><faultcode>soap:Client</faultcode>"
                "<faultstring>you asked for it</faultstring></soap:Fault>"
            )
            status = 500
        else:
            body = '<EchoResult xmlns="urn:echo">7</EchoResult>'
            status = 200
        envelope = (
            f'<soap:Envelope xmlns:soap="{ENV11}"><soap:Body>{body}</soap:Body></soap:Envelope>'
        )
        return httpx.Response(
            status, content=envelope.encode(), headers={"content-type": "text/xml"}
        )

    client = SoapClient(
        FIXTURES / "soap" / "echo.wsdl",
        address="http://echo.test/",
        history=History(),
        transport=httpx.MockTransport(server),
        retry=Retry(backoff=0, jitter=False),
    )
    yield client
    client.close()


def test_soap_cell(ip, ns, soap_client):
    ns.update(echo=soap_client, word="hello")
    ip.run_cell_magic("soap", "echo Echo --out answer", "Echo: '{{word}}'\n")
    assert ns["answer"].data == 7 and ns["answer"].operation == "Echo"
    assert b">hello<" in ns["answer"].request.content


def test_soap_fault_is_a_clear_message_and_the_exchange_is_still_bound(ip, ns, soap_client):
    ns.update(echo=soap_client)
    with pytest.raises(UsageError, match="you asked for it"):
        ip.run_cell_magic("soap", "echo Echo --out failed", "Echo: fault")
    assert ns["failed"].fault["message"] == "you asked for it"
    assert ns["_"] is ns["failed"]


def test_load_ext_apinotebook_delegates_to_the_magics(ip):
    ip.magics_manager.magics["cell"].pop("graphql", None)
    ip.extension_manager.loaded.discard("apinotebook")
    ip.run_line_magic("load_ext", "apinotebook")
    assert {"rest", "graphql", "soap"} <= set(ip.magics_manager.magics["cell"])
    assert callable(apinotebook.load_ipython_extension)


# -- against the sandbox ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox():
    sandbox_pkg = pytest.importorskip("apinotebook.sandbox")
    pytest.importorskip("uvicorn")
    from apinotebook.sandbox._runner import SERVICES

    wanted = [s for s in ("crm", "mail", "billing") if s in SERVICES]
    with sandbox_pkg.Sandbox(services=wanted, contacts=200) as sb:
        yield sb


@pytest.mark.sandbox
def test_sandbox_soap_and_graphql_cells_show_masked_inspectors(ip, ns, sandbox):
    from apinotebook import ApiKey, Basic
    from apinotebook.graphql import GraphQLClient
    from apinotebook.soap import SoapClient
    from apinotebook.widgets import Inspector

    env = sandbox.env
    if "billing" not in sandbox.urls or "mail" not in sandbox.urls:
        pytest.skip("the sandbox has no billing or mail service yet")
    billing = SoapClient(
        sandbox.urls["billing"],
        history=History(),
        auth=Basic(env["BILLING_USERNAME"], Secret(env["BILLING_PASSWORD"])),
    )
    mail = GraphQLClient(
        sandbox.urls["mail"],
        history=History(),
        auth=ApiKey(Secret(env["MAIL_API_KEY"]), header="X-API-Key"),
    )
    ns.update(billing=billing, mail=mail)
    try:
        ip.run_cell_magic("soap", "billing GetInvoice --out invoice", "invoiceId: INV-00001-1")
        invoice = ns["invoice"]
        widget = Inspector(invoice, name="invoice")
        assert [t["view"] for t in widget.trees] == ["xml", "data"]
        snippet = widget.handle_message(
            {"type": "select", "id": 1, "view": "data", "path": ["line", 0, "amount"]}
        )["snippet"]
        assert eval(snippet, {"invoice": invoice}) == invoice.data["line"][0]["amount"]  # noqa: S307
        state = json.dumps(widget.get_state(), default=str)
        assert env["BILLING_PASSWORD"] not in state and "Basic ***" in state

        ip.run_cell_magic("graphql", "mail --out lists", "query { lists(first: 2) { totalCount } }")
        lists = ns["lists"]
        assert lists.ok and isinstance(lists.data["lists"]["totalCount"], int)
        state = json.dumps(Inspector(lists).get_state(), default=str)
        assert env["MAIL_API_KEY"] not in state

        with pytest.raises(UsageError, match="INVOICE_NOT_FOUND|not found|No invoice"):
            ip.run_cell_magic("soap", "billing GetInvoice", "invoiceId: INV-99999-1")
    finally:
        billing.close()
        mail.close()


@pytest.mark.sandbox
def test_sandbox_rest_cell_against_crm(ip, ns, sandbox):
    if "crm" not in sandbox.urls:
        pytest.skip("the sandbox's crm service is not registered yet (documented contract)")
    env = sandbox.env
    crm = RestClient(sandbox.urls["crm"], auth=Bearer(Secret(env["CRM_TOKEN"])), history=History())
    ns.update(crm=crm, page_size=3)
    try:
        ip.run_cell_magic("rest", "crm --out page", "GET /contacts?limit={{page_size}}")
        page = ns["page"]
        assert page.status == 200 and len(page.json()["data"]) == 3
        from apinotebook.widgets import Inspector

        widget = Inspector(page, name="page")
        assert widget.table["rows"] == 3
        assert env["CRM_TOKEN"] not in json.dumps(widget.get_state(), default=str)
    finally:
        crm.close()
