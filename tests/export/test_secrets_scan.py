"""Literal secrets are found in many shapes; ordinary strings are left alone."""

from __future__ import annotations

import ast

import pytest

from apinotebook.export._secrets_scan import (
    is_placeholder,
    is_secret_name,
    looks_like_token,
    preview,
    scan_header,
    scan_tree,
)

TOKEN = "crm_3697338065b15b6bae0a79c726acdb1e"  # the sandbox's credential shape

POSITIVE = [
    ("assignment", 'CRM_TOKEN = "abcd1234efgh"'),
    ("lower-case name", 'api_key = "k-5521-aa"'),
    ("password", 'password = "hunter22"'),
    ("annotated", 'client_secret: str = "s3cr3t-value"'),
    ("attribute", 'config.token = "abcd1234efgh"'),
    ("environ", 'os.environ["MAIL_API_KEY"] = "mail-key-1234"'),
    ("setdefault", 'os.environ.setdefault("CRM_TOKEN", "abcd1234efgh")'),
    ("getenv default", 'os.getenv("CRM_TOKEN", "abcd1234efgh")'),
    ("from_env default", 'Secret.from_env("X", default="fallback-value")'),
    ("keyword", 'connect(token="abcd1234efgh")'),
    ("keyword password", 'login(user="ada", password="pa55word")'),
    ("auth tuple", 'httpx.Client(auth=("ada", "pa55word"))'),
    ("dict key", 'payload = {"client_secret": "s3cr3t-value"}'),
    ("Authorization header", 'headers = {"Authorization": "Bearer abcd1234efgh"}'),
    ("X-API-Key header", 'headers = {"X-API-Key": "k-5521-aa"}'),
    ("header pair", 'headers = [("Authorization", "Token abcd1234")]'),
    ("header subscript", 'client.headers["Authorization"] = "Bearer abcd1234efgh"'),
    ("bearer literal", 'value = "Bearer abcd1234efgh"'),
    ("basic literal", 'send("Basic dXNlcjpwYXNzd29yZA==")'),
    ("f-string bearer", 'h = f"Bearer abcd1234efgh{suffix}"'),
    ("Secret()", 'Secret("abcd1234efgh")'),
    ("Bearer()", 'Bearer("abcd1234efgh")'),
    ("Basic()", 'Basic("ada", "pa55word")'),
    ("Basic(password=)", 'Basic("ada", password="pa55word")'),
    ("ApiKey()", 'ApiKey("k-5521-aa", header="X-API-Key")'),
    ("OAuth2", 'OAuth2ClientCredentials(URL, "client-id", "s3cr3t-value")'),
    ("OAuth2 code", 'OAuth2AuthorizationCode(client_id="c", client_secret="s3cr3t-value")'),
    ("OAuth2 device", 'OAuth2DeviceCode(client_id="c", client_secret="s3cr3t-value")'),
    ("from_issuer", 'OAuth2DeviceCode.from_issuer(URL, client_secret="s3cr3t-value")'),
    ("WSSE", 'WsseUsernameToken("ada", "pa55word")'),
    ("function default", 'def call(token="abcd1234efgh"):\n    pass'),
    ("kw-only default", 'def call(*, api_key="k-5521-aa"):\n    pass'),
    ("stripe", 'X = "sk_live_abcdefghij0123456789"'),
    ("stripe test", 'X = "sk_test_abcdefghij0123456789"'),
    ("github", 'X = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"'),
    ("slack", 'X = "xoxb-1234567890-abcdefghij"'),
    ("aws", 'X = "AKIAABCDEFGHIJKLMNOP"'),
    ("jwt", 'X = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefGHIJ"'),
    ("private key", 'X = "-----BEGIN RSA PRIVATE KEY-----\\nMIIE"'),
    ("sandbox credential", f'X = "{TOKEN}"'),
    ("hex digest-like", 'X = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"'),
    ("base64", 'X = "QWxhZGRpbjpvcGVuIHNlc2FtZQ9y8Kx2Lm4Pq7Rs1Tu"'),
    ("url password", 'X = "https://ada:pa55word@api.example.com/v1"'),
    ("url query key", 'X = "https://api.example.com/v1?api_key=abcd1234"'),
    ("weak name, strong value", 'KEY = "Zx81kPq92LmN4vB7"'),
    ("tuple unpacking", 'user, password = "ada", "pa55word"'),
]

