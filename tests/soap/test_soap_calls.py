"""SOAP calls: decoding, faults, auth (Basic, WS-Security) and retries, over MockTransport."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from lxml import etree
from soap_shop import (
    ENV11,
    ORDER,
    PASSWORD,
    SHOP_FAULT,
    SHOP_NS,
    WSSE,
    Shop,
    envelope,
)

from apinotebook import (
    Basic,
    DecodeError,
    History,
    HTTPStatusError,
    ResponseTooLarge,
    Retry,
    SoapFault,
    WsseUsernameToken,
)
from apinotebook.soap import (
    is_read_only,
)

# -- calls and decoding -----------------------------------------------------------------------


def test_call_returns_plain_python_and_records_the_exchange(shop: Shop) -> None:
    history = History()
    client = shop.client(history=history)
    exchange = client.call("GetOrder", orderId="O-1")
    sent = shop.posts[-1]
    assert etree.fromstring(sent.content).xpath("//s:orderId/text()",
                                                namespaces={"s": SHOP_NS}) == ["O-1"]  # fmt: skip
    assert exchange.protocol == "soap" and exchange.operation == "GetOrder" and exchange.ok
    order = exchange.data
    assert type(order) is dict and order["id"] == "O-1"
    assert order["placed"] == date(2024, 1, 2)
    assert order["customer"]["address"]["street"] == ["1 Road", "Flat 2"]
    assert order["item"][0]["price"] == {"_value_1": Decimal("3.50"), "currency": "EUR"}
    assert order["item"][1]["price"] is None
    assert json.loads(json.dumps(order, default=str))["total"]["currency"] == "EUR"
    assert list(history) == [exchange]
    assert exchange.request.content == sent.content  # the raw envelopes are both kept
    assert b"GetOrderResponse" in exchange.content


@pytest.mark.parametrize(
    ("name", "kwargs", "body", "expected"),
    [
        ("ListOrders", {}, f'<ListOrdersResponse xmlns="{SHOP_NS}"><total>0</total>'
                           "</ListOrdersResponse>", {"total": 0, "order": []}),
        ("SearchProducts", {"text": "x"}, f'<SearchProductsResponse xmlns="{SHOP_NS}"><sku>A'
                                          "</sku><sku>B</sku></SearchProductsResponse>",
         ["A", "B"]),
        ("CreateOrder", {"customer": {"name": "A", "address": {"street": "s", "city": "c",
                                                              "country": "FR"}},
                         "item": [{"sku": "A", "quantity": 1}]},
         f'<CreateOrderResponse xmlns="{SHOP_NS}"><orderId>O-7</orderId></CreateOrderResponse>',
         "O-7"),
    ],
)  # fmt: skip
def test_unwrapping_rules(
    shop: Shop, name: str, kwargs: dict[str, Any], body: str, expected: Any
) -> None:
    shop.reply(200, envelope(body))
    assert shop.client().call(name, **kwargs).data == expected


def test_datetime_results_use_stdlib_timezones(shop: Shop) -> None:
    shop.reply(200, envelope(f'<PingResponse xmlns="{SHOP_NS}"><version>2</version>'
                             "<time>2024-05-01T10:00:00Z</time></PingResponse>"))  # fmt: skip
    data = shop.client().call("Ping").data
    assert data["version"] == "2"
    assert data["time"].tzinfo is not None and type(data["time"].tzinfo).__module__ == "datetime"


def test_acall(shop: Shop) -> None:
    client = shop.client()

    async def main() -> Any:
        async with client:
            return (await client.acall("GetOrder", orderId="O-1")).data

    assert asyncio.run(main())["id"] == "O-1"


def test_fault_raises_soapfault_and_is_in_history(shop: Shop) -> None:
    history = History()
    client = shop.client(history=history)
    shop.reply(500, envelope(SHOP_FAULT))
    with pytest.raises(SoapFault) as info:
        client.call("GetOrder", orderId="O-9")
    fault = info.value
    assert (fault.code, fault.actor) == ("soap:Client", "urn:shop")
    assert "No order O-9" in str(fault)
    assert fault.detail == {"code": "ORDER_NOT_FOUND", "field": ["orderId", "id"]}
    assert fault.exchange is not None and list(history) == [fault.exchange]
    assert fault.exchange.meta["fault"] == {
        "code": "soap:Client", "message": "No order O-9",
        "detail": {"code": "ORDER_NOT_FOUND", "field": ["orderId", "id"]}, "actor": "urn:shop",
    }  # fmt: skip
    assert fault.exchange.fault is not None and not fault.exchange.ok
    assert fault.exchange.retries == 0  # a Get*, but a 500 Fault is not retried
    assert fault.exchange.to_dict()["fault"]["detail"]["code"] == "ORDER_NOT_FOUND"


def test_soap12_fault_with_subcode(shop: Shop) -> None:
    body = """<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode>
    <soap:Value>s:Missing</soap:Value></soap:Subcode></soap:Code>
    <soap:Reason><soap:Text xml:lang="en">Bad input</soap:Text></soap:Reason>
    <soap:Detail><reason>typo</reason></soap:Detail></soap:Fault>"""
    shop.reply(500, envelope(body, version="1.2"), "application/soap+xml")
    with pytest.raises(SoapFault) as info:
        shop.client(port="ShopSoap12").call("GetOrder", orderId="O-1")
    assert (info.value.code, info.value.detail) == ("soap:Sender", {"reason": "typo"})
    assert info.value.exchange is not None
    assert info.value.exchange.fault["subcodes"] == ["s:Missing"]  # type: ignore[index]
    assert info.value.exchange.fault["message"] == "Bad input"  # type: ignore[index]


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("", None),
        ("<detail>plain words</detail>", "plain words"),
        ("<detail><code>X</code></detail>", {"code": "X"}),
        ("<detail><e:Err xmlns:e='urn:x' level='2'><e:why>a</e:why><e:why>b</e:why></e:Err>"
         "</detail>", {"@level": "2", "why": ["a", "b"]}),
    ],
)  # fmt: skip
def test_fault_details_without_a_schema(shop: Shop, detail: str, expected: Any) -> None:
    shop.reply(500, envelope(f"<soap:Fault><faultcode>soap:Server</faultcode>"
                             f"<faultstring>boom</faultstring>{detail}</soap:Fault>"))  # fmt: skip
    with pytest.raises(SoapFault) as info:
        shop.client(retry=False).call("GetOrder", orderId="O-1")
    assert info.value.detail == expected


@pytest.mark.parametrize(
    ("status", "body", "ctype", "error", "message"),
    [
        (500, "<html><body><h1>Internal Server Error</h1></body></html>", "text/html",
         HTTPStatusError, "HTML (an error or login page?)"),
        (500, "", "text/xml", HTTPStatusError, "an empty body"),
        (502, "<error>gateway</error>", "text/xml", HTTPStatusError, "root is <error>"),
        (500, envelope(ORDER), "text/xml", HTTPStatusError, "envelope without a Fault"),
        (404, "Not Found", "text/plain", HTTPStatusError, "not XML"),
        (200, "OK, done", "text/plain", DecodeError, "not XML"),
        (200, "", "text/xml", DecodeError, "an empty body"),
        (200, '{"order": 1}', "application/json", DecodeError, "not XML"),
        (200, envelope(ORDER, version="1.2"), "text/xml", DecodeError, "other version"),
    ],
)  # fmt: skip
def test_non_fault_errors_are_typed(
    shop: Shop, status: int, body: Any, ctype: str, error: type[Exception], message: str
) -> None:
    history = History()
    shop.reply(status, body, ctype)
    with pytest.raises(error) as info:
        shop.client(history=history).call("CreateOrder", customer={
            "name": "A", "address": {"street": "s", "city": "c", "country": "FR"}},
            item=[{"sku": "A", "quantity": 1}])  # fmt: skip
    assert type(info.value) is error
    assert message in str(info.value) and "CreateOrder" in str(info.value)
    exchange = info.value.exchange  # type: ignore[attr-defined]
    assert exchange is not None and exchange.status == status
    assert list(history) == [exchange] and message in exchange.meta["soap_error"]


def test_response_size_limit_applies(shop: Shop) -> None:
    client = shop.client(max_response_size=50_000)
    shop.reply(200, envelope(f'<PingResponse xmlns="{SHOP_NS}"><version>{"x" * 60_000}'
                             "</version></PingResponse>"))  # fmt: skip
    with pytest.raises(ResponseTooLarge):
        client.call("Ping")


# -- auth -------------------------------------------------------------------------------------


def test_basic_auth_on_wsdl_fetch_and_calls(shop: Shop) -> None:
    auth = Basic("shop", PASSWORD)
    shop.require_auth = httpx.BasicAuth("shop", PASSWORD)._auth_header
    with pytest.raises(HTTPStatusError, match="401") as info:
        shop.client()
    assert "auth=" in str(info.value)
    client = shop.client(auth=auth)
    assert client.call("GetOrder", orderId="O-1").data["id"] == "O-1"
    assert all(r.headers.get("authorization") == shop.require_auth for r in shop.requests[1:])
    assert PASSWORD not in repr(client) and "Basic('shop'" in repr(client)


@pytest.mark.parametrize("digest", [False, True])
def test_ws_security_header_is_masked_everywhere(shop: Shop, digest: bool) -> None:
    history = History()
    client = shop.client(auth=WsseUsernameToken("shop-user", PASSWORD, digest=digest),
                         history=history)  # fmt: skip
    text = client.build_envelope("GetOrder", orderId="O-1")
    root = etree.fromstring(text.encode())
    token = root.find(f"{{{ENV11}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    assert token is not None and token.findtext(f"{{{WSSE}}}Username") == "shop-user"
    kind = token.find(f"{{{WSSE}}}Password").get("Type").rsplit("#", 1)[1]  # type: ignore[union-attr]
    assert kind == ("PasswordDigest" if digest else "PasswordText")
    assert (token.find(f"{{{WSSE}}}Nonce") is not None) is digest
    assert PASSWORD not in text
    revealed = client.build_envelope("GetOrder", orderId="O-1", reveal_secrets=True)
    assert (PASSWORD in revealed) is not digest
    exchange = client.call("GetOrder", orderId="O-1")
    assert (PASSWORD.encode() in shop.posts[-1].content) is not digest  # sent in clear text
    for rendering in (json.dumps(exchange.to_dict()), json.dumps(history.to_har()),
                      repr(client), exchange.summary()):  # fmt: skip
        assert PASSWORD not in rendering
    assert "shop-user" in json.dumps(exchange.to_dict())
    try:
        curl = exchange.to_curl()
    except ModuleNotFoundError:  # apinotebook.curl lands separately
        return
    assert PASSWORD not in curl


def test_short_wsse_password_is_masked_in_built_envelopes(shop: Shop) -> None:
    client = shop.client(auth=WsseUsernameToken("u", "pw1"))  # too short to mask by value
    assert ">pw1<" not in client.build_envelope("GetOrder", orderId="O-1")
    assert ">pw1<" in client.build_envelope("GetOrder", orderId="O-1", reveal_secrets=True)


def test_basic_and_wsse_together(shop: Shop) -> None:
    client = shop.client(auth=[Basic("shop", PASSWORD), WsseUsernameToken("u", PASSWORD)])
    client.call("GetOrder", orderId="O-1")
    sent = shop.posts[-1]
    assert sent.headers["authorization"].startswith("Basic ")
    assert b"UsernameToken" in sent.content


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "call_options", "attempts"),
    [
        ("GetOrder", {}, {}, 2),
        ("CreateOrder", {}, {}, 1),
        ("CreateOrder", {}, {"idempotent": True}, 2),
        ("GetOrder", {}, {"idempotent": False}, 1),
        ("CreateOrder", {"idempotent_operations": ["CreateOrder"]}, {}, 2),
        ("GetOrder", {"idempotent_operations": ["CreateOrder"]}, {}, 1),
    ],
)
def test_retry_on_503_only_for_idempotent_operations(
    shop: Shop, name: str, options: dict[str, Any], call_options: dict[str, Any], attempts: int
) -> None:
    kwargs: dict[str, Any] = {"orderId": "O-1"} if name == "GetOrder" else {
        "customer": {"name": "A", "address": {"street": "s", "city": "c", "country": "FR"}},
        "item": [{"sku": "A", "quantity": 1}],
    }  # fmt: skip
    shop.reply(503, envelope("<soap:Fault><faultcode>soap:Server</faultcode><faultstring>busy"
                             "</faultstring></soap:Fault>"))  # fmt: skip
    shop.reply(
        200,
        envelope(ORDER)
        if name == "GetOrder"
        else envelope(
            f'<CreateOrderResponse xmlns="{SHOP_NS}"><orderId>O-2</orderId></CreateOrderResponse>'
        ),
    )
    client = shop.client(**options)
    if attempts == 1:
        with pytest.raises(SoapFault, match="busy") as info:
            client.call(name, **call_options, **kwargs)
        assert info.value.exchange is not None and len(info.value.exchange.attempts) == 1
    else:
        exchange = client.call(name, **call_options, **kwargs)
        assert [a.status for a in exchange.attempts] == [503, 200] and exchange.ok
        assert len(client.history) == 2  # every attempt is in the history
    assert len(shop.posts) == attempts


def _fault(code: str) -> bytes:
    return envelope(
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>x</faultstring></soap:Fault>"
    )


def test_server_faults_are_retried_client_faults_are_not(shop: Shop) -> None:
    client = shop.client(retry=Retry(max_attempts=3, backoff=0))
    shop.reply(500, _fault("soap:Server"))
    ex = client.call("GetOrder", orderId="O-1")  # the next reply is a good ORDER
    assert ex.ok and [a.status for a in ex.attempts] == [500, 200]
    shop.reply(500, _fault("soap:Client"))
    with pytest.raises(SoapFault) as info:
        client.call("GetOrder", orderId="O-1")
    assert info.value.exchange is not None and info.value.exchange.retries == 0


@pytest.mark.parametrize(
    ("name", "read_only"),
    [("GetInvoice", True), ("get_invoice", True), ("listCustomers", True), ("Get", True),
     ("SearchFlights", True), ("FindX", True), ("QueryAll", True), ("CheckStatus", True),
     ("LookupZip", True), ("Listen", False), ("Getaway", False), ("CreateOrder", False),
     ("UpdateGetter", False), ("Delete", False)],
)  # fmt: skip
def test_read_only_heuristic(name: str, read_only: bool) -> None:
    assert is_read_only(name) is read_only
