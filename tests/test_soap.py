"""The SOAP client: WSDLs and replies served by httpx.MockTransport, then the sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from apinotebook import (
    Basic,
    ConfigError,
    DecodeError,
    History,
    HTTPStatusError,
    ResponseTooLarge,
    Retry,
    SoapFault,
    SpecError,
    WsseUsernameToken,
)
from apinotebook.soap import (
    SoapClient,
    SoapOperation,
    clear_wsdl_cache,
    is_read_only,
    wsdl_cache_info,
)

FIXTURES = Path(__file__).parent / "fixtures" / "soap"
SHOP_WSDL = "http://shop.test/wsdl/shop.wsdl"
SHOP_NS = "http://example.com/shop/v1"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
FAST = Retry(backoff=0, jitter=False)
PASSWORD = "s3cret-shop-password"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "http://attacker.test/steal"> ]>
"""


def envelope(body: str, *, version: str = "1.1") -> bytes:
    ns = ENV11 if version == "1.1" else ENV12
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ns}">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


ORDER = f"""<GetOrderResponse xmlns="{SHOP_NS}" xmlns:c="http://example.com/common/v1">
<order><id>O-1</id><status>NEW</status><placed>2024-01-02</placed>
<customer><name>Ann</name><address><c:street>1 Road</c:street><c:street>Flat 2</c:street>
<c:city>Paris</c:city><c:country>FR</c:country></address></customer>
<item><sku>A</sku><quantity>2</quantity><price currency="EUR">3.50</price></item>
<item><sku>B</sku><quantity>1</quantity></item>
<total currency="EUR">7.00</total></order></GetOrderResponse>"""

SHOP_FAULT = f"""<soap:Fault><faultcode>soap:Client</faultcode>
<faultstring>No order O-9</faultstring><faultactor>urn:shop</faultactor>
<detail><s:ShopError xmlns:s="{SHOP_NS}"><s:code>ORDER_NOT_FOUND</s:code>
<s:field>orderId</s:field><s:field>id</s:field></s:ShopError></detail></soap:Fault>"""


