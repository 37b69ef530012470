"""OpenAPI specs: credentials stay at the spec's origin, ``$ref`` stays where it is allowed.

- ``spec_auth`` goes only to the origin the spec came from; a ``$ref`` to another
  origin is not fetched unless ``remote_refs=`` allows it, and then without
  the spec's credentials.
- A local spec's ``$ref`` reads files only inside the spec's directory tree
  (``ref_root=`` widens it).
- A file that is not an OpenAPI document is refused without quoting it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from apinotebook import Bearer, RestClient, SpecError


def _spec(schema_ref: str, **extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://api.test"}],
        "paths": {
            "/x": {
                "get": {
                    "operationId": "getX",
                    "responses": {
                        "200": {
                            "description": "x",
                            "content": {"application/json": {"schema": {"$ref": schema_ref}}},
                        }
                    },
                }
            }
        },
        **extra,
    }


class Recorder:
    """A transport serving fixed documents and remembering who was sent what."""

    def __init__(self, routes: dict[str, dict[str, Any]]) -> None:
        self.routes = routes
        self.sent: list[tuple[str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.sent.append((url, request.headers.get("authorization")))
        if url not in self.routes:
            return httpx.Response(404)
        return httpx.Response(200, content=json.dumps(self.routes[url]).encode())


def _schema(client: Any) -> Any:
    return client.operation("getX").responses[0].schema


def test_spec_auth_is_not_sent_to_another_origin_and_the_ref_is_not_followed() -> None:
    routes = {
        "http://docs.test/api.json": _spec("http://evil.test/schemas.json#/Thing"),
        "http://evil.test/schemas.json": {"Thing": {"type": "string"}},
    }
    recorder = Recorder(routes)
    client = RestClient.from_openapi(
        "http://docs.test/api.json",
        spec_auth=Bearer("spec-secret-token"),
        transport=httpx.MockTransport(recorder),
        history=None,
    )
    schema = _schema(client)
    assert [url for url, _ in recorder.sent] == ["http://docs.test/api.json"]
    assert recorder.sent[0][1] == "Bearer spec-secret-token"
    assert "x-unresolved" in schema and "remote_refs" in schema["x-unresolved"]


def test_remote_refs_allowed_are_fetched_without_the_spec_credentials() -> None:
    routes = {
        "http://docs.test/api.json": _spec("http://schemas.test/s.json#/Thing"),
        "http://schemas.test/s.json": {"Thing": {"type": "string"}},
    }
    for allowed in (True, ["http://schemas.test"]):
        recorder = Recorder(routes)
        client = RestClient.from_openapi(
            "http://docs.test/api.json",
            spec_auth=Bearer("spec-secret-token"),
            remote_refs=allowed,
            transport=httpx.MockTransport(recorder),
            history=None,
        )
        assert _schema(client) == {"type": "string"}
        assert recorder.sent == [
            ("http://docs.test/api.json", "Bearer spec-secret-token"),
            ("http://schemas.test/s.json", None),
        ]


def test_an_allow_list_does_not_allow_other_origins() -> None:
    routes = {
        "http://docs.test/api.json": _spec("http://evil.test/s.json#/Thing"),
        "http://evil.test/s.json": {"Thing": {"type": "string"}},
    }
    recorder = Recorder(routes)
    client = RestClient.from_openapi(
        "http://docs.test/api.json",
        remote_refs=["http://schemas.test", "http://evil.test.example"],
        transport=httpx.MockTransport(recorder),
        history=None,
    )
    assert "x-unresolved" in _schema(client)
    assert len(recorder.sent) == 1


def test_same_origin_refs_still_carry_spec_auth() -> None:
    routes = {
        "http://docs.test/api.json": _spec("common.json#/Thing"),
        "http://docs.test/common.json": {"Thing": {"type": "integer"}},
    }
    recorder = Recorder(routes)
    client = RestClient.from_openapi(
        "http://docs.test/api.json",
        spec_auth=Bearer("spec-secret-token"),
        transport=httpx.MockTransport(recorder),
        history=None,
    )
    assert _schema(client) == {"type": "integer"}
    assert [auth for _, auth in recorder.sent] == ["Bearer spec-secret-token"] * 2


def test_a_redirect_to_another_origin_does_not_carry_spec_auth() -> None:
    sent: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((str(request.url), request.headers.get("authorization")))
        if request.url.host == "docs.test":
            return httpx.Response(302, headers={"Location": "http://evil.test/api.json"})
        return httpx.Response(200, content=json.dumps(_spec("#/components/x")).encode())

    RestClient.from_openapi(
        "http://docs.test/api.json",
        spec_auth=Bearer("spec-secret-token"),
        transport=httpx.MockTransport(handler),
        history=None,
    )
    assert sent[-1] == ("http://evil.test/api.json", None)


def test_a_local_spec_cannot_ref_files_outside_its_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"Thing": {"type": "string", "description": "TOPSECRET"}}))
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, ref in [
        ("abs.json", "file:///etc/hostname"),
        ("abs2.json", "/etc/hostname"),
        ("up.json", "../outside.json#/Thing"),
        ("up2.json", outside.as_uri() + "#/Thing"),
    ]:
        (specs / name).write_text(json.dumps(_spec(ref)))
        client = RestClient.from_openapi(specs / name, history=None)
        schema = _schema(client)
        assert "x-unresolved" in schema, name
        assert "TOPSECRET" not in json.dumps(schema)
        assert "ref_root" in schema["x-unresolved"]


def test_a_local_spec_can_ref_files_below_it_and_ref_root_widens_it(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.json").write_text(json.dumps({"Thing": {"type": "number"}}))
    specs = tmp_path / "specs"
    (specs / "nested").mkdir(parents=True)
    (specs / "nested" / "inner.json").write_text(json.dumps({"Thing": {"type": "boolean"}}))
    (specs / "below.json").write_text(json.dumps(_spec("nested/inner.json#/Thing")))
    (specs / "up.json").write_text(json.dumps(_spec("../shared/common.json#/Thing")))
    assert _schema(RestClient.from_openapi(specs / "below.json", history=None)) == {
        "type": "boolean"
    }
    widened = RestClient.from_openapi(specs / "up.json", ref_root=tmp_path, history=None)
    assert _schema(widened) == {"type": "number"}


def test_a_symlink_inside_the_tree_cannot_point_outside(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"Thing": {"type": "string", "description": "TOPSECRET"}}))
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "link.json").symlink_to(secret)
    (specs / "api.json").write_text(json.dumps(_spec("link.json#/Thing")))
    schema = _schema(RestClient.from_openapi(specs / "api.json", history=None))
    assert "x-unresolved" in schema and "TOPSECRET" not in json.dumps(schema)


@pytest.mark.parametrize(
    "content",
    [
        "root:*:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n",
        "password: hunter2-TOPSECRET\nuser: admin\n",
        '{"api_key": "TOPSECRET", "other": 1}',
        "openapi: TOPSECRET-not-a-version\n",
        "swagger: TOPSECRET\n",
    ],
)
def test_a_file_that_is_not_openapi_is_refused_without_quoting_it(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "shadow"
    path.write_text(content)
    with pytest.raises(SpecError) as info:
        RestClient.from_openapi(str(path), history=None)
    message = str(info.value)
    assert "TOPSECRET" not in message and "root:" not in message and "hunter2" not in message
    assert "daemon" not in message and "api_key" not in message and "password" not in message
    assert "OpenAPI" in message


def test_special_files_are_not_read_as_specs() -> None:
    with pytest.raises(SpecError, match="not a regular file"):
        RestClient.from_openapi("/dev/zero", history=None)
