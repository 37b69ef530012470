"""The SOAP mock: answers our SoapClient decodes, Faults naming the element, ?wsdl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from apinotebook import SoapClient
from apinotebook.mock import Mock, MockServer, Request, serve
from tests.corpus.probes import soap_arguments

ROOT = Path(__file__).parents[2]
SHOP = ROOT / "tests" / "fixtures" / "soap" / "shop.wsdl"
BILLING = ROOT / "apinotebook" / "sandbox" / "wsdl" / "billing.wsdl"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"


def _leaves(value) -> list:
    if hasattr(value, "__values__"):
        value = dict(value.__values__)
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@pytest.mark.parametrize(
    ("wsdl", "service", "port"),
    [
        (SHOP, "ShopService", "ShopSoap"),
        (SHOP, "ShopService", "ShopSoap12"),
        (SHOP, "AdminService", "AdminSoap"),
        (BILLING, None, None),
    ],  # fmt: skip
    ids=["soap11", "soap12", "rpc", "billing"],
)
def test_every_operation_answers_what_our_client_decodes(wsdl, service, port):
    mock = Mock(wsdl, service=service, port=port)
    with (
        MockServer([mock]) as server,
        SoapClient(wsdl, service=service, port=port, address=server.url, history=None) as client,
    ):
        for op in client.operations:
            ex = client.call(op.name, **soap_arguments(op.input))
            assert ex.status == 200, (op.name, ex.text[:300])
            if op.output is not None and op.output.children:
                assert [v for v in _leaves(ex.data) if v is not None], op.name


def test_generated_values_honour_types_and_enumerations():
    with serve(SHOP) as server, SoapClient(SHOP, address=server.url, history=None) as client:
        order = client.call("GetOrder", orderId="O-1").data
        assert order["status"] in ("NEW", "SHIPPED", "CANCELLED")
        assert isinstance(order["placed"], dt.date) and order["item"][0]["quantity"] > 0


def _envelope(body: str, ns: str = ENV11) -> bytes:
    return f'<e:Envelope xmlns:e="{ns}"><e:Body>{body}</e:Body></e:Envelope>'.encode()


def _fault(reply) -> tuple[str, str]:
    root = etree.fromstring(reply.body)
    text = root.findtext(f".//{{{ENV11}}}Fault/faultstring")
    if text is None:
        text = root.findtext(f".//{{{ENV12}}}Text")
    element = root.findtext(".//element") or root.findtext(f".//{{{ENV12}}}Detail/element")
    return text or "", element or ""


def test_a_body_missing_a_required_element_gets_a_client_fault_naming_it():
    mock = Mock(BILLING)
    body = '<b:GetCustomer xmlns:b="http://sandbox.apinotebook.dev/billing/v1"/>'
    reply = mock.handle(Request("POST", "/", "", {"content-type": "text/xml"}, _envelope(body)))
    assert reply.status == 500
    message, element = _fault(reply)
    assert "soap:Client" in reply.body.decode()
    assert element == "GetCustomer/customerId" and "required element is missing" in message


def test_an_unknown_element_and_a_bad_value_are_named():
    mock = Mock(SHOP)
    ns = 'xmlns:s="http://example.com/shop/v1"'
    unknown = f"<s:GetOrder {ns}><s:orderId>1</s:orderId><s:color>red</s:color></s:GetOrder>"
    reply = mock.handle(Request("POST", "/", "", {}, _envelope(unknown)))
    assert _fault(reply)[1] == "GetOrder/color"
    bad = f"<s:ListOrders {ns}><s:page>many</s:page></s:ListOrders>"
    reply = mock.handle(Request("POST", "/", "", {}, _envelope(bad)))
    message, element = _fault(reply)
    assert element == "ListOrders/page" and "not a valid" in message


def test_soap12_faults_are_sender_faults_with_status_400():
    mock = Mock(SHOP, port="ShopSoap12")
    ns = 'xmlns:s="http://example.com/shop/v1"'
    reply = mock.handle(Request("POST", "/", "", {}, _envelope(f"<s:GetOrder {ns}/>", ENV12)))
    assert reply.status == 400 and "env:Sender" in reply.body.decode()
    assert reply.content_type.startswith("application/soap+xml")


def test_not_xml_and_unknown_operations_are_client_faults():
    mock = Mock(SHOP)
    assert "not an XML document" in _fault(mock.handle(Request("POST", "/", "", {}, b"{")))[0]
    reply = mock.handle(Request("POST", "/", "", {"soapaction": '"urn:nope"'}, _envelope("<x/>")))
    assert "no operation" in _fault(reply)[0]
    assert mock.handle(Request("GET", "/")).status == 405


def test_the_wsdl_and_its_imports_are_served_pointing_at_the_mock():
    with serve(SHOP) as server:
        with SoapClient(server.url + "?wsdl", history=None) as client:
            assert client.address == server.url
            assert client.call("GetOrder", orderId="O-1").status == 200
            assert len(client.wsdl_documents) == 2  # shop-common.xsd, fetched from the mock


def test_every_answer_validates_against_the_wsdl_schema_facets_included():
    # the billing WSDL's types are a standalone XSD: patterns, bounds, enumerations
    schema = etree.XMLSchema(etree.parse(str(BILLING.with_name("billing-types.xsd"))))
    for seed in range(3):
        mock = Mock(BILLING, seed=seed)
        client = mock.engine.client
        for op in client.operations:
            envelope = client.build_envelope(op.name, soap_arguments(op.input))
            reply = mock.handle(Request("POST", "/", "", {"soapaction": op.soap_action}, envelope))
            body = etree.fromstring(reply.body).find(f"{{{ENV11}}}Body")[0]
            assert schema.validate(body), (op.name, seed, schema.error_log.last_error)
