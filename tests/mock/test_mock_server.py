"""Serving mocks: serve(), Sandbox(mocks=...), the command line, kinds and errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from apinotebook import ConfigError, RestClient, SpecError
from apinotebook.mock import Mock, serve
from apinotebook.mock._server import detect_kind
from apinotebook.sandbox import Sandbox

ROOT = Path(__file__).parents[2]
PETSTORE = ROOT / "tests" / "fixtures" / "openapi" / "petstore-3.0.json"
MAIL = ROOT / "tests" / "fixtures" / "graphql" / "mail.graphql"
INTROSPECTION = ROOT / "tests" / "fixtures" / "graphql" / "mail_introspection.json"
SHOP = ROOT / "tests" / "fixtures" / "soap" / "shop.wsdl"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        (PETSTORE, "openapi"),
        (MAIL, "graphql"),
        (INTROSPECTION, "graphql"),
        (SHOP, "wsdl"),
        ("type Query { a: Int }", "graphql"),
        ("openapi: 3.0.0\ninfo: {}", "openapi"),
        ("<definitions/>", "wsdl"),
        ({"openapi": "3.1.0"}, "openapi"),
        ({"data": {"__schema": {}}}, "graphql"),
    ],  # fmt: skip
)
def test_the_kind_is_told_from_the_description(spec, kind):
    assert detect_kind(spec) == kind


def test_serve_binds_loopback_and_stops_cleanly():
    server = serve(PETSTORE)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, body = _get(server.url + "/pets")
        assert status == 200 and isinstance(json.loads(body), list)
    finally:
        server.stop()
    assert not server.sandbox.running
    with pytest.raises(ConfigError, match="not running"):
        _ = server.url


def test_several_mocks_share_one_port_by_name():
    with serve(PETSTORE, MAIL, SHOP) as server:
        assert set(server.urls) == {"petstore-3-0", "mail", "shop"}
        assert _get(server.urls["shop"] + "?wsdl")[0] == 200
        assert _get(server.urls["petstore-3-0"] + "/nope")[0] == 404


def test_a_mock_beside_the_demo_services_with_faults_and_stats():
    mock = Mock(PETSTORE, name="pets")
    with Sandbox(services=("crm",), mocks=[mock], contacts=5) as sb:
        url = sb.urls["mocks"]["pets"]
        assert sb.env["MOCK_PETS_URL"] == url
        with RestClient.from_openapi(PETSTORE, base_url=url, history=None, retry=False) as client:
            assert client.call("listPets").status == 200
            sb.set_faults("mock.pets", error_rate=1.0)
            assert client.call("listPets").status >= 500
        assert sb.stats()["mock.pets"]["total"] == 2
        assert sb.state("mock.pets") is mock


def test_unknown_kinds_and_unreadable_descriptions_are_typed_errors(tmp_path):
    with pytest.raises(ConfigError, match="kind"):
        Mock(PETSTORE, kind="corba")
    bad = tmp_path / "broken.yaml"
    bad.write_text("just: [a, list")
    with pytest.raises(SpecError):
        Mock(bad)
    with pytest.raises(ConfigError, match="prefix"):
        Mock(PETSTORE).mount("pets")
    with pytest.raises(ConfigError):
        serve()


def test_the_command_line_serves_until_terminated():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apinotebook.cli",
            "mock",
            str(PETSTORE),
            "--seed",
            "3",
            "--stateful",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        name, url = proc.stdout.readline().split()
        assert name == "petstore-3-0" and url.startswith("http://127.0.0.1:")
        assert _get(url + "/pets/1")[0] == 404  # stateful: nothing stored yet
        assert _get(url + "/pets")[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)  # waits, and closes the pipes
    assert proc.returncode in (0, -signal.SIGTERM)


def test_the_command_line_reports_a_bad_file_in_one_line(tmp_path, capsys):
    from apinotebook.cli import main

    missing = tmp_path / "missing.yaml"
    assert main(["mock", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("apinotebook: error:") and "missing.yaml" in err


def test_a_handler_that_breaks_answers_500_and_the_server_lives_on(caplog):
    import asyncio

    from apinotebook.mock._asgi import asgi_app

    def broken(request):
        raise KeyError("boom")

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""}
    asyncio.run(asgi_app(broken)(scope, receive, send))
    assert sent[0]["status"] == 500
    assert b"KeyError" in sent[1]["body"]
    assert "the mock failed" in caplog.text
