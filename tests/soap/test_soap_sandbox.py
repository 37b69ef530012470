"""The SOAP client against the sandbox's billing and AeroCorp services."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from apinotebook import (
    Basic,
    History,
    SoapFault,
    WsseUsernameToken,
)
from apinotebook.soap import (
    SoapClient,
)

# -- against the sandbox ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    sandbox_pkg = pytest.importorskip("apinotebook.sandbox")
    pytest.importorskip("uvicorn")
    billing = pytest.importorskip("apinotebook.sandbox.billing")
    from apinotebook.sandbox._runner import SERVICES

    if "billing" in SERVICES:
        with sandbox_pkg.Sandbox(
            services=[s for s in SERVICES if s in ("billing", "fares")],
            contacts=200,
            options={"fares": {"latency_scale": 0}},
        ) as sb:
            yield sb
        return
    # the service modules exist but are not registered yet: mount them by hand
    from apinotebook.sandbox._context import SandboxContext, credentials
    from apinotebook.sandbox._webhooks import WebhookDispatcher

    port = _free_port()
    ctx = SandboxContext(base_url=f"http://127.0.0.1:{port}", seed=0, contacts=200,
                         companies=50, credentials=credentials(0), webhooks=WebhookDispatcher(),
                         options={"fares": {"latency_scale": 0}})  # fmt: skip
    mounts = list(billing.build(ctx))
    try:
        from apinotebook.sandbox._fares_soap import build_aerocorp
    except ImportError:
        pass
    else:
        mounts.append(build_aerocorp(ctx))
    with sandbox_pkg.Sandbox(port=port, services=(), extra_mounts=mounts, contacts=200) as sb:
        sb.env.update(ctx.credentials)
        yield sb


@pytest.fixture
def billing_client(sandbox: Any) -> Iterator[Callable[..., SoapClient]]:
    env = sandbox.env
    made: list[SoapClient] = []

    def make(kind: str = "basic", **kwargs: Any) -> SoapClient:
        user, password = env["BILLING_USERNAME"], env["BILLING_PASSWORD"]
        auth = {
            "basic": Basic(user, password),
            "text": WsseUsernameToken(user, password),
            "digest": WsseUsernameToken(user, password, digest=True),
            "none": None,
        }[kind]
        made.append(SoapClient(sandbox.urls["billing"], auth=auth, history=History(), **kwargs))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.mark.sandbox
def test_sandbox_billing_lists_customers(billing_client: Callable[..., SoapClient]) -> None:
    client = billing_client()
    assert [op.name for op in client.operations] == [
        "ListCustomers", "GetCustomer", "ListInvoices", "GetInvoice",
    ]  # fmt: skip
    page = client.call("ListCustomers", pageSize=3).data
    assert page["pageSize"] == 3 and len(page["customer"]) == 3 and page["total"] > 3
    first = page["customer"][0]
    assert first["id"] == "CUST-00001" and isinstance(first["balanceDue"], Decimal)
    assert set(first["address"]) == {"street", "city", "postalCode", "country"}


@pytest.mark.sandbox
@pytest.mark.parametrize("kind", ["basic", "text", "digest"])
def test_sandbox_billing_invoice_with_each_auth(
    billing_client: Callable[..., SoapClient], kind: str
) -> None:
    invoice = billing_client(kind).call("GetInvoice", invoiceId="INV-00001-1").data
    assert invoice["id"] == "INV-00001-1" and isinstance(invoice["issueDate"], date)
    lines = invoice["line"]
    assert isinstance(lines, list) and lines and all(type(line) is dict for line in lines)
    assert sum(line["amount"] for line in lines) == invoice["total"]


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("operation", "kwargs", "code"),
    [("GetInvoice", {"invoiceId": "INV-99999-1"}, "INVOICE_NOT_FOUND"),
     ("GetCustomer", {"customerId": "CUST-99999"}, "CUSTOMER_NOT_FOUND")],
)  # fmt: skip
def test_sandbox_billing_unknown_id_is_a_fault(
    billing_client: Callable[..., SoapClient], operation: str, kwargs: dict[str, str], code: str
) -> None:
    client = billing_client()
    with pytest.raises(SoapFault) as info:
        client.call(operation, **kwargs)
    assert info.value.code == "soap:Client" and info.value.detail["code"] == code
    assert list(client.history) == [info.value.exchange]


@pytest.mark.sandbox
def test_sandbox_billing_without_credentials(billing_client: Callable[..., SoapClient]) -> None:
    with pytest.raises(SoapFault) as info:
        billing_client("none").call("GetCustomer", customerId="CUST-00001")
    assert info.value.exchange is not None and info.value.exchange.status == 401
    assert "BILLING_USERNAME" in str(info.value)


@pytest.mark.sandbox
def test_sandbox_aerocorp_search_flights(sandbox: Any) -> None:
    url = sandbox.urls.get("fares", {}).get("aerocorp")
    if url is None:
        pytest.skip("the AeroCorp fare provider is not mounted")
    env = sandbox.env
    auth = WsseUsernameToken(env["FARES_AEROCORP_USERNAME"], env["FARES_AEROCORP_PASSWORD"])
    with SoapClient(url, auth=auth, history=None) as client:
        _search_flights(client)


def _search_flights(client: SoapClient) -> None:
    assert client.operation("SearchFlights").signature() == (
        "SearchFlights(Origin: string, Destination: string, DepartureDate: date) -> FlightOption[]"
    )
    flights = client.call("SearchFlights", Origin="LHR", Destination="JFK",
                          DepartureDate=date(2026, 12, 3)).data  # fmt: skip
    assert flights and {f["Origin"] for f in flights} == {"LHR"}
    assert flights[0]["Fare"]["currency"] == "GBP"
    with pytest.raises(SoapFault) as info:
        client.call("SearchFlights", Origin="XXX", Destination="JFK",
                    DepartureDate=date(2026, 12, 3))  # fmt: skip
    assert info.value.detail["Code"] == "UNKNOWN_AIRPORT"
