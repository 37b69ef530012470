"""Only ApiNotebookError escapes: hostile bodies, specs, commands and cells (issue 13).

The first tests pin the cases that once escaped as raw exceptions; the
property-based ones throw arbitrary input at every decoder, spec loader and
parser and assert that whatever happens is an ``ApiNotebookError`` (or success).
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apinotebook import (
    ApiNotebookError,
    DecodeError,
    Exchange,
    ProtocolError,
    Request,
    RestClient,
    SoapFault,
    SpecError,
)
from apinotebook._core.cellsyntax import parse_cell
from apinotebook.curl import parse_curl

DEEP = b"[" * 100_000 + b"]" * 100_000


def exchange(content: bytes, *, protocol: str = "rest", ctype: str = "application/json"):
    return Exchange(
        protocol=protocol,  # type: ignore[arg-type]
        request=Request("POST", "http://api.test/x", {}, b""),
        status=200,
        headers={"Content-Type": ctype},
        content=content,
        elapsed=0.01,
    )


def test_deeply_nested_json_is_a_decode_error_not_a_recursion_error():
    ex = exchange(DEEP)
    with pytest.raises(DecodeError, match="nested too deeply"):
        ex.json()
    assert ex.to_dict()["response"]["size"] == len(DEEP)
    assert "apinotebook-exchange" in ex._repr_html_()
    assert ex.summary()


@pytest.mark.parametrize(
    "spec",
    [
        "[" * 100_000,
        "a: " + "[" * 100_000,
        "x" * 5000 + ".json",
        "y" * 5000,
    ],
    ids=["deep-json", "deep-yaml", "long-file-name", "long-text"],
)
def test_hostile_specs_are_spec_errors(spec):
    with pytest.raises(SpecError):
        RestClient.from_openapi(spec)


def test_a_schema_type_that_is_not_a_name_is_tolerated():
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://api.test"}],
        "paths": {
            "/a": {
                "get": {
                    "operationId": "g",
                    "responses": {"200": {"description": "ok"}},
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": 5}}],
                }
            }
        },  # fmt: skip
    }
    assert RestClient.from_openapi(spec).operation("g").signature().startswith("g(")


def test_a_redirect_to_an_invalid_url_is_a_protocol_error():
    transport = httpx.MockTransport(
        lambda r: httpx.Response(302, headers={"Location": "http://[::1"})
    )
    with pytest.raises(ProtocolError, match="(?i)invalid url|location"):
        RestClient("http://api.test", transport=transport).get("/")


def test_graphql_errors_as_a_string_are_one_error():
    ex = exchange(json.dumps({"data": None, "errors": "boom"}).encode(), protocol="graphql")
    assert ex.errors == [{"message": "boom"}]


def test_a_fault_without_code_or_string_says_so():
    # what SoapClient decodes from <s:Fault><detail>x</detail></s:Fault>
    ex = exchange(b"<s:Envelope/>", protocol="soap", ctype="text/xml").replace(
        meta={"fault": {"code": None, "message": None, "detail": "x", "actor": None}}
    )
    with pytest.raises(SoapFault) as info:
        ex.raise_for_status()
    assert "None" not in str(info.value) and "no faultcode or faultstring" in str(info.value)


# -- property-based: nothing but ApiNotebookError escapes ------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)


def _only_ours(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ApiNotebookError:
        pass


@FUZZ
@given(
    body=st.binary(max_size=300) | json_like.map(lambda v: json.dumps(v).encode()),
    protocol=st.sampled_from(["rest", "graphql", "soap"]),
    ctype=st.sampled_from(["application/json", "text/xml", "text/plain", ""]),
)
def test_fuzz_exchange_decoding(body, protocol, ctype):
    ex = exchange(body, protocol=protocol, ctype=ctype)
    for step in (ex.json, lambda: ex.data, lambda: ex.errors, ex.raise_for_status):
        _only_ours(step)
    ex.to_dict()
    ex._repr_html_()
    ex.summary()


@FUZZ
@given(doc=json_like)
def test_fuzz_openapi_documents(doc):
    if isinstance(doc, dict):
        doc = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, **doc}

    def load():
        client = RestClient.from_openapi(doc, base_url="http://api.test")
        for op in client.operations:
            op.signature()

    _only_ours(load)


@FUZZ
@given(text=st.text(max_size=200))
def test_fuzz_openapi_text(text):
    _only_ours(RestClient.from_openapi, text)


@FUZZ
@given(command=st.text(max_size=200))
def test_fuzz_curl_commands(command):
    _only_ours(parse_curl, "curl " + command)


@FUZZ
@given(
    kind=st.sampled_from(["rest", "graphql", "soap"]),
    line=st.text(max_size=40),
    cell=st.text(max_size=200),
)
def test_fuzz_magic_cells(kind, line, cell):
    _only_ours(parse_cell, kind, line, cell)


def test_the_inspector_opens_a_deeply_nested_body():
    pytest.importorskip("anywidget")
    from apinotebook.widgets import Inspector

    ex = exchange(DEEP)
    assert isinstance(Inspector(ex), Inspector)  # built, not a RecursionError
    bundle = ex._repr_mimebundle_()
    assert "apinotebook-exchange" in bundle["text/html"] and "text/plain" in bundle


@FUZZ
@given(text=st.text(max_size=300))
def test_fuzz_graphql_schemas(text):
    from apinotebook import GraphQLClient

    def load():
        client = GraphQLClient("http://127.0.0.1:9/graphql", schema=text, fetch_schema=False)
        client.schema_problems  # noqa: B018 - strict validation on demand must not escape either
        client.validate("{ __typename }")

    _only_ours(load)


@FUZZ
@given(doc=json_like)
def test_fuzz_graphql_introspection(doc):
    from apinotebook import GraphQLClient

    source = {"__schema": doc} if not isinstance(doc, dict) else doc
    _only_ours(GraphQLClient, "http://127.0.0.1:9/graphql", schema=source, fetch_schema=False)


WSDL_HEAD = (
    '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
)


@FUZZ
@given(body=st.text(max_size=300) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_fuzz_wsdl_documents(tmp_path_factory, body):
    from apinotebook import SoapClient

    path = tmp_path_factory.mktemp("wsdl") / "x.wsdl"
    path.write_text(WSDL_HEAD + body + "</wsdl:definitions>", encoding="utf-8")
    _only_ours(SoapClient, str(path))
    raw = tmp_path_factory.mktemp("wsdl") / "raw.wsdl"
    raw.write_text(body, encoding="utf-8")
    _only_ours(SoapClient, str(raw))


@FUZZ
@given(source=st.text(max_size=120))
def test_fuzz_client_sources(source):
    from apinotebook import SoapClient

    _only_ours(SoapClient, source)
    _only_ours(RestClient.from_openapi, source)
