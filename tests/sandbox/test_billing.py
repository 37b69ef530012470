"""The billing SOAP service, through zeep over a real loopback socket."""

from __future__ import annotations

import base64
import time
from datetime import date
from decimal import Decimal

import pytest
import zeep
from requests import Session
from zeep.helpers import serialize_object
from zeep.transports import Transport

from apinotebook.sandbox import Sandbox, SandboxContext
from apinotebook.sandbox._context import credentials
from apinotebook.sandbox._seed import people
from apinotebook.sandbox._webhooks import WebhookDispatcher
from apinotebook.sandbox.billing import BillingStore, build

NS = "http://sandbox.apinotebook.dev/billing/v1"
SEED, CONTACTS, COMPANIES = 7, 300, 20


@pytest.fixture(scope="module")
def sb():
    with Sandbox(services=("billing",), seed=SEED, contacts=CONTACTS, companies=COMPANIES) as box:
        yield box


@pytest.fixture(scope="module")
def client(sb):
    session = Session()
    session.auth = (sb.credentials["BILLING_USERNAME"], sb.credentials["BILLING_PASSWORD"])
    yield zeep.Client(sb.env["BILLING_WSDL"], transport=Transport(session=session))
    session.close()


@pytest.fixture(scope="module")
def store(sb) -> BillingStore:
    return sb.state("billing")


def plain(value):
    return serialize_object(value, target_cls=dict)


def ctx(seed=SEED, contacts=CONTACTS, base="http://127.0.0.1:1"):
    return SandboxContext(
        base_url=base,
        seed=seed,
        contacts=contacts,
        companies=COMPANIES,
        credentials=credentials(seed),
        webhooks=WebhookDispatcher(),
    )


def all_pages(call, **kwargs):
    out, page = [], 1
    while True:
        result = call(page=page, pageSize=100, **kwargs)
        items = result.customer if hasattr(result, "customer") else result.invoice
        out.extend(plain(i) for i in items)
        if page * 100 >= result.total:
            return out, result.total
        page += 1


def test_mount_urls_and_env(sb):
    base = sb.url
    assert sb.urls["billing"] == base + "/billing?wsdl"
    assert sb.env["BILLING_URL"] == base + "/billing"
    mount = sb.app.mount("billing")
    assert (mount.prefix, mount.error_format) == ("/billing", "soap11")


def test_list_customers_pages(client, store):
    first = client.service.ListCustomers()
    assert (first.total, first.page, first.pageSize) == (len(store), 1, 20)
    assert [c.id for c in first.customer] == [f"CUST-{i:05d}" for i in range(1, 21)]
    everyone, total = all_pages(client.service.ListCustomers)
    assert total == len(store) == len(everyone) == len({c["id"] for c in everyone})
    last_page = (total - 1) // 7 + 1
    tail = client.service.ListCustomers(page=last_page, pageSize=7)
    assert len(tail.customer) == total - (last_page - 1) * 7
    assert client.service.ListCustomers(page=last_page + 1, pageSize=7).customer == []


def test_get_customer_round_trips_nested_fields(client, store):
    customer = client.service.GetCustomer("CUST-00003")
    expected = store.customer("CUST-00003")
    assert customer.email == expected.email and customer.company == expected.company
    assert plain(customer.address) == {
        "street": expected.street,
        "city": expected.city,
        "postalCode": expected.postal_code,
        "country": expected.country,
    }
    assert isinstance(customer.balanceDue, Decimal)
    assert customer.currency in ("EUR", "USD")
    invoices = client.service.ListInvoices(customerId="CUST-00003", pageSize=100).invoice
    owed = sum((i.total for i in invoices if i.status != "PAID"), Decimal("0.00"))
    assert customer.balanceDue == owed


def test_invoices_are_consistent(client):
    invoices, total = all_pages(client.service.ListInvoices)
    assert total == len(invoices)
    for invoice in invoices:
        assert 1 <= len(invoice["line"]) <= 5
        for line in invoice["line"]:
            assert line["amount"] == line["quantity"] * line["unitPrice"]
        assert invoice["total"] == sum(line["amount"] for line in invoice["line"])
        assert invoice["dueDate"] > invoice["issueDate"]
        if invoice["status"] == "OVERDUE":
            assert invoice["dueDate"] < date(2026, 1, 1)
        elif invoice["status"] == "OPEN":
            assert invoice["dueDate"] >= date(2026, 1, 1)
    assert {i["status"] for i in invoices} == {"PAID", "OPEN", "OVERDUE"}


