"""The AeroCorp SOAP fare provider, through zeep with a WS-Security UsernameToken."""

from __future__ import annotations

import time
from datetime import date, timedelta
from datetime import time as dtime
from decimal import Decimal

import httpx
import pytest
import zeep
from lxml import etree
from requests import Session
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from apinotebook.sandbox import Sandbox, _flights

NS = "http://aerocorp.example/fares/2009/03"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SEED = 9
DAY = date(2026, 12, 5)


def _sandbox(scale: float) -> Sandbox:
    return Sandbox(services=("fares",), seed=SEED, options={"fares": {"latency_scale": scale}})


@pytest.fixture(scope="module")
def sb():
    with _sandbox(0.0) as box:
        yield box


@pytest.fixture(scope="module")
def token(sb):
    return UsernameToken(
        sb.credentials["FARES_AEROCORP_USERNAME"], sb.credentials["FARES_AEROCORP_PASSWORD"]
    )


@pytest.fixture(scope="module")
def client(sb, token):
    return zeep.Client(sb.env["FARES_AEROCORP_WSDL"], wsse=token)


def detail(fault: zeep.exceptions.Fault) -> dict[str, list[str]]:
    info = fault.detail.find(f"{{{NS}}}AeroCorpFault")
    out: dict[str, list[str]] = {}
    for child in info:
        out.setdefault(etree.QName(child).localname, []).append(child.text)
    return out


def test_mount_urls_and_pinned_wsdl(sb):
    url = sb.url + "/fares/aerocorp"
    assert sb.urls["fares"]["aerocorp"] == url + "?wsdl"
    assert sb.env["FARES_AEROCORP_WSDL"] == url + "?wsdl"
    wsdl = etree.fromstring(httpx.get(url + "?wsdl").content)
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == url
    assert sb.app.mount("fares.aerocorp").error_format == "soap11"


def test_search_matches_the_shared_flights(client):
    options = client.service.SearchFlights(Origin="LHR", Destination="JFK", DepartureDate=DAY)
    flights = _flights.search(SEED, "LHR", "JFK", DAY)
    assert len(options) == len(flights) >= 2
    for option, flight in zip(options, flights, strict=True):
        assert option.FlightNumber == flight.number and option.Carrier == flight.carrier
        assert (option.Origin, option.Destination) == ("LHR", "JFK")
        assert option.DepartureDate == flight.departs_at.date()
        assert option.DepartureTime.replace(tzinfo=None) == flight.departs_at.time()
        assert option.DepartureTime.utcoffset() == timedelta(0)
        assert option.DurationHours == (Decimal(flight.duration_minutes) / 60).quantize(
            Decimal("0.01")
        )
        assert (option.Stops, option.SeatsAvailable) == (flight.stops, flight.seats_left)
        assert option.Fare.currency == "GBP"
        gbp = option.Fare._value_1
        assert gbp == gbp.quantize(Decimal("0.01"))
        usd = float(gbp) * _flights.USD_PER["GBP"]
        assert abs(usd - _flights.price_usd(flight, "aerocorp")) <= 0.01


