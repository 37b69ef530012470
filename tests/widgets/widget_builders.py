"""Shared builders for the widget tests: exchanges made by hand, no network."""

from __future__ import annotations

import json
from typing import Any

from apinotebook import Exchange, Request, Secret

#: a registered secret: every rendering must mask it
TOKEN = Secret("tok-5ecret-value-42", name="TEST_TOKEN").reveal()

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BILL_NS = "urn:billing"
SOAP_REPLY = f"""<?xml version="1.0"?>
<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>
<b:GetInvoiceResponse xmlns:b="{BILL_NS}"><b:invoice id="INV-1">
<b:line><b:sku>A</b:sku><b:amount>3.50</b:amount></b:line>
<b:line><b:sku>B</b:sku><b:amount>1.25</b:amount></b:line>
<b:password>{TOKEN}</b:password><b:note>see {TOKEN}</b:note>
</b:invoice></b:GetInvoiceResponse></soap:Body></soap:Envelope>""".encode()
SOAP_REQUEST = f"""<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Header><wsse:Security
xmlns:wsse="urn:wsse"><wsse:Password>{TOKEN}</wsse:Password></wsse:Security></soap:Header>
<soap:Body><b:GetInvoice xmlns:b="{BILL_NS}"><b:invoiceId>INV-1</b:invoiceId>
<b:filter><b:year>2024</b:year></b:filter></b:GetInvoice></soap:Body></soap:Envelope>""".encode()


def rest_exchange(body: Any, *, status: int = 200, **kwargs: Any) -> Exchange:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = kwargs.pop(
        "request",
        Request(
            "POST",
            f"https://api.example/contacts?api_key={TOKEN}&page=2",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            content=json.dumps({"email": "ada@example.com", "password": TOKEN}).encode(),
        ),
    )
    return Exchange(
        protocol=kwargs.pop("protocol", "rest"),
        request=request,
        status=status,
        headers=kwargs.pop("headers", {"content-type": "application/json", "x-token": TOKEN}),
        content=content,
        elapsed=0.0123,
        **kwargs,
    )


def soap_exchange(*, fault: dict[str, Any] | None = None) -> Exchange:
    payload: Any = {"id": "INV-1", "line": [{"sku": "A", "amount": "3.50"}], "password": TOKEN}
    return Exchange(
        protocol="soap",
        request=Request(
            "POST",
            "https://billing.example/soap",
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "GetInvoice"},
            content=SOAP_REQUEST,
        ),
        status=500 if fault else 200,
        headers={"content-type": "text/xml; charset=utf-8"},
        content=SOAP_REPLY,
        operation="GetInvoice",
        payload=None if fault else payload,
        meta={"fault": fault} if fault else None,
    )


CONTACTS = {
    "data": [
        {"id": i, "email": f"user{i}@example.com", "api_key": TOKEN, "tags": ["a", "b"]}
        for i in range(250)
    ],
    "meta": {"odd key": {"it's": [1, 2]}, "next": None, "note": f"token {TOKEN} here"},
}
