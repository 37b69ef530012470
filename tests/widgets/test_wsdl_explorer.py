"""WsdlExplorer: operations first, forms on demand, envelope preview, Run, code, masking."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from widget_builders import TOKEN

from apinotebook import Basic, ConfigError, Secret, WsseUsernameToken
from apinotebook import show as inspect
from apinotebook.soap import SoapClient
from apinotebook.widgets import Inspector
from apinotebook.widgets._wsdl import WsdlExplorer, coerce_arguments

FIXTURES = Path(__file__).parents[1] / "fixtures" / "soap"
SHOP_WSDL = FIXTURES / "shop.wsdl"
LARGE_WSDL = FIXTURES / "large" / "enterprise.wsdl"
SHOP = "http://example.com/shop/v1"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
STATE_BUDGET = 64 * 1024

CREATED = (
    f'<soap:Envelope xmlns:soap="{ENV}"><soap:Body><CreateOrderResponse xmlns="{SHOP}">'
    "<orderId>ORD-7</orderId></CreateOrderResponse></soap:Body></soap:Envelope>"
)
FAULT = (
    f'<soap:Envelope xmlns:soap="{ENV}"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>'
    "<faultstring>Unknown order ORD-404</faultstring></soap:Fault></soap:Body></soap:Envelope>"
)

ORDER = {
    "customer": {
        "name": "Ada",
        "email": "",  # blank: left out
        "address": {"street": ["1 Main St", "Flat 2"], "city": "Berlin", "country": "DE"},
    },
    "item": [
        {"sku": "BOOK-1", "quantity": "2", "price": {"_value_1": "9.50", "currency": "EUR"}},
        {"sku": "PEN-3", "quantity": "10"},
    ],
    "priority": "high",
}


class Service:
    """A MockTransport handler: CreateOrder answers, GetOrder faults, the rest is a 500 page."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = request.content.decode()
        xml = {"Content-Type": "text/xml; charset=utf-8"}
        if "CreateOrder" in body:
            return httpx.Response(200, text=CREATED, headers=xml)
        if "GetOrder" in body:
            return httpx.Response(500, text=FAULT, headers=xml)
        return httpx.Response(500, text="<html>oops</html>", headers={"Content-Type": "text/html"})


def shop(handler: Any = None, **kwargs: Any) -> SoapClient:
    return SoapClient(SHOP_WSDL, transport=httpx.MockTransport(handler or Service()),
                      history=None, retry=False, **kwargs)  # fmt: skip


def ask(widget: Any, kind: str, **fields: Any) -> dict[str, Any]:
    reply = widget.handle_message({"type": kind, "id": "t-1", **fields})
    assert reply is not None and reply["id"] == "t-1"
    return reply


def on(port: str, name: str, **fields: Any) -> dict[str, Any]:
    service = "AdminService" if port == "AdminSoap" else "ShopService"
    return {"service": service, "port": port, "name": name, **fields}


# -- operations first ----------------------------------------------------------------------


def test_services_ports_and_operations_come_first():
    e = WsdlExplorer(shop())
    services = e.panel.services
    assert [s["service"] for s in services] == ["ShopService", "AdminService"]
    ports = {p["port"]: p for s in services for p in s["ports"]}
    assert list(ports) == ["ShopSoap", "ShopSoap12", "AdminSoap"]
    assert ports["ShopSoap"]["active"] and not ports["ShopSoap12"]["active"]
    assert ports["ShopSoap12"]["soap_version"] == "1.2"
    assert ports["ShopSoap12"]["address"] == "http://shop.test/soap12"
    assert [op["name"] for op in ports["ShopSoap"]["operations"]] == [
        "GetOrder", "ListOrders", "CreateOrder", "SearchProducts", "Ping"]  # fmt: skip
    assert ports["ShopSoap"]["operations"][2]["doc"] == "Place an order."
    assert e.panel.summary["operations"] == 11 and e.panel.summary["soap_version"] == "1.1"
    assert "quantity" not in json.dumps(e.panel.get_state())  # forms come on demand


