"""The SOAP client's contract: operations, signatures and trees, and the envelopes zeep builds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree
from soap_shop import (
    ENV11,
    ENV12,
    SHOP_NS,
    Shop,
)

from apinotebook import (
    Basic,
    ConfigError,
)
from apinotebook.soap import (
    SoapOperation,
)

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
