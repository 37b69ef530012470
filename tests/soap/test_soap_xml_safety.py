"""SOAP XML safety: DTDs refused, imports kept on the WSDL's origin, unreadable WSDLs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree
from soap_shop import (
    BILLION_LAUGHS,
    ENV11,
    FIXTURES,
    PASSWORD,
    SHOP_NS,
    SHOP_WSDL,
    XXE,
    Shop,
    envelope,
)

from apinotebook import (
    Basic,
    ConfigError,
    DecodeError,
    HTTPStatusError,
    SpecError,
)
from apinotebook.soap import (
    SoapClient,
)

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