def test_a_large_multi_file_wsdl():
    client = SoapClient(LARGE_WSDL, history=None)
    e = WsdlExplorer(client)
    assert e.panel.summary["operations"] == 80
    assert len(json.dumps(e.panel.get_state(), default=str)) < STATE_BUDGET
    biggest = 0
    for service in e.panel.services:
        for port in service["ports"]:
            for op in port["operations"]:
                form = ask(e, "operation", service=service["service"], port=port["port"],
                           name=op["name"])["form"]  # fmt: skip
                biggest = max(biggest, len(json.dumps(form)))
    assert 0 < biggest < 32 * 1024


def test_an_operation_form():
    e = WsdlExplorer(shop())
    form = ask(e, "operation", **on("ShopSoap", "CreateOrder"))["form"]
    assert form["signature"].startswith("CreateOrder(customer: Customer, item: Item[]")
    assert (
        form["documentation"] == "Place an order." and form["soap_action"] == "urn:shop:CreateOrder"
    )
    customer, item, priority, note = form["input"]
    address = customer["children"][2]
    assert [c["name"] for c in customer["children"]] == ["name", "email", "address"]
    assert customer["children"][1]["optional"] and not customer["optional"]
    assert address["children"][0] == {**address["children"][0], "name": "street", "repeated": True}
    assert address["children"][2]["enum"] == ["DE", "FR", "GB", "US"]
    assert item["repeated"] and item["children"][2]["optional"]  # price
    price = item["children"][2]["children"]
    assert [(p["name"], p["kind"], p["base"]) for p in price] == [
        ("_value_1", "element", "decimal"), ("currency", "attribute", "string")]  # fmt: skip
    assert priority["default"] == "normal" and priority["enum"] == ["low", "normal", "high"]
    assert note["optional"] and "orderId" in form["output"]
    choice = ask(e, "operation", **on("ShopSoap", "SearchProducts"))["form"]["input"][0]
    assert choice["kind"] == "choice" and [c["name"] for c in choice["children"]] == ["text", "sku"]
    admin = ask(e, "operation", **on("AdminSoap", "PurgeCache"))["form"]
    assert admin["style"] == "rpc" and admin["input"][0]["name"] == "region"


def test_unknown_operation_is_an_error_reply():
    reply = ask(WsdlExplorer(shop()), "operation", **on("ShopSoap", "CreateOrdr"))
    assert reply["type"] == "error" and "Did you mean 'CreateOrder'" in reply["message"]


