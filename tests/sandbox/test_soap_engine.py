"""The SOAP engine: WSDL serving, dispatch, Faults, hostile input and auth.

The billing service is the host (it has Basic and UsernameToken auth and a
multi-file WSDL); a stand-in app over the same WSDL covers internal errors.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import zeep
from lxml import etree
from requests import Session
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from apinotebook import ConfigError
from apinotebook.sandbox import Mount, Sandbox
from apinotebook.sandbox._soap import WSDL_DIR, SoapApp, SoapAuth, SoapFaultError

NS = "http://sandbox.apinotebook.dev/billing/v1"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ACTION = NS + "/GetCustomer"


def envelope(payload: str, header: str = "", env: str = ENV, *, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<soap:Envelope xmlns:soap="{env}">'
        f"<soap:Header>{header}</soap:Header><soap:Body>{payload}</soap:Body></soap:Envelope>"
    ).encode()


GET_42 = f'<GetCustomer xmlns="{NS}"><customerId>CUST-00042</customerId></GetCustomer>'


@pytest.fixture(scope="module")
def sb():
    with Sandbox(services=("billing",), seed=5, contacts=200, companies=20) as box:
        yield box


@pytest.fixture(scope="module")
def endpoint(sb):
    return sb.url + "/billing"


@pytest.fixture(scope="module")
def basic(sb):
    return (sb.credentials["BILLING_USERNAME"], sb.credentials["BILLING_PASSWORD"])


def post(url, body, *, auth=None, action=ACTION, ctype="text/xml; charset=utf-8", **headers):
    hdrs = {"Content-Type": ctype, **headers}
    if action is not None:
        hdrs["SOAPAction"] = f'"{action}"'
    return httpx.post(url, content=body, headers=hdrs, auth=auth, timeout=5)


def fault_of(response: httpx.Response) -> dict[str, str | None]:
    assert response.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None, response.text
    info = fault.find("detail/*")
    return {
        "faultcode": fault.findtext("faultcode"),
        "faultstring": fault.findtext("faultstring"),
        "code": info.findtext(f"{{{NS}}}code") if info is not None else None,
        "detail_tag": info.tag if info is not None else None,
    }


# -- the contract --------------------------------------------------------------------


def test_wsdl_is_served_with_pinned_address_and_import(sb, endpoint):
    for url in (endpoint + "?wsdl", endpoint + "?WSDL", endpoint + "/service.wsdl"):
        r = httpx.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
        doc = etree.fromstring(r.content)
        address = doc.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
        assert address.get("location") == endpoint
        imported = doc.find(".//{http://www.w3.org/2001/XMLSchema}import")
        assert imported.get("schemaLocation") == endpoint + "/billing-types.xsd"
    xsd = httpx.get(endpoint + "/billing-types.xsd")
    assert xsd.status_code == 200 and b'name="InvoiceStatus"' in xsd.content
    assert sb.env["BILLING_WSDL"] == endpoint + "?wsdl"


def test_zeep_parses_the_wsdl_and_its_imported_xsd(sb, endpoint):
    client = zeep.Client(endpoint + "?wsdl")
    customer = client.get_type(f"{{{NS}}}Customer")
    assert [name for name, _ in customer.elements][:3] == ["id", "name", "email"]
    assert client.get_type(f"{{{NS}}}InvoiceStatus").qname.localname == "InvoiceStatus"
    invoice = dict(client.get_type(f"{{{NS}}}Invoice").elements)
    assert invoice["line"].max_occurs == "unbounded"
    assert invoice["line"].type.qname.localname == "InvoiceLine"
    binding = client.service._binding
    assert sorted(binding._operations) == [
        "GetCustomer",
        "GetInvoice",
        "ListCustomers",
        "ListInvoices",
    ]
    assert client.service._binding_options["address"] == endpoint


def test_other_paths_and_methods(endpoint):
    page = httpx.get(endpoint)
    assert page.status_code == 200 and "?wsdl" in page.text
    assert httpx.get(endpoint + "/nope.xsd").status_code == 404
    put = httpx.put(endpoint, content=b"x", headers={"Content-Type": "text/xml"})
    assert put.status_code == 405 and put.headers["allow"] == "GET, HEAD, POST"
    assert fault_of(put)["code"] == "METHOD_NOT_ALLOWED"
    wrong = httpx.post(endpoint + "/other", content=envelope(GET_42))
    assert wrong.status_code == 404 and fault_of(wrong)["faultcode"] == "soap:Client"


# -- dispatch ------------------------------------------------------------------------


def test_dispatch_by_soapaction_or_by_body_element(endpoint, basic):
    by_action = post(endpoint, envelope(GET_42), auth=basic)
    by_body = post(endpoint, envelope(GET_42), auth=basic, action=None)
    empty_action = post(endpoint, envelope(GET_42), auth=basic, action="")
    assert by_action.status_code == by_body.status_code == empty_action.status_code == 200
    assert by_action.content == by_body.content == empty_action.content
    assert b"CUST-00042" in by_action.content
    short = post(endpoint, envelope(GET_42), auth=basic, action="GetCustomer")
    assert short.status_code == 200


def test_action_and_body_must_agree(endpoint, basic):
    r = post(endpoint, envelope(GET_42), auth=basic, action=NS + "/GetInvoice")
    f = fault_of(r)
    assert r.status_code == 500 and f["code"] == "INVALID_REQUEST"
    assert "GetInvoice" in f["faultstring"] and "GetCustomer" in f["faultstring"]


# -- hostile and broken input ------------------------------------------------------------

_ENTITIES = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)).replace(
    "&lol0;", "&lol;"
)
LAUGHS = envelope(
    f'<GetCustomer xmlns="{NS}"><customerId>&lol9;</customerId></GetCustomer>',
    prolog=f'<!DOCTYPE lolz [<!ENTITY lol "lol">{_ENTITIES}]>',
)
XXE = envelope(
    f'<GetCustomer xmlns="{NS}"><customerId>&xxe;</customerId></GetCustomer>',
    prolog='<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
)

BAD_INPUT = [
    ("empty", b"", ACTION, "EMPTY_BODY", "empty"),
    ("whitespace", b"  \n ", ACTION, "EMPTY_BODY", "empty"),
    ("garbage", bytes(range(256)) * 4, ACTION, "INVALID_XML", "not well-formed"),
    ("text", b"hello, is this SOAP?", ACTION, "INVALID_XML", "not well-formed"),
    ("truncated", envelope(GET_42)[:-30], ACTION, "INVALID_XML", "not well-formed"),
    ("not-envelope", f"<GetCustomer xmlns='{NS}'/>".encode(), ACTION, "NOT_AN_ENVELOPE", "root"),
    (
        "soap12",
        envelope(GET_42, env="http://www.w3.org/2003/05/soap-envelope"),
        ACTION,
        "VERSION_MISMATCH",
        "SOAP 1.2",
    ),
    ("no-body", f"<soap:Envelope xmlns:soap='{ENV}'/>".encode(), ACTION, "MISSING_BODY", "Body"),
    ("empty-body", envelope(""), ACTION, "INVALID_REQUEST", "exactly one"),
    ("two-payloads", envelope(GET_42 + GET_42), ACTION, "INVALID_REQUEST", "exactly one"),
    (
        "wrong-namespace",
        envelope("<GetCustomer xmlns='urn:other'><customerId>x</customerId></GetCustomer>"),
        None,
        "INVALID_REQUEST",
        "namespace",
    ),
    ("unknown-element", envelope(f"<Refund xmlns='{NS}'/>"), None, "UNKNOWN_OPERATION", "Refund"),
    ("unknown-action", envelope(GET_42), NS + "/Refund", "UNKNOWN_OPERATION", "ListInvoices"),
    (
        "missing-element",
        envelope(f"<GetCustomer xmlns='{NS}'/>"),
        ACTION,
        "INVALID_REQUEST",
        "customerId",
    ),
    (
        "wrong-type",
        envelope(f"<ListCustomers xmlns='{NS}'><page>abc</page></ListCustomers>"),
        None,
        "INVALID_REQUEST",
        "'abc' is not a valid value",
    ),
    (
        "out-of-range",
        envelope(f"<ListCustomers xmlns='{NS}'><pageSize>1000</pageSize></ListCustomers>"),
        None,
        "INVALID_REQUEST",
        "pageSize",
    ),
    (
        "bad-enum",
        envelope(f"<ListInvoices xmlns='{NS}'><status>LOST</status></ListInvoices>"),
        None,
        "INVALID_REQUEST",
        "LOST",
    ),
    (
        "unknown-child",
        envelope(f"<GetCustomer xmlns='{NS}'><customerId>a</customerId><x/></GetCustomer>"),
        ACTION,
        "INVALID_REQUEST",
        "not expected",
    ),
    ("xxe", XXE, ACTION, "DTD_FORBIDDEN", "DOCTYPE"),
    ("billion-laughs", LAUGHS, ACTION, "DTD_FORBIDDEN", "DOCTYPE"),
]


@pytest.mark.parametrize(
    ("body", "action", "code", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_gets_a_client_fault(endpoint, basic, body, action, code, message):
    started = time.perf_counter()
    r = post(endpoint, body, auth=basic, action=action)
    assert time.perf_counter() - started < 2
    f = fault_of(r)
    assert r.status_code == 500
    expected = "soap:VersionMismatch" if code == "VERSION_MISMATCH" else "soap:Client"
    assert (f["faultcode"], f["code"]) == (expected, code)
    assert message in f["faultstring"]
    assert "Traceback" not in r.text and "root:" not in r.text


def test_must_understand_header_is_refused(endpoint, basic):
    header = "<t:Trace xmlns:t='urn:trace' soap:mustUnderstand='1'>x</t:Trace>"
    r = post(endpoint, envelope(GET_42, header=header), auth=basic)
    f = fault_of(r)
    assert f["faultcode"] == "soap:MustUnderstand" and "Trace" in f["faultstring"]
    optional = "<t:Trace xmlns:t='urn:trace'>x</t:Trace>"
    assert post(endpoint, envelope(GET_42, header=optional), auth=basic).status_code == 200


@pytest.mark.parametrize("ctype", ["application/json", "application/soap+xml", ""])
def test_wrong_content_type_gets_415_with_a_fault(endpoint, basic, ctype):
    r = post(endpoint, envelope(GET_42), auth=basic, ctype=ctype)
    f = fault_of(r)
    assert r.status_code == 415 and f["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "text/xml" in f["faultstring"]
    if "soap+xml" in ctype:
        assert "SOAP 1.2" in f["faultstring"]


def test_oversized_body_gets_413_fault_from_the_guard(endpoint, basic):
    big = envelope(f"<GetCustomer xmlns='{NS}'><customerId>{'x' * (9 << 20)}</customerId>")
    r = post(endpoint, big, auth=basic)
    assert r.status_code == 413
    root = etree.fromstring(r.content)
    assert root.findtext(f"{{{ENV}}}Body/{{{ENV}}}Fault/faultcode") == "soap:Client"


def test_injected_faults_render_as_soap(sb, endpoint, basic):
    sb.set_faults("billing", error_rate=1.0, error_statuses=[503])
    try:
        r = post(endpoint, envelope(GET_42), auth=basic)
    finally:
        sb.set_faults("billing")
    assert r.status_code == 503
    assert etree.fromstring(r.content).find(f"{{{ENV}}}Body/{{{ENV}}}Fault") is not None


# -- authentication -----------------------------------------------------------------------


def zeep_client(endpoint, *, basic=None, wsse=None):
    session = Session()
    session.auth = basic
    return zeep.Client(endpoint + "?wsdl", transport=Transport(session=session), wsse=wsse)


def test_no_credentials_get_401_with_challenge(endpoint):
    r = post(endpoint, envelope(GET_42))
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Basic realm="billing"')
    f = fault_of(r)
    assert f["code"] == "AUTH_REQUIRED" and "BILLING_USERNAME" in f["faultstring"]


@pytest.mark.parametrize(
    "auth",
    [("billing-demo", "wrong"), ("someone", None), "garbage"],
    ids=["bad-password", "bad-user", "malformed"],
)
def test_bad_basic_credentials_get_401(endpoint, basic, auth):
    if auth == "garbage":
        r = post(endpoint, envelope(GET_42), Authorization="Basic !!!notbase64")
    else:
        user, password = auth
        r = post(endpoint, envelope(GET_42), auth=(user, password or basic[1]))
    assert r.status_code == 401 and "www-authenticate" in r.headers
    assert fault_of(r)["code"] == "AUTH_FAILED"


def test_basic_ok_with_zeep(endpoint, basic):
    customer = zeep_client(endpoint, basic=basic).service.GetCustomer("CUST-00007")
    assert customer.id == "CUST-00007"


@pytest.mark.parametrize("digest", [False, True], ids=["PasswordText", "PasswordDigest"])
def test_username_token_ok(endpoint, basic, digest):
    token = UsernameToken(basic[0], basic[1], use_digest=digest)
    customer = zeep_client(endpoint, wsse=token).service.GetCustomer("CUST-00008")
    assert customer.id == "CUST-00008"


@pytest.mark.parametrize("digest", [False, True], ids=["PasswordText", "PasswordDigest"])
def test_bad_username_token_is_failed_authentication(endpoint, basic, digest):
    client = zeep_client(endpoint, wsse=UsernameToken(basic[0], "nope", use_digest=digest))
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.GetCustomer("CUST-00008")
    assert info.value.code == "wsse:FailedAuthentication"
    assert info.value.detail.find(f"{{{NS}}}ErrorInfo/{{{NS}}}code").text == "AUTH_FAILED"


def test_digest_nonce_cannot_be_replayed(endpoint, basic):
    token = UsernameToken(basic[0], basic[1], use_digest=True, nonce="same-nonce-every-time")
    client = zeep_client(endpoint, wsse=token)
    client.service.GetCustomer("CUST-00001")
    with pytest.raises(zeep.exceptions.Fault, match="Nonce was already used"):
        client.service.GetCustomer("CUST-00001")


def test_stale_digest_is_message_expired(endpoint, basic):
    old = datetime.now(UTC) - timedelta(hours=1)
    token = UsernameToken(basic[0], basic[1], use_digest=True, created=old)
    with pytest.raises(zeep.exceptions.Fault) as info:
        zeep_client(endpoint, wsse=token).service.GetCustomer("CUST-00001")
    assert info.value.code == "wsse:MessageExpired"


def test_unknown_password_type_is_invalid_security(endpoint, basic):
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    header = (
        f"<wsse:Security xmlns:wsse='{wsse}'><wsse:UsernameToken>"
        f"<wsse:Username>{basic[0]}</wsse:Username>"
        f"<wsse:Password Type='#PasswordRot13'>{basic[1]}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security>"
    )
    f = fault_of(post(endpoint, envelope(GET_42, header=header)))
    assert f["faultcode"] == "wsse:InvalidSecurity" and "PasswordRot13" in f["faultstring"]


def test_basic_and_token_must_both_pass_when_both_sent(endpoint, basic):
    client = zeep_client(endpoint, basic=basic, wsse=UsernameToken(basic[0], "nope"))
    with pytest.raises(zeep.exceptions.Fault, match="UsernameToken was rejected"):
        client.service.GetCustomer("CUST-00001")


# -- engine contract ------------------------------------------------------------------------


def test_handler_errors_are_server_faults_without_traceback(caplog):
    def boom(params):
        raise RuntimeError("secret internals")

    def nonsense(params):
        return {"customer": {"no_such_field": 1}}

    def not_found(params):
        raise SoapFaultError("CUSTOMER_NOT_FOUND", "gone", detail={"id": params["customerId"]})

    handlers = {
        "ListCustomers": boom,
        "GetCustomer": not_found,
        "ListInvoices": nonsense,
        "GetInvoice": boom,
    }
    app = SoapApp(WSDL_DIR / "billing.wsdl", address="http://127.0.0.1/legacy", handlers=handlers)
    with Sandbox(services=(), extra_mounts=[Mount("/legacy", app, "legacy", "soap11")]) as box:
        url = box.url + "/legacy"
        for payload in (f"<ListCustomers xmlns='{NS}'/>", f"<ListInvoices xmlns='{NS}'/>"):
            r = post(url, envelope(payload), action=None)
            f = fault_of(r)
            assert r.status_code == 500 and f["faultcode"] == "soap:Server"
            assert f["code"] == "INTERNAL_ERROR" and "secret" not in r.text
        r = post(url, envelope(GET_42))
        assert fault_of(r)["code"] == "CUSTOMER_NOT_FOUND"
        assert etree.fromstring(r.content).findtext(f".//{{{NS}}}id") == "CUST-00042"
    assert "RuntimeError" in caplog.text


def test_handlers_must_match_the_binding():
    ok = dict.fromkeys(["ListCustomers", "GetCustomer", "ListInvoices", "GetInvoice"], dict)
    with pytest.raises(ConfigError, match="no handler"):
        SoapApp(WSDL_DIR / "billing.wsdl", address="http://x", handlers={"GetCustomer": dict})
    with pytest.raises(ConfigError, match="Refund"):
        SoapApp(WSDL_DIR / "billing.wsdl", address="http://x", handlers={**ok, "Refund": dict})


def test_open_service_needs_no_auth_and_latency_is_applied():
    def one(params):
        return {"customer": {"id": params["customerId"], "name": "n", "email": "e",
                             "company": "c", "address": {"street": "s", "city": "c",
                             "postalCode": "1", "country": "DE"},
                             "balanceDue": "0.00", "currency": "EUR"}}  # fmt: skip

    handlers = dict.fromkeys(["ListCustomers", "ListInvoices", "GetInvoice"], dict)
    app = SoapApp(
        WSDL_DIR / "billing.wsdl",
        address="http://127.0.0.1/open",
        handlers={**handlers, "GetCustomer": one},
        auth=None,
        latency=0.2,
    )
    with Sandbox(services=(), extra_mounts=[Mount("/open", app, "open", "soap11")]) as box:
        started = time.perf_counter()
        r = post(box.url + "/open", envelope(GET_42))
        assert time.perf_counter() - started >= 0.2
    assert r.status_code == 200 and b"CUST-00042" in r.content


def test_basic_only_auth_refuses_tokens():
    auth = SoapAuth("u", "p", username_token=False)
    handlers = dict.fromkeys(["ListCustomers", "GetCustomer", "ListInvoices", "GetInvoice"], dict)
    app = SoapApp(WSDL_DIR / "billing.wsdl", address="http://x", handlers=handlers, auth=auth)
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    header = (
        f"<wsse:Security xmlns:wsse='{wsse}'><wsse:UsernameToken><wsse:Username>u</wsse:Username>"
        "<wsse:Password>p</wsse:Password></wsse:UsernameToken></wsse:Security>"
    )
    with pytest.raises(SoapFaultError) as info:
        app.handle(envelope(GET_42, header=header), {"content-type": "text/xml"})
    assert info.value.status == 401 and "HTTP Basic" in info.value.message
    token = base64.b64encode(b"u:p").decode()
    headers = {"content-type": "text/xml", "authorization": f"Basic {token}"}
    with pytest.raises(SoapFaultError, match="Internal error"):  # an echo is no response
        app.handle(envelope(GET_42), headers)