NEGATIVE = [
    ("record key", '@sync.source(key="id", cursor="updated_at")\ndef f(since):\n    pass'),
    ("key field", 'KEY_FIELD = "email"'),
    ("idempotency key header name", 'IDEMPOTENCY_HEADER = "Idempotency-Key"'),
    ("env name", 'Secret.from_env("CRM_TOKEN")'),
    ("environ read", 'token = os.environ["CRM_TOKEN"]'),
    ("environ default url", 'url = os.environ.get("CRM_URL", "http://localhost:8000")'),
    ("api key header name", 'ApiKey(Secret.from_env("MAIL_API_KEY"), header="X-API-Key")'),
    ("api key query name", 'ApiKey(key, query="api_key")'),
    ("token url", 'token_url = "https://auth.example.com/oauth/token"'),
    ("secret env", 'secret_env = "CRM_WEBHOOK_SECRET"'),
    ("password field", 'PASSWORD_FIELD = "password"'),
    ("auth header name", 'AUTH_HEADER = "Authorization"'),
    ("token type", 'token_type = "bearer"'),
    ("empty", 'CRM_TOKEN = ""'),
    ("masked", 'CRM_TOKEN = "***"'),
    ("angle placeholder", 'CRM_TOKEN = "<your token>"'),
    ("shell placeholder", 'CRM_TOKEN = "${CRM_TOKEN}"'),
    ("template", 'headers = {"Authorization": "Bearer {{CRM_TOKEN}}"}'),
    ("changeme", 'password = "changeme"'),
    ("xxx", 'api_key = "xxxxxxxx"'),
    ("f-string bearer", 'headers = {"Authorization": f"Bearer {token}"}'),
    ("scheme only", 'scheme = "Bearer "'),
    ("url", 'BASE = "https://api.example.com/v1/contacts?limit=100&cursor=abc"'),
    ("sentence", 'MSG = "The token is read from the environment variable CRM_TOKEN."'),
    ("graphql", 'Q = """\nquery { lists(first: 50) { edges { node { id name } } } }\n"""'),
    ("uuid", 'X = "123e4567-e89b-12d3-a456-426614174000"'),
    ("path", 'X = "data/2024/01/reports/summary_v2_final/export_12345.csv"'),
    ("long identifier", 'X = "contacts_updated_since_last_checkpoint_for_newsletter"'),
    ("short hex", 'X = "deadbeef"'),
    ("repeated", 'X = "00000000000000000000000000000000000000"'),
    ("email", 'X = "ada.lovelace123@example.com"'),
    ("secret name, number value", "max_token_count = 1000"),
    ("dict get empty", 'record.get("password", "")'),
    ("cursor param", 'params = {"cursor": "WyIyMDI1LTA3LTA3In0", "limit": 100}'),
]


@pytest.mark.parametrize(("label", "source"), POSITIVE, ids=[p[0] for p in POSITIVE])
def test_literal_secrets_are_found(label: str, source: str) -> None:
    findings = scan_tree(ast.parse(source))
    assert findings, label
    assert all(f.line >= 1 for f in findings)


@pytest.mark.parametrize(("label", "source"), NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_ordinary_strings_are_not_secrets(label: str, source: str) -> None:
    assert scan_tree(ast.parse(source)) == [], label


def test_findings_point_at_the_line() -> None:
    source = 'a = 1\nb = "ok"\nheaders = {\n    "Authorization": "Bearer abcd1234efgh",\n}\n'
    [finding] = scan_tree(ast.parse(source))
    assert finding.line == 4
    assert "abcd1234efgh" not in finding.describe()


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("CRM_TOKEN", True), ("api_key", True), ("apiKey", True), ("X-API-Key", True),
        ("Authorization", True), ("client_secret", True), ("password", True), ("key", True),
        ("auth", True), ("token_url", False), ("secret_env", False), ("api_key_header", False),
        ("key_field", False), ("email", False), ("BATCH_SIZE", False), ("monkey", False),
    ],
)  # fmt: skip
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [("", True), ("***", True), ("<token>", True), ("{{CRM_TOKEN}}", True), ("CRM_TOKEN", True),
     ("your-token-here", True), ("${TOKEN}", True), ("...", True), ("hunter22", False),
     (TOKEN, False)],
)  # fmt: skip
def test_placeholders(value: str, placeholder: bool) -> None:
    assert is_placeholder(value) is placeholder


@pytest.mark.parametrize(
    ("value", "token"),
    [(TOKEN, True), ("sk_live_abcdefghij0123456789", True), ("hello world", False),
     ("https://example.com/" + "a1" * 20, False), ("abc", False)],
)  # fmt: skip
def test_token_shapes(value: str, token: bool) -> None:
    assert looks_like_token(value) is token


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("Authorization", "Bearer abcd1234efgh", True),
        ("Authorization", "Bearer {{CRM_TOKEN}}", False),
        ("X-API-Key", "k-5521-aa", True),
        ("X-API-Key", "{{MAIL_API_KEY}}", False),
        ("Accept", "application/json", False),
        ("X-Trace", TOKEN, True),
    ],
)
def test_headers(name: str, value: str, secret: bool) -> None:
    assert (scan_header(name, value) is not None) is secret


def test_preview_never_shows_a_short_secret() -> None:
    assert preview("hunter22") == "'***'"
    assert preview(TOKEN) == "'crm_***'"
