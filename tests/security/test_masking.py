"""Secrets are masked by value and by a broad name rule, everywhere (issue 13).

Each test failed on the code before the fix: unknown credential header names in
clear and forwarded across origins, Basic's base64 unmasked, httpx's own log
line carrying ?api_key=, a client's repr with its URL password, nested and
text/plain JSON and multipart passwords in clear.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from apinotebook import Basic, Exchange, Request, RestClient, Secret
from apinotebook._core.secrets import is_sensitive_header, mask_body

KEY = "k-7f3a9c2e5b1d"


def _redirecting(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.test":
            return httpx.Response(302, headers={"Location": "http://elsewhere.test/landing"})
        return httpx.Response(200, json={"echo": dict(request.headers)})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("header", ["X-Auth-Key", "Ocp-Apim-Subscription-Key"])
def test_unknown_credential_headers_are_masked_and_stay_on_their_origin(header):
    seen: list[httpx.Request] = []
    client = RestClient("http://api.test", headers={header: KEY}, transport=_redirecting(seen))
    ex = client.get("/start")
    assert header.lower() in seen[0].headers  # sent to its own origin
    assert header.lower() not in seen[1].headers  # not to the next one
    rendered = ex.to_curl() + json.dumps(ex.to_dict()) + ex._repr_html_()
    assert KEY not in rendered


def test_a_secret_under_an_innocent_header_name_never_crosses_origins():
    seen: list[httpx.Request] = []
    value = Secret("v-91c0ffee-2b3c")
    client = RestClient(
        "http://api.test", headers={"X-Custom": value.reveal()}, transport=_redirecting(seen)
    )
    ex = client.get("/start")
    assert seen[0].headers["x-custom"] == value.reveal()
    assert "x-custom" not in seen[1].headers
    assert value.reveal() not in ex.to_curl() and value.reveal() not in ex.text.replace(
        value.reveal(), ""
    )


def test_idempotency_keys_are_not_secrets():
    assert not is_sensitive_header("Idempotency-Key")
    assert is_sensitive_header("X-Api-Token") and is_sensitive_header("Ocp-Apim-Subscription-Key")
    assert not is_sensitive_header("Author") and not is_sensitive_header("Content-Type")


def test_basic_auth_header_value_is_masked_where_a_server_echoes_it():
    seen: list[httpx.Request] = []
    client = RestClient(
        "http://echo.test", auth=Basic("ada", Secret("correct-horse")), transport=_redirecting(seen)
    )
    ex = client.get("/whoami")
    sent = seen[0].headers["authorization"].partition(" ")[2]
    assert sent in ex.text  # the server echoed it back
    shown = ex._repr_html_() + json.dumps(ex.to_dict()) + repr(ex.json())
    assert sent not in ex._repr_html_() and sent not in json.dumps(ex.to_dict())
    assert shown.count(sent) <= 1  # only repr(ex.json()) is raw data


def test_httpx_log_lines_are_masked(caplog):
    client = RestClient(
        "http://api.test",
        transport=httpx.MockTransport(lambda r: httpx.Response(200)),
    )
    with caplog.at_level(logging.DEBUG, logger="httpx"):
        client.get("/items", params={"api_key": KEY, "page": 2})
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("httpx")]
    assert lines and any("HTTP Request" in line for line in lines)
    assert all(KEY not in line for line in lines)
    assert any("page=2" in line for line in lines)


def test_a_clients_repr_hides_the_password_in_its_url():
    assert "pw-9x8y" not in repr(RestClient("http://bob:pw-9x8y@api.test"))


@pytest.mark.parametrize(
    ("body", "ctype", "hidden"),
    [
        ('{"passwords": ["hunter2-a", "hunter2-b"]}', "application/json", "hunter2-a"),
        ('{"user": {"auth": {"password": "hunter2-c"}}}', "application/json", "hunter2-c"),
        ('{"password": "hunter2-d"}', "text/plain", "hunter2-d"),
        (
            '--xx\r\nContent-Disposition: form-data; name="password"\r\n\r\n'
            "hunter2-e\r\n--xx--\r\n",
            "multipart/form-data; boundary=xx",
            "hunter2-e",
        ),
    ],
)
def test_bodies_are_masked_however_they_are_sent(body, ctype, hidden):
    assert hidden not in mask_body(body, ctype)
    ex = Exchange(
        protocol="rest",
        request=Request("POST", "http://api.test/login", {"Content-Type": ctype}, body.encode()),
        status=200,
        headers={},
        content=b"{}",
        elapsed=0.01,
    )
    assert hidden not in json.dumps(ex.to_dict()) and hidden not in ex._repr_html_()