# -- reading the form -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (ORDER, {
            "customer": {"name": "Ada", "address": {"street": ["1 Main St", "Flat 2"],
                                                    "city": "Berlin", "country": "DE"}},
            "item": [{"sku": "BOOK-1", "quantity": 2,
                      "price": {"_value_1": Decimal("9.50"), "currency": "EUR"}},
                     {"sku": "PEN-3", "quantity": 10}],
            "priority": "high",
        }),
        ({"note": "  ", "priority": None}, {}),
        ({"item": {"sku": "A", "quantity": "1"}}, {"item": [{"sku": "A", "quantity": 1}]}),
        ({"unknown": "kept"}, {"unknown": "kept"}),
    ],
)  # fmt: skip
def test_coerce_arguments(values, expected):
    op = shop().operation("CreateOrder")
    assert coerce_arguments(op.input, values) == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"item": [{"sku": "A", "quantity": "two"}]}, "item[0].quantity must be a whole number"),
        ({"item": [{"sku": "A", "quantity": "1", "price": {"_value_1": "x"}}]},
         "item[0].price._value_1 must be a decimal"),
        ({"priority": "urgent"}, "priority must be one of low, normal, high"),
        ({"customer": "Ada"}, "customer is a Customer: give its fields as a dict"),
    ],
)  # fmt: skip
def test_coerce_arguments_errors(values, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        coerce_arguments(shop().operation("CreateOrder").input, values)


# -- preview, run, code -----------------------------------------------------------------------


def test_preview_shows_the_envelope_or_what_is_wrong():
    e = WsdlExplorer(shop())
    reply = ask(e, "preview", **on("ShopSoap", "CreateOrder", values=ORDER))
    assert reply["problem"] == ""
    envelope = reply["envelope"]
    assert "<ns0:quantity>10</ns0:quantity>" in envelope
    assert '<ns0:price currency="EUR">9.50</ns0:price>' in envelope
    assert "<ns0:priority>high</ns0:priority>" in envelope and "email" not in envelope
    reply = ask(e, "preview", **on("ShopSoap", "CreateOrder", values={}))
    assert reply["envelope"] == "" and "missing required 'customer', 'item'" in reply["problem"]
    reply = ask(e, "preview", **on("ShopSoap", "CreateOrder", values={"item": [{"quantity": "x"}]}))
    assert "must be a whole number" in reply["problem"]
    soap12 = ask(e, "preview", **on("ShopSoap12", "Ping", values={}))["envelope"]
    assert "http://www.w3.org/2003/05/soap-envelope" in soap12


def test_preview_masks_secrets():
    wsse = WsseUsernameToken("shop-user", Secret("pw-5ecret", name="SHOP_PASSWORD"))
    e = WsdlExplorer(shop(auth=wsse))
    envelope = ask(e, "preview", **on("ShopSoap", "Ping", values={}))["envelope"]
    assert "shop-user" in envelope and "pw-5ecret" not in envelope and "***" in envelope
    envelope = ask(e, "preview", **on("ShopSoap", "CreateOrder", values={**ORDER, "note": TOKEN}))[
        "envelope"
    ]
    assert TOKEN not in envelope and "<ns0:note>***</ns0:note>" in envelope


def test_run_shows_an_inspector_with_both_envelopes():
    service = Service()
    e = WsdlExplorer(shop(service))
    reply = ask(e, "run", **on("ShopSoap", "CreateOrder", values=ORDER))
    assert reply["status"] == 200 and reply["ok"] and reply["fault"] == ""
    inspector = e.output.children[0]
    assert isinstance(inspector, Inspector)
    assert [r["label"] for r in inspector.raw] == ["Response envelope", "Request envelope"]
    assert e.exchange is not None and e.exchange.data == "ORD-7"
    assert b"<ns0:sku>PEN-3</ns0:sku>" in service.requests[-1].content


def test_a_fault_still_shows_the_exchange():
    e = WsdlExplorer(shop())
    reply = ask(e, "run", **on("ShopSoap", "GetOrder", values={"orderId": "ORD-404"}))
    assert reply["type"] == "run" and reply["status"] == 500
    assert reply["fault"] == "soap:Client: Unknown order ORD-404"
    assert e.exchange is not None and e.exchange.fault is not None
    assert isinstance(e.output.children[0], Inspector)
    reply = ask(e, "run", **on("ShopSoap", "Ping", values={}))  # an HTML error page
    assert reply["status"] == 500 and "not a SOAP Fault" in reply["error"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (on("ShopSoap", "CreateOrder", values={}), "missing required 'customer'"),
        (on("ShopSoap", "CreateOrder", values={"priority": "urgent"}), "must be one of"),
        (on("ShopSoap", "CreateOrder", values=[1]), "values must map"),
        (on("ShopSoap", "Nope"), "Unknown operation 'Nope'"),
        ({"service": "ShopService", "port": "Nope", "name": "Ping"}, "Unknown port 'Nope'"),
    ],
)
def test_run_errors_are_replies_and_nothing_is_sent(fields, message):
    service = Service()
    e = WsdlExplorer(shop(service))
    reply = ask(e, "run", **fields)
    assert reply["type"] == "error" and message in reply["message"]
    assert service.requests == [] and e.output.children == ()


def test_run_on_another_port():
    service = Service()
    e = WsdlExplorer(shop(service))
    ask(e, "run", **on("ShopSoap12", "CreateOrder", values=ORDER))
    sent = service.requests[-1]
    assert str(sent.url) == "http://shop.test/soap12"
    assert sent.headers["content-type"].startswith("application/soap+xml")
    assert e.client.port == "ShopSoap"  # the client itself is unchanged


def test_a_transport_error_is_a_reply():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    e = WsdlExplorer(shop(refuse))
    reply = ask(e, "run", **on("ShopSoap", "Ping", values={}))
    assert reply["type"] == "error" and "refused" in reply["message"]


