"""One sandbox (CRM, mail, billing) for the contract tests; faults are cleared after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apinotebook import ApiKey, Basic, Bearer, RestClient
from apinotebook.graphql import GraphQLClient
from apinotebook.sandbox import Sandbox
from apinotebook.soap import SoapClient


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(services=("crm", "mail", "billing"), seed=3, contacts=60) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "box" in request.fixturenames:
        request.getfixturevalue("box").set_faults()


@pytest.fixture
def crm(box: Sandbox) -> Iterator[RestClient]:
    spec = box.urls["crm"] + "/openapi.json"
    with RestClient.from_openapi(spec, auth=Bearer(box.env["CRM_TOKEN"]), history=None) as c:
        yield c


@pytest.fixture
def mail(box: Sandbox) -> Iterator[GraphQLClient]:
    key = ApiKey(box.env["MAIL_API_KEY"], header="X-API-Key")
    with GraphQLClient(box.urls["mail"], auth=key, history=None) as c:
        yield c


@pytest.fixture
def billing(box: Sandbox) -> Iterator[SoapClient]:
    auth = Basic(box.env["BILLING_USERNAME"], box.env["BILLING_PASSWORD"])
    with SoapClient(box.urls["billing"], auth=auth, history=None) as c:
        yield c
