"""The span finders the data-flow scan uses: what counts in a string, and where."""

from __future__ import annotations

import pytest

from apinotebook.export._secret_spans import (
    UNKNOWN,
    basic_pair_spans,
    cookie_spans,
    credential_spans,
    curl_spans,
    string_spans,
    text_spans,
)
from apinotebook.export._secrets_scan import is_hash_context, looks_like_token, secret_strength

U = UNKNOWN


def found(spans: list, text: str) -> list[str]:
    return [text[s.start : s.end] for s in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bearer abcd1234efgh", ["abcd1234efgh"]),
        (f"Bearer {U}", []),
        (f"Bearer {U}sk_live_abcdefghij0123456789", ["sk_live_abcdefghij0123456789"]),
        ("Bearer <token>", []),
        ("Bearer {token}", []),
        ("abcd", ["abcd"]),
        ("abc", []),
        ("CRM_TOKEN", []),
    ],
)
def test_credential_spans(text: str, expected: list[str]) -> None:
    assert found(credential_spans(text, "Bearer()"), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/contacts?api_key=abcd1234", ["abcd1234"]),
        (f"/contacts?api_key={U}", []),
        ("/contacts?api_key={key}", []),
        ("https://ada:hunter22@x.io/v1", ["hunter22"]),
        (f"https://ada:{U}@x.io/v1", []),
        ("user=ada&password=hunter22", ["hunter22"]),
        ("secret=True", []),
        ('mutation { login(user: "ada", password: "hunter22") }', ["hunter22"]),
        ("mutation { login(password: $pw) }", []),
        ('{"password": "hunter22"}', ["hunter22"]),
        ('Bearer realm="api"', []),
        ("/contacts?limit=100&cursor=abc", []),
        ("https://api.example.com/docs#api-key", []),
    ],
)
def test_string_spans(text: str, expected: list[str]) -> None:
    assert found(string_spans(text), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# token: abcd1234efgh", ["abcd1234efgh"]),
        ("# Bearer abcd1234efgh", ["abcd1234efgh"]),
        ("Notes: password=hunter22", ["hunter22"]),
        ("# old key sk_live_abcdefghij0123456789", ["sk_live_abcdefghij0123456789"]),
        ("# the token comes from CRM_TOKEN (Bearer token)", []),
        ("## Authenticate with a Bearer token (api_key=...)", []),
        ("Read the API key from the environment.", []),
    ],
)
def test_text_spans(text: str, expected: list[str]) -> None:
    assert found(text_spans(text), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("curl -H 'Authorization: Bearer abcd1234efgh' https://x.io", ["abcd1234efgh"]),
        ("curl -u ada:hunter22 https://x.io", ["hunter22"]),
        ("curl --user ada:hunter22 https://x.io", ["hunter22"]),
        ("curl -b 'session=abcd1234efgh' https://x.io", ["abcd1234efgh"]),
        ('curl -H "Authorization: Bearer $CRM_TOKEN" https://x.io', []),
        ("curl -H 'Accept: application/json' 'https://x.io/c?limit=5'", []),
        ("curl 'https://x.io/c?api_key=abcd1234'", ["abcd1234"]),
    ],
)
def test_curl_spans(text: str, expected: list[str]) -> None:
    assert found(curl_spans(text), text) == expected


def test_cookies_and_basic_pairs() -> None:
    assert found(cookie_spans("session=abcd1234efgh; theme=dark"), "session=abcd1234efgh") == [
        "abcd1234efgh"
    ]
    assert basic_pair_spans("ada:hunter22")[0].start == 4
    assert basic_pair_spans(f"ada:{U}") == []
    assert basic_pair_spans("hello world") == []


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("Zx81kPq92LmN4vB7aQ3wTy6U", True),
        ("Zx81kPq9-2LmN4vB7_aQ3wTy6Uo0pLk-9Jh_7Gf", True),
        ("getContactsUpdatedSince2024", False),
        ("MyApp2FactorAuthV3Client12", False),
        ("X-Amzn-Trace-Id-Root-1", False),
        ("WyIyMDI1LTA3LTA3In0", False),
    ],
)
def test_high_entropy_words(value: str, token: bool) -> None:
    assert looks_like_token(value) is token


@pytest.mark.parametrize(
    ("name", "value", "hashed"),
    [
        ("PINNED_SHA", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", True),
        ("account_id", "123e4567-e89b-12d3-a456-426614174000", True),
        ("etag", "deadbeef00", True),
        ("api_key", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", False),
        ("commit", "sk_live_abcdefghij0123456789", False),
    ],
)
def test_hash_contexts(name: str, value: str, hashed: bool) -> None:
    assert is_hash_context(name, value) is hashed


@pytest.mark.parametrize(
    ("name", "strength"),
    [("API_KEYS", "strong"), ("passwords", "strong"), ("next_page_token", None),
     ("credentials stay with you", None), ("/oauth/token", None), ("keys", "weak")],
)  # fmt: skip
def test_names(name: str, strength: str | None) -> None:
    assert secret_strength(name) == strength