def test_list_invoices_filters(client, store):
    every = store.invoices()
    overdue = client.service.ListInvoices(status="OVERDUE", pageSize=100)
    assert overdue.total == sum(i.status == "OVERDUE" for i in every)
    assert {i.status for i in overdue.invoice} == {"OVERDUE"}
    since = date(2025, 11, 1)
    recent = client.service.ListInvoices(issuedSince=since, status="PAID", pageSize=100)
    assert recent.total == sum(i.issue_date >= since and i.status == "PAID" for i in every)
    assert all(i.issueDate >= since for i in recent.invoice)
    mine = client.service.ListInvoices(customerId="CUST-00010")
    assert {i.customerId for i in mine.invoice} == {"CUST-00010"}
    assert mine.total == len(store.invoices_of(store.customer("CUST-00010")))


def test_get_invoice_round_trips_repeated_lines(client, store):
    expected = store.invoices()[5]
    invoice = client.service.GetInvoice(expected.id)
    assert invoice.id == expected.id and invoice.customerId == expected.customer_id
    assert invoice.issueDate == expected.issue_date and invoice.total == expected.total
    assert [(line.sku, line.quantity, line.amount) for line in invoice.line] == [
        (line.sku, line.quantity, line.amount) for line in expected.lines
    ]


@pytest.mark.parametrize(
    ("operation", "argument", "code"),
    [
        ("GetCustomer", "CUST-99999", "CUSTOMER_NOT_FOUND"),
        ("GetCustomer", "nobody", "CUSTOMER_NOT_FOUND"),
        ("GetInvoice", "INV-00001-9", "INVOICE_NOT_FOUND"),
        ("GetInvoice", "INV-99999-1", "INVOICE_NOT_FOUND"),
        ("ListInvoices", "CUST-00000", "CUSTOMER_NOT_FOUND"),
    ],
)
def test_unknown_ids_are_client_faults_with_detail(client, operation, argument, code):
    with pytest.raises(zeep.exceptions.Fault) as info:
        if operation == "ListInvoices":
            client.service.ListInvoices(customerId=argument)
        else:
            getattr(client.service, operation)(argument)
    fault = info.value
    assert fault.code == "soap:Client" and argument in fault.message
    error = fault.detail.find(f"{{{NS}}}ErrorInfo")
    assert error.findtext(f"{{{NS}}}code") == code
    assert error.findtext(f"{{{NS}}}id") == argument


def test_customers_mostly_match_crm_people_by_email(store):
    crm = {p.email for p in people(SEED, CONTACTS, COMPANIES)}
    customers = store.customers()
    known = [c for c in customers if c.email in crm]
    unknown = [c for c in customers if c.email not in crm]
    assert 0.85 <= len(known) / len(customers) <= 0.95
    assert all(c.person is None for c in unknown) and all(c.person is not None for c in known)
    assert len({c.email for c in customers}) == len(customers)
    per_customer = len(store.invoices()) / len(customers)
    assert 2.5 <= per_customer <= 3.5


def test_data_is_deterministic_per_seed():
    def snapshot(seed):
        store = build(ctx(seed=seed))[0].state
        return [(c, store.balance_due(c)) for c in store.customers()[:40]], store.invoices()[:60]

    assert snapshot(3) == snapshot(3)
    assert snapshot(3) != snapshot(4)


def test_same_seed_same_answers_over_the_wire(sb, client):
    body = serialize_object(client.service.ListInvoices(page=2, pageSize=5))
    with Sandbox(services=("billing",), seed=SEED, contacts=CONTACTS, companies=COMPANIES) as other:
        session = Session()
        session.auth = (sb.credentials["BILLING_USERNAME"], sb.credentials["BILLING_PASSWORD"])
        again = zeep.Client(other.env["BILLING_WSDL"], transport=Transport(session=session))
        assert serialize_object(again.service.ListInvoices(page=2, pageSize=5)) == body
        session.close()


def test_build_is_cheap_and_lazy():
    started = time.perf_counter()
    build(ctx(contacts=1000))
    small = time.perf_counter() - started
    started = time.perf_counter()
    store = build(ctx(contacts=100_000))[0].state
    large = time.perf_counter() - started
    assert small < 0.05 and large < 0.5
    assert store._customers is None  # nothing generated yet
    assert len(store) == 50_000 + round(50_000 / 9)


def test_no_contacts_still_serves_one_unknown_customer():
    store = build(ctx(contacts=0))[0].state
    assert len(store.customers()) == 1 and store.customers()[0].person is None


def test_get_customer_server_time_is_small(sb, store):
    app = sb.app.mount("billing").app
    body = (
        f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<GetCustomer xmlns="{NS}"><customerId>CUST-00042</customerId></GetCustomer>'
        "</soap:Body></soap:Envelope>"
    ).encode()
    user, password = sb.credentials["BILLING_USERNAME"], sb.credentials["BILLING_PASSWORD"]
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    headers = {"content-type": "text/xml", "authorization": f"Basic {token}"}
    app.handle(body, headers)
    started = time.perf_counter()
    for _ in range(200):
        out = app.handle(body, headers)
    per_call = (time.perf_counter() - started) / 200
    assert b"CUST-00042" in out
    assert per_call < 0.005  # measured ~0.2 ms