def test_code():
    e = WsdlExplorer(shop(), name="shop")
    code = ask(e, "code", **on("ShopSoap", "CreateOrder", values=ORDER))["code"]
    assert code.startswith('ex = shop.call(\n    "CreateOrder",\n    customer={')
    assert '"quantity": 2' in code and '"_value_1": "9.50"' in code and 'priority="high"' in code
    compile(code, "<code>", "exec")
    other = ask(e, "code", **on("ShopSoap12", "Ping", values={}))["code"]
    assert other.splitlines()[:2] == [
        "# Ping is on another port of the WSDL",
        f'shop = SoapClient("{SHOP_WSDL}", service="ShopService", port="ShopSoap12")',
    ]
    masked = ask(e, "code", **on("ShopSoap", "CreateOrder",
                                 values={**ORDER, "note": f"x {TOKEN}"}))["code"]  # fmt: skip
    assert TOKEN not in masked


# -- construction, fallbacks, inspect() --------------------------------------------------------


def test_fallbacks():
    e = WsdlExplorer(shop(), operation="CreateOrder")
    assert e.panel.summary["operation"] == "CreateOrder"
    assert repr(e) == "<WsdlExplorer ShopService/ShopSoap http://shop.test/soap · 11 operations>"
    html = e._html_fallback()
    assert "CreateOrder(customer: Customer" in html and "PurgeCache" in html
    assert "ShopService/ShopSoap12" in html and "Last call" not in html
    ask(e, "run", **on("ShopSoap", "CreateOrder", values=ORDER))
    assert "Last call" in e._html_fallback()
    e.close()
    assert e.panel.comm is None


def test_fallbacks_are_masked():
    e = WsdlExplorer(shop(address=f"https://shop.example/soap?api_key={TOKEN}"))
    assert TOKEN not in repr(e) and TOKEN not in e._html_fallback()
    assert TOKEN not in json.dumps(e.panel.get_state())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: WsdlExplorer("shop.wsdl"), "takes a SoapClient"),
        (lambda: WsdlExplorer(shop(), operation="Pong"), "Did you mean 'Ping'"),
    ],
)
def test_bad_construction(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_inspect_opens_a_wsdl_explorer():
    explorer = inspect(shop(), name="orders")
    assert isinstance(explorer, WsdlExplorer) and explorer.panel.summary["name"] == "orders"


def test_the_explore_method():
    if not hasattr(SoapClient, "explore"):
        pytest.skip("SoapClient.explore() is not there yet (the lead adds it)")
    e = shop().explore(name="orders", operation="Ping")
    assert isinstance(e, WsdlExplorer) and e.panel.summary["operation"] == "Ping"
    assert e.panel.summary["name"] == "orders"


@pytest.mark.sandbox
def test_the_sandbox_billing_service():
    from apinotebook.sandbox import Sandbox

    with Sandbox(services=("billing",)) as sb:
        password = sb.env["BILLING_PASSWORD"]
        billing = SoapClient(sb.urls["billing"], history=None,
                             auth=Basic(sb.env["BILLING_USERNAME"], Secret(password)))  # fmt: skip
        e = WsdlExplorer(billing)
        form = ask(e, "operation", service=billing.service, port=billing.port,
                   name="ListInvoices")["form"]  # fmt: skip
        status = next(p for p in form["input"] if p["name"] == "status")
        assert status["enum"] == ["PAID", "OPEN", "OVERDUE"] and status["optional"]
        target = {"service": billing.service, "port": billing.port}
        reply = ask(e, "run", **target, name="ListInvoices",
                    values={"status": "OPEN", "pageSize": "2"})  # fmt: skip
        assert reply["status"] == 200 and len(e.exchange.data["invoice"]) <= 2
        reply = ask(e, "run", **target, name="GetInvoice", values={"invoiceId": "INV-NOPE"})
        assert reply["fault"] and isinstance(e.output.children[0], Inspector)
        assert password not in json.dumps(e.panel.get_state()) + e._html_fallback()
        e.close()
        billing.close()
