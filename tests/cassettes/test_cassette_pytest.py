"""The pytest plugin: a user's tests record once against the service, then run from cassettes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apinotebook.sandbox import Sandbox

pytestmark = pytest.mark.sandbox

USER_TESTS = """
import os

import pytest

from apinotebook import Bearer, History, RestClient, Secret


def crm():
    token = Secret(os.environ["CRM_TOKEN"])
    return RestClient(os.environ["CRM_URL"], auth=Bearer(token), history=History())


@pytest.mark.apinotebook_cassette("cassettes/crm.har")
def test_marker():
    with crm() as client:
        ex = client.get("/contacts/c_000001")
    assert ex.status == 200
    print("MARKER replayed", ex.replayed)


def test_fixture(cassette):
    with crm() as client:
        ex = client.get("/contacts", params={"limit": LIMIT})
    assert len(ex.json()["data"]) == LIMIT
    print("FIXTURE", cassette.mode, "replayed", ex.replayed)
"""


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    sb = Sandbox(services=("crm",), contacts=20, companies=2).start()
    monkeypatch.setenv("CRM_URL", sb.urls["crm"])
    monkeypatch.setenv("CRM_TOKEN", sb.env["CRM_TOKEN"])
    yield sb
    if sb.running:
        sb.stop()


def test_record_once_then_replay_in_ci(pytester: pytest.Pytester, crm: Sandbox) -> None:
    pytester.makepyfile(test_users=USER_TESTS.replace("LIMIT", "2"))
    first = pytester.runpytest("-p", "no:randomly", "-s")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*MARKER replayed False*", "*FIXTURE once replayed False*"])
    marker = pytester.path / "cassettes" / "crm.har"
    fixture = pytester.path / "cassettes" / "test_users" / "test_fixture.har"
    assert marker.exists() and fixture.exists()
    assert crm.env["CRM_TOKEN"].encode() not in marker.read_bytes() + fixture.read_bytes()

    crm.stop()  # CI: no service, no credentials worth anything
    second = pytester.runpytest("-p", "no:randomly", "-s", "--cassette-mode=replay")
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(["*MARKER replayed True*", "*FIXTURE replay replayed True*"])

    # a test whose request changed fails, naming the recorded request
    pytester.makepyfile(test_users=USER_TESTS.replace("LIMIT", "3"))
    third = pytester.runpytest("-p", "no:randomly", "--cassette-mode=replay")
    third.assert_outcomes(passed=1, failed=1)
    third.stdout.fnmatch_lines(["*UnmatchedRequestError*limit='3' (recorded '2')*"])

    # and a test with no recording fails in replay mode instead of reaching for the network
    fixture.unlink()
    fourth = pytester.runpytest("-p", "no:randomly", "--cassette-mode=replay")
    fourth.assert_outcomes(passed=1, errors=1)
    fourth.stdout.fnmatch_lines(["*CassetteError: no cassette at*test_fixture.har*"])


def test_the_marker_takes_a_mode_and_matching_options(pytester: pytest.Pytester, crm) -> None:
    pytester.makepyfile(
        test_options="""
import os, time
import pytest
from apinotebook import Bearer, History, RestClient, Secret

@pytest.mark.apinotebook_cassette("c.har", mode="new_episodes", ignore_query=["ts"])
def test_ignored_parameter():
    with RestClient(os.environ["CRM_URL"], auth=Bearer(Secret(os.environ["CRM_TOKEN"])),
                    history=History()) as crm:
        ex = crm.get("/contacts", params={"limit": 1, "ts": time.time_ns()})
    print("replayed", ex.replayed)
"""
    )
    pytester.runpytest("-p", "no:randomly", "-s").stdout.fnmatch_lines(["*replayed False*"])
    again = pytester.runpytest("-p", "no:randomly", "-s")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["*replayed True*"])
    marker_help = pytester.runpytest("--markers")
    marker_help.stdout.fnmatch_lines(["*apinotebook_cassette(path=None*"])