class Shop:
    """A MockTransport serving the shop WSDL and canned replies; records every request."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.files = {p.name: p.read_bytes() for p in FIXTURES.glob("shop*")}
        self.files.update(files or {})
        self.requests: list[httpx.Request] = []
        self.replies: list[httpx.Response] = []
        self.require_auth: str | None = None

    def reply(self, status: int, body: bytes | str, ctype: str = "text/xml; charset=utf-8") -> None:
        content = body.encode() if isinstance(body, str) else body
        self.replies.append(httpx.Response(status, content=content,
                                           headers={"content-type": ctype}))  # fmt: skip

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.require_auth and request.headers.get("authorization") != self.require_auth:
            return httpx.Response(401, text="no", headers={"www-authenticate": "Basic"})
        if request.method == "GET":
            name = request.url.path.rsplit("/", 1)[-1]
            if name not in self.files:
                return httpx.Response(404, text="not found")
            return httpx.Response(200, content=self.files[name],
                                  headers={"content-type": "text/xml"})  # fmt: skip
        if not self.replies:
            return httpx.Response(
                200, content=envelope(ORDER), headers={"content-type": "text/xml"}
            )
        return self.replies.pop(0)

    @property
    def gets(self) -> list[str]:
        return [str(r.url) for r in self.requests if r.method == "GET"]

    @property
    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]

    def client(self, wsdl: str = SHOP_WSDL, **kwargs: Any) -> SoapClient:
        kwargs.setdefault("history", History())
        kwargs.setdefault("retry", FAST)
        return SoapClient(wsdl, transport=httpx.MockTransport(self), **kwargs)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_wsdl_cache()
    yield
    clear_wsdl_cache()


@pytest.fixture
def shop() -> Shop:
    return Shop()


# -- the contract: operations, signatures, trees ------------------------------------------


@pytest.mark.parametrize(
    ("name", "signature"),
    [
        ("GetOrder", "GetOrder(orderId: string) -> Order"),
        ("ListOrders", "ListOrders(status: 'NEW'|'SHIPPED'|'CANCELLED' = None, page: int = 1, "
                       "pageSize: int = None) -> ListOrdersResponse"),
        ("CreateOrder", "CreateOrder(customer: Customer, item: Item[], priority: "
                        "'low'|'normal'|'high' = 'normal', note: string = None) -> string"),
        ("SearchProducts", "SearchProducts((text: string | sku: string), limit: int = None) "
                           "-> string[]"),
        ("Ping", "Ping() -> PingResponse"),
    ],
)  # fmt: skip
def test_signatures(shop: Shop, name: str, signature: str) -> None:
    assert shop.client().operation(name).signature() == signature


def test_operations_carry_service_port_action_and_docs(shop: Shop) -> None:
    client = shop.client()
    ops = {op.name: op for op in client.operations}
    assert sorted(ops) == ["CreateOrder", "GetOrder", "ListOrders", "Ping", "SearchProducts"]
    get = ops["GetOrder"]
    assert isinstance(get, SoapOperation)
    assert (get.service, get.port, get.soap_action, get.soap_version, get.style) == (
        "ShopService", "ShopSoap", "urn:shop:GetOrder", "1.1", "document",
    )  # fmt: skip
    assert get.documentation == "One order by id, with its items."
    assert ops["ListOrders"].documentation == "One page of orders, optionally filtered by status."
    assert ops["Ping"].documentation is None
    assert client.documentation == "The shop's public API."
    assert repr(get) == "<SoapOperation GetOrder(orderId: string) -> Order>"


def test_nested_optional_repeated_enum_and_default_params(shop: Shop) -> None:
    create = shop.client().operation("CreateOrder")
    customer, item, priority, note = create.input
    assert (customer.name, customer.type_name, customer.optional, customer.repeated) == (
        "customer", "Customer", False, False,
    )  # fmt: skip
    name, email, address = customer.children
    assert email.optional and not name.optional
    street, city, country = address.children
    assert street.repeated and not city.repeated  # maxOccurs="3"
    assert country.enum == ("DE", "FR", "GB", "US")
    assert (country.type_name, country.base_type) == ("Country", "string")
    assert item.repeated and not item.optional
    price = item.children[2]
    assert price.optional and [c.name for c in price.children] == ["_value_1", "currency"]
    assert price.children[1].kind == "attribute" and not price.children[1].optional
    assert (priority.default, priority.enum, priority.optional) == (
        "normal", ("low", "normal", "high"), True,
    )  # fmt: skip
    assert note.optional and note.base_type == "string"
    tree = create.describe()
    assert "country: Country (string)  [one of DE, FR, GB, US]" in tree
    assert "item: Item  [repeated]" in tree


def test_choice_and_output_trees(shop: Shop) -> None:
    client = shop.client()
    choice, limit = client.operation("SearchProducts").input
    assert choice.kind == "choice" and [c.name for c in choice.children] == ["text", "sku"]
    assert limit.optional
    order = client.operation("GetOrder").output
    assert order is not None and order.type_name == "Order"
    assert [c.name for c in order.children] == [
        "id", "status", "placed", "customer", "item", "total", "note",
    ]  # fmt: skip
    listing = client.operation("ListOrders").output
    assert listing is not None and [c.name for c in listing.children] == ["total", "order"]


def test_rpc_binding_in_another_service(shop: Shop) -> None:
    admin = shop.client(service="AdminService")
    assert (admin.service, admin.port) == ("AdminService", "AdminSoap")
    (purge,) = admin.operations
    assert purge.signature() == "PurgeCache(region: string) -> int"
    assert purge.style == "rpc"
    root = etree.fromstring(admin.build_envelope("PurgeCache", region="eu").encode())
    (wrapper,) = root.find(f"{{{ENV11}}}Body")
    assert wrapper.tag == "{http://example.com/shop/admin}PurgeCache"
    assert wrapper.findtext("region") == "eu"


def test_services_and_port_selection(shop: Shop) -> None:
    client = shop.client()
    assert client.services == {"ShopService": ["ShopSoap", "ShopSoap12"],
                               "AdminService": ["AdminSoap"]}  # fmt: skip
    assert (client.service, client.port, client.address) == (
        "ShopService", "ShopSoap", "http://shop.test/soap",
    )  # fmt: skip
    v12 = shop.client(port="ShopSoap12")  # the service is found from the port
    assert (v12.service, v12.soap_version, v12.address) == (
        "ShopService", "1.2", "http://shop.test/soap12",
    )  # fmt: skip
    assert shop.client(address="http://other.test/x").address == "http://other.test/x"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service": "ShopServce"}, "Did you mean 'ShopService'?"),
        ({"port": "Nope"}, "Valid ports: 'AdminSoap', 'ShopSoap', 'ShopSoap12'"),
        ({"service": "ShopService", "port": "AdminSoap"}, "Its SOAP ports: 'ShopSoap', "),
        ({"idempotent_operations": ["GetOrdr"]}, "Did you mean 'GetOrder'"),
        (
            {"auth": "user:password"},
            "auth= takes an HTTP auth (Basic, Bearer, ApiKey, ...), a "
            "WsseUsernameToken, or one of each in a list; got str.",
        ),
        ({"auth": [Basic("a", "bbbbbb"), Basic("c", "dddddd")]}, "one of each"),
    ],
)
def test_bad_client_options(shop: Shop, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        shop.client(**kwargs)
    assert message in str(info.value)


# -- envelopes ------------------------------------------------------------------------------


def test_envelope_is_built_by_zeep_from_nested_arguments(shop: Shop) -> None:
    client = shop.client()
    text = client.build_envelope(
        "CreateOrder",
        customer={
            "name": "Ann",
            "address": {"street": ["1 Road", "Flat 2"], "city": "Paris", "country": "FR"},
        },  # fmt: skip
        item=[
            {
                "sku": "A",
                "quantity": 2,
                "price": {"_value_1": Decimal("3.50"), "currency": "EUR"},
            },  # fmt: skip
            {"sku": "B", "quantity": 1},
        ],
    )
    assert "\n  <" in text  # pretty-printed
    root = etree.fromstring(text.encode())
    assert root.tag == f"{{{ENV11}}}Envelope"
    (order,) = root.find(f"{{{ENV11}}}Body")
    ns = {"s": SHOP_NS, "c": "http://example.com/common/v1"}
    assert order.tag == f"{{{SHOP_NS}}}CreateOrder"
    assert order.xpath("s:customer/s:address/c:street/text()", namespaces=ns) == [
        "1 Road", "Flat 2",
    ]  # fmt: skip
    assert order.xpath("s:item/s:sku/text()", namespaces=ns) == ["A", "B"]
    price = order.find("s:item/s:price", namespaces=ns)
    assert (price.text, price.get("currency")) == ("3.50", "EUR")
    assert order.find("s:note", namespaces=ns) is None


def test_params_mapping_and_keywords_merge(shop: Shop) -> None:
    text = shop.client().build_envelope("ListOrders", {"status": "NEW"}, page=2)
    root = etree.fromstring(text.encode())
    assert root.xpath("//s:status/text()", namespaces={"s": SHOP_NS}) == ["NEW"]
    assert root.xpath("//s:page/text()", namespaces={"s": SHOP_NS}) == ["2"]


@pytest.mark.parametrize(
    ("port", "content_type", "soap_action"),
    [
        ("ShopSoap", "text/xml; charset=utf-8", '"urn:shop:GetOrder"'),
        ("ShopSoap12", 'application/soap+xml; charset=utf-8; action="urn:shop:GetOrder"', None),
    ],
)
def test_request_headers_per_soap_version(
    shop: Shop, port: str, content_type: str, soap_action: str | None
) -> None:
    request = shop.client(port=port).build_request("GetOrder", orderId="O-1")
    assert request.method == "POST"
    assert request.headers["content-type"] == content_type
    assert request.headers.get("soapaction") == soap_action
    root = etree.fromstring(request.content)
    assert root.tag == f"{{{ENV11 if port == 'ShopSoap' else ENV12}}}Envelope"


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("GetOrdr", {"orderId": "1"}, "Did you mean 'GetOrder'"),
        ("GetOrder", {}, "missing required 'orderId'"),
        ("GetOrder", {"orderid": "1"}, "unknown 'orderid' (did you mean 'orderId'?)"),
        ("CreateOrder", {"customer": {"name": "A"}, "item": []},
         "Missing element address (CreateOrder.customer.address)"),
        ("CreateOrder", {"customer": {"name": "A", "address": {"street": "s", "city": "c",
                                                              "country": "FR"}},
                         "item": [{"sku": "A", "quantity": 1, "colour": "red"}]},
         "unexpected keyword argument 'colour'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_config_errors(
    shop: Shop, name: str, kwargs: dict[str, Any], message: str
) -> None:
    client = shop.client()
    with pytest.raises(ConfigError) as info:
        client.call(name, **kwargs)
    assert message in str(info.value)
    if name != "GetOrdr":
        assert "Signature: " + client.operation(name).signature() in str(info.value)
    assert shop.posts == []


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


# -- XML safety -------------------------------------------------------------------------------


def _shop_wsdl_with(prolog: str, marker: str = "") -> bytes:
    text = (FIXTURES / "shop.wsdl").read_text().split("?>", 1)[1]
    return (prolog + text.replace("A small shop", "A small shop " + marker, 1)).encode()


@pytest.mark.parametrize(
    ("prolog", "marker"),
    [(BILLION_LAUGHS, "&lol4;"), (XXE, "&xxe;"),
     ('<?xml version="1.0"?>\n<!DOCTYPE d SYSTEM "http://attacker.test/x.dtd">\n', "")],
)  # fmt: skip
def test_wsdl_with_dtd_is_refused(prolog: str, marker: str) -> None:
    shop = Shop({"shop.wsdl": _shop_wsdl_with(prolog, marker)})
    with pytest.raises(SpecError) as info:
        shop.client()
    assert "Document Type Declaration" in str(info.value)
    assert "http://shop.test/wsdl/shop.wsdl" in str(info.value)
    assert shop.gets == [SHOP_WSDL]  # nothing else was fetched


def test_imported_xsd_with_dtd_is_refused() -> None:
    xsd = (FIXTURES / "shop-common.xsd").read_text().split("?>", 1)[1]
    shop = Shop({"shop-common.xsd": (XXE + xsd).encode()})
    with pytest.raises(SpecError) as info:
        shop.client()
    assert "imported document http://shop.test/wsdl/shop-common.xsd" in str(info.value)


def test_wsdl_given_as_bytes_with_dtd_is_refused() -> None:
    with pytest.raises(SpecError, match="Document Type Declaration"):
        SoapClient(_shop_wsdl_with(BILLION_LAUGHS, "&lol4;"))


@pytest.mark.parametrize(
    ("prolog", "marker"), [(BILLION_LAUGHS, "&lol4;"), (XXE, "&xxe;"), (XXE, "&undeclared;")]
)
def test_response_with_dtd_is_a_decode_error(shop: Shop, prolog: str, marker: str) -> None:
    body = envelope(f'<PingResponse xmlns="{SHOP_NS}"><version>{marker}</version>'
                    "<time>2024-01-01T00:00:00Z</time></PingResponse>")  # fmt: skip
    shop.reply(200, prolog.encode() + body.split(b"?>", 1)[1])
    with pytest.raises(DecodeError, match="Document Type Declaration"):
        shop.client().call("Ping")
    assert not any("attacker" in str(r.url) for r in shop.requests)


@pytest.mark.parametrize(
    ("location", "trusted", "ok"),
    [
        ("http://evil.test/types.xsd", (), False),
        ("file:///etc/passwd", (), False),
        ("http://schemas.test/types.xsd", ("schemas.test",), True),
    ],
)
def test_imports_stay_on_the_wsdl_origin(location: str, trusted: tuple[str, ...], ok: bool) -> (
    None
):  # fmt: skip
    wsdl = (
        (FIXTURES / "shop.wsdl")
        .read_bytes()
        .replace(b'schemaLocation="shop-common.xsd"', f'schemaLocation="{location}"'.encode())
    )
    shop = Shop({"shop.wsdl": wsdl, "types.xsd": (FIXTURES / "shop-common.xsd").read_bytes()})
    shop.require_auth = None
    if ok:
        client = shop.client(trusted_locations=trusted, auth=Basic("shop", PASSWORD))
        assert location in client.wsdl_documents
        foreign = [r for r in shop.requests if r.url.host == "schemas.test"]
        assert foreign and "authorization" not in foreign[0].headers  # no credentials there
        return
    with pytest.raises(SpecError) as info:
        shop.client(trusted_locations=trusted)
    assert "outside its own origin" in str(info.value) and "trusted_locations" in str(info.value)
    assert shop.gets == [SHOP_WSDL]


def test_local_wsdl_may_not_import_files_outside_its_directory(tmp_path: Path) -> None:
    # a local WSDL imports what its family ships (any regular file that parses as a
    # schema, as zeep does: tests/soap/test_wsdl_real_world.py); never a device
    (tmp_path / "api").mkdir()
    wsdl = (FIXTURES / "shop.wsdl").read_bytes().replace(b'"shop-common.xsd"', b'"/dev/zero"')
    (tmp_path / "api" / "shop.wsdl").write_bytes(wsdl)
    with pytest.raises(SpecError, match="outside its own directory"):
        SoapClient(tmp_path / "api" / "shop.wsdl")
    (tmp_path / "common.schema").write_bytes((FIXTURES / "shop-common.xsd").read_bytes())
    wsdl = (
        (FIXTURES / "shop.wsdl").read_bytes().replace(b'"shop-common.xsd"', b'"../common.schema"')
    )
    (tmp_path / "api" / "shop.wsdl").write_bytes(wsdl)
    client = SoapClient(tmp_path / "api" / "shop.wsdl")
    assert len(client.operations) == 5


@pytest.mark.parametrize(
    ("files", "error", "message"),
    [
        ({"shop.wsdl": b"<html><body>Please log in</body></html>"}, SpecError,
         "root element is <html>"),
        ({"shop.wsdl": b"Service Unavailable"}, SpecError, "not well-formed XML"),
        ({"shop.wsdl": (FIXTURES / "shop-common.xsd").read_bytes()}, SpecError,
         "is an XML Schema, not a WSDL"),
        ({"shop.wsdl": b'<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
                       b'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:x="urn:x" '
                       b'targetNamespace="urn:x"><wsdl:binding name="b" type="x:missing">'
                       b'<soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>'
                       b"</wsdl:binding></wsdl:definitions>"}, SpecError,
         "Cannot read the WSDL http://shop.test/wsdl/shop.wsdl: IndexError: No definition"),
        ({"shop.wsdl": b'<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
                       b'targetNamespace="urn:x"/>'}, SpecError, "defines no SOAP service"),
    ],
)  # fmt: skip
def test_unreadable_wsdls(files: dict[str, bytes], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        Shop(files).client()
    assert message in str(info.value)


def test_missing_wsdl_is_an_http_status_error() -> None:
    with pytest.raises(HTTPStatusError) as info:
        Shop().client("http://shop.test/wsdl/nope.wsdl")
    assert "404" in str(info.value) and "?wsdl" in str(info.value)


def test_bare_binding_simple_body_one_way_and_any() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if b"Notify" in request.content:
            return httpx.Response(202)
        return httpx.Response(200, content=envelope('<EchoResult xmlns="urn:echo">5</EchoResult>'))

    wsdl = FIXTURES / "echo.wsdl"
    with pytest.raises(ConfigError, match="no soap:address; pass address="):
        SoapClient(wsdl, history=None).call("Echo", Echo="hi")
    client = SoapClient(wsdl, address="http://echo.test/", history=None,
                        transport=httpx.MockTransport(handler))  # fmt: skip
    assert (client.service, client.port, client.services) == (None, None, {})
    assert [op.signature() for op in client.operations] == [
        "Echo(Echo: string) -> int",
        "Notify(msg: string, _value_1: any = None) -> None",
    ]
    assert client.call("Echo", Echo="hi").data == 5
    body = etree.fromstring(sent[-1].content).find(f"{{{ENV11}}}Body")
    assert body is not None and body[0].tag == "{urn:echo}Echo" and body[0].text == "hi"
    assert sent[-1].headers["soapaction"] == '""'
    notified = client.call("Notify", msg="x")
    assert (notified.status, notified.data) == (202, None)
    assert repr(client) == "<SoapClient binding http://echo.test/ · 2 operations>"


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


# -- parse cache and the large multi-file WSDL --------------------------------------------------


def test_parse_cache_skips_the_fetch(shop: Shop) -> None:
    first = shop.client()
    assert shop.gets == [SHOP_WSDL, "http://shop.test/wsdl/shop-common.xsd"]
    assert not first.from_cache and first.parse_seconds > 0
    second = shop.client(service="AdminService")
    assert second.from_cache and len(shop.gets) == 2  # no refetch
    assert wsdl_cache_info()["hits"] == 1
    shop.client(strict=False)  # other parse settings: parsed again
    assert len(shop.gets) == 4
    clear_wsdl_cache()
    shop.client()
    assert len(shop.gets) == 6


def test_local_cache_follows_the_file(tmp_path: Path) -> None:
    for p in FIXTURES.glob("shop*"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    assert not SoapClient(tmp_path / "shop.wsdl").from_cache
    assert SoapClient(str(tmp_path / "shop.wsdl")).from_cache
    text = (tmp_path / "shop.wsdl").read_text().replace("Ping", "Pong")
    (tmp_path / "shop.wsdl").write_text(text)
    os.utime(tmp_path / "shop.wsdl", ns=(1, 1))
    changed = SoapClient(tmp_path / "shop.wsdl")
    assert not changed.from_cache and "Pong" in [op.name for op in changed.operations]


def test_large_multi_file_wsdl() -> None:
    root = FIXTURES / "large" / "enterprise.wsdl"
    client = SoapClient(root)
    assert client.services == {
        "OrdersService": ["OrdersSoap", "OrdersSoap12"],
        "InventoryService": ["InventorySoap"],
        "CustomersService": ["CustomersSoap"],
    }
    assert len(client.wsdl_documents) == 11  # 1 + 3 wsdl:import + 7 XSDs (import/include)
    counts = {
        (service, port): len(SoapClient(root, service=service, port=port).operations)
        for service, ports in client.services.items()
        for port in ports
    }
    assert set(counts.values()) == {20} and len(counts) == 4
    update = SoapClient(root, service="InventoryService").operation("UpdateStockLevel")
    assert update.signature() == (
        "UpdateStockLevel(stockLevelId: string, stockLevel: StockLevelInput, "
        "etag: string = None) -> StockLevel"
    )
    status = update.input[1].children[1]  # from common.xsd, through the included records
    assert status.enum == ("ACTIVE", "ARCHIVED", "DRAFT")
    assert update.documentation == "UpdateStockLevel: generated inventory operation."
    assert SoapClient(root, port="OrdersSoap12").soap_version == "1.2"


def test_wsdl_warnings_are_kept(shop: Shop) -> None:
    wsdl = (
        (FIXTURES / "shop.wsdl")
        .read_bytes()
        .replace(
            b'<wsdl:part name="region" type="xsd:string"/>',
            b'<wsdl:part name="region" element="tns:NoSuchElement"/>',
        )
    )
    client = Shop({"shop.wsdl": wsdl}).client(service="AdminService")
    assert any("invalid part ('region')" in w for w in client.wsdl_warnings)
    assert shop.client().from_cache  # a remote WSDL is cached by its URL ...
    clear_wsdl_cache()  # ... until the cache is cleared
    assert shop.client().wsdl_warnings == ()


def test_wsdl_from_bytes_and_repr(shop: Shop) -> None:
    raw = (FIXTURES / "shop.wsdl").read_bytes()
    with pytest.raises(SpecError, match="outside"):  # a relative import has no base to use
        SoapClient(raw, transport=httpx.MockTransport(shop))
    absolute = raw.replace(b'"shop-common.xsd"', b'"http://shop.test/wsdl/shop-common.xsd"')
    with pytest.raises(SpecError, match="outside"):
        SoapClient(absolute, transport=httpx.MockTransport(shop))
    client = SoapClient(absolute, transport=httpx.MockTransport(shop), history=None,
                        trusted_locations=["shop.test"])  # fmt: skip
    assert client.wsdl_location == "<wsdl bytes>"
    assert repr(client) == "<SoapClient ShopService/ShopSoap http://shop.test/soap · 5 operations>"
    with client:
        assert client.call("GetOrder", orderId="O-1").data["id"] == "O-1"
    assert SoapClient(
        absolute.decode(), transport=httpx.MockTransport(shop), trusted_locations=["shop.test"]
    ).from_cache  # text: same content hash


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