def test_raw_xml_has_gbp_attribute_and_utc_time(sb, client):
    message = client.create_message(
        client.service, "SearchFlights", Origin="cdg", Destination="mad", DepartureDate=DAY
    )
    token = UsernameToken(
        sb.credentials["FARES_AEROCORP_USERNAME"], sb.credentials["FARES_AEROCORP_PASSWORD"]
    )
    token.apply(message, {})
    r = httpx.post(
        sb.url + "/fares/aerocorp",
        content=etree.tostring(message),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    assert r.status_code == 200
    doc = etree.fromstring(r.content)
    fares = doc.findall(f".//{{{NS}}}Fare")
    assert fares and all(f.get("currency") == "GBP" for f in fares)
    times = [t.text for t in doc.iter(f"{{{NS}}}DepartureTime")]
    assert times and all(t.endswith("Z") for t in times)
    assert {o.text for o in doc.iter(f"{{{NS}}}Origin")} == {"CDG"}


def test_get_flight(client):
    flight = _flights.search(SEED, "AMS", "SFO", DAY)[0]
    option = client.service.GetFlight(FlightNumber=flight.number, DepartureDate=DAY)
    assert option.FlightNumber == flight.number
    assert option.DepartureTime == dtime(
        flight.departs_at.hour, flight.departs_at.minute, tzinfo=option.DepartureTime.tzinfo
    )
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.GetFlight(FlightNumber="ZZ1", DepartureDate=DAY)
    assert detail(info.value)["Code"] == ["FLIGHT_NOT_FOUND"]


@pytest.mark.parametrize(
    ("origin", "destination", "day", "code", "field"),
    [
        ("XYZ", "JFK", DAY, "UNKNOWN_AIRPORT", "ValidAirport"),
        ("LHR", "London", DAY, "UNKNOWN_AIRPORT", "ValidAirport"),
        ("LHR", "lhr", DAY, "SAME_AIRPORT", "Message"),
        ("LHR", "JFK", date(2026, 1, 1), "DATE_OUT_OF_RANGE", "FirstDate"),
        ("LHR", "JFK", date(2027, 1, 30), "DATE_OUT_OF_RANGE", "LastDate"),
    ],
)
def test_bad_search_is_a_client_fault_with_what_is_valid(
    client, origin, destination, day, code, field
):
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.SearchFlights(Origin=origin, Destination=destination, DepartureDate=day)
    assert info.value.code == "soap:Client"
    got = detail(info.value)
    assert got["Code"] == [code] and field in got
    if field == "ValidAirport":
        assert got["ValidAirport"] == sorted(_flights.AIRPORTS)
    if code == "DATE_OUT_OF_RANGE":
        assert got["FirstDate"] == ["2026-12-01"] and got["LastDate"] == ["2027-01-29"]


def test_first_and_last_days_are_searchable(client):
    for day in (date(2026, 12, 1), date(2027, 1, 29)):
        assert client.service.SearchFlights(Origin="lhr", Destination="jfk", DepartureDate=day)


def test_malformed_date_is_invalid_request(sb, token):
    body = (
        f'<soap:Envelope xmlns:soap="{ENV}"><soap:Body><SearchFlights xmlns="{NS}">'
        "<Origin>LHR</Origin><Destination>JFK</Destination>"
        "<DepartureDate>05/12/2026</DepartureDate></SearchFlights></soap:Body></soap:Envelope>"
    )
    doc = etree.fromstring(body)
    token.apply(doc, {})
    r = httpx.post(
        sb.url + "/fares/aerocorp",
        content=etree.tostring(doc),
        headers={"Content-Type": "text/xml", "SOAPAction": f'"{NS}/SearchFlights"'},
    )
    assert r.status_code == 500
    assert b"<ns0:Code>INVALID_REQUEST</ns0:Code>" in r.content
    assert b"05/12/2026" in r.content


@pytest.mark.parametrize("case", ["none", "basic", "wrong-password", "wrong-user"])
def test_auth_needs_a_valid_username_token(sb, case):
    user = sb.credentials["FARES_AEROCORP_USERNAME"]
    password = sb.credentials["FARES_AEROCORP_PASSWORD"]
    wsse = {
        "none": None,
        "basic": None,
        "wrong-password": UsernameToken(user, "wrong"),
        "wrong-user": UsernameToken("billing-demo", password),
    }[case]
    transport = None
    if case == "basic":
        session = Session()
        session.auth = (user, password)
        transport = Transport(session=session)
    client = zeep.Client(sb.env["FARES_AEROCORP_WSDL"], wsse=wsse, transport=transport)
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.SearchFlights(Origin="LHR", Destination="JFK", DepartureDate=DAY)
    assert info.value.code == "wsse:FailedAuthentication"
    if case in ("none", "basic"):
        assert "UsernameToken" in info.value.message


def test_password_digest_works(sb):
    token = UsernameToken(
        sb.credentials["FARES_AEROCORP_USERNAME"],
        sb.credentials["FARES_AEROCORP_PASSWORD"],
        use_digest=True,
    )
    client = zeep.Client(sb.env["FARES_AEROCORP_WSDL"], wsse=token)
    assert client.service.SearchFlights(Origin="BER", Destination="LIS", DepartureDate=DAY)


def test_empty_post_is_a_quick_fault(sb):
    started = time.perf_counter()
    r = httpx.post(sb.url + "/fares/aerocorp", content=b"", headers={"Content-Type": "text/xml"})
    assert time.perf_counter() - started < 1
    assert r.status_code == 500 and b"EMPTY_BODY" in r.content


def test_latency_is_about_150ms_and_scales(client, token):
    with _sandbox(1.0) as box:
        slow_client = zeep.Client(box.env["FARES_AEROCORP_WSDL"], wsse=token)
        started = time.perf_counter()
        slow_client.service.SearchFlights(Origin="LHR", Destination="JFK", DepartureDate=DAY)
        slow = time.perf_counter() - started
    client.service.SearchFlights(Origin="LHR", Destination="JFK", DepartureDate=DAY)
    started = time.perf_counter()
    client.service.SearchFlights(Origin="LHR", Destination="JFK", DepartureDate=DAY)
    fast = time.perf_counter() - started
    assert 0.15 <= slow < 1.0 and fast < 0.1
