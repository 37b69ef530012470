"""curl in and out: parse_curl, to_curl, client_from_curl; round trips both ways."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from apinotebook import (
    ApiKey,
    Basic,
    Bearer,
    ConfigError,
    Exchange,
    Request,
    RestClient,
    Secret,
)
from apinotebook.curl import CurlCommand, parse_curl, to_curl
from apinotebook.rest import CurlClient, client_from_curl


def automatic(name: str, value: str, url: str) -> bool:
    """Whether httpx added this header by itself."""
    if name == "host":
        return value == httpx.URL(url).netloc.decode()
    if name == "user-agent":
        return value.startswith(("python-httpx/", "apinotebook/"))
    if name == "accept":
        return value == "*/*"
    return name in ("accept-encoding", "connection", "content-length")


def bare(request: Request) -> Request:
    """``request`` without the headers httpx adds by itself."""
    headers = [(k, v) for k, v in request.headers.multi_items() if not automatic(k, v, request.url)]
    return Request(request.method, request.url, headers, request.content)


def built(method: str, url: str, **kwargs: Any) -> Request:
    """The request an httpx client would send, automatic headers included."""
    with httpx.Client() as client:
        request = client.build_request(method, url, **kwargs)
    return Request.from_httpx(request)


# -- commands copied from API documentation -------------------------------------------------

GITHUB_LIST = """curl -L \\
  -H "Accept: application/vnd.github+json" \\
  -H "Authorization: Bearer $GITHUB_TOKEN" \\
  -H "X-GitHub-Api-Version: 2022-11-28" \\
  https://api.github.com/repos/OWNER/REPO/issues"""

GITHUB_CREATE = """curl -L \\
  -X POST \\
  -H "Accept: application/vnd.github+json" \\
  -H "Authorization: Bearer <YOUR-TOKEN>" \\
  -H "X-GitHub-Api-Version: 2022-11-28" \\
  https://api.github.com/repos/OWNER/REPO/issues \\
  -d '{"title":"Found a bug","body":"I'\\''m having a problem with this.","labels":["bug"]}'"""

STRIPE_CREATE = """curl https://api.stripe.com/v1/customers \\
  -u "sk_test_4eC39HqLyjWDarjtT1zdp7dc:" \\
  -d name="Jenny Rosen" \\
  --data-urlencode email="jenny+rosen@example.com" """

STRIPE_LIST = """curl -G https://api.stripe.com/v1/customers \\
  -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \\
  -d limit=3 \\
  -d "expand[]"=data.default_source"""

SLACK_POST = """curl -X POST -H 'Authorization: Bearer xoxb-1234-56789abcdefghijklmnop' \\
-H 'Content-type: application/json' \\
--data '{"channel":"C123ABC456","text":"I hope the tour went well, Mr. Wonka.\\nIt'"'"'s $5"}' \\
https://slack.com/api/chat.postMessage"""

SLACK_HISTORY = """curl -G https://slack.com/api/conversations.history \\
  -H "Authorization: Bearer xoxb-1234-56789abcdefghijklmnop" \\
  --data-urlencode "channel=C123ABC456" \\
  --data-urlencode "oldest=1512085950.000216" -d limit=2"""

SLACK_WEBHOOK = (
    "curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"Hello, World!\"}' "
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
)

CHROME = (
    "curl 'https://example.com/api/items?page=2' \\\n"
    "  -H 'accept: application/json' \\\n"
    "  -H 'cookie: session=abc123def456; theme=dark' \\\n"
    "  -H $'x-note: it\\'s a \\u00e9t\\u00e9 note' \\\n"
    '  --data-raw $\'{"q":"line1\\\\nline2"}\' \\\n'
    "  --compressed"
)

ENV = {"GITHUB_TOKEN": "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}

DOCS = [
    # (command, method, url, headers that must be there, body, user)
    (GITHUB_LIST, "GET", "https://api.github.com/repos/OWNER/REPO/issues",
     {"Authorization": "Bearer " + ENV["GITHUB_TOKEN"], "X-GitHub-Api-Version": "2022-11-28"},
     b"", None),
    (GITHUB_CREATE, "POST", "https://api.github.com/repos/OWNER/REPO/issues",
     {"Content-Type": "application/x-www-form-urlencoded"},
     b'{"title":"Found a bug","body":"I\'m having a problem with this.","labels":["bug"]}',
     None),
    (STRIPE_CREATE, "POST", "https://api.stripe.com/v1/customers",
     {"Content-Type": "application/x-www-form-urlencoded"},
     b"name=Jenny Rosen&email=jenny%2Brosen%40example.com", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    (STRIPE_LIST, "GET",
     "https://api.stripe.com/v1/customers?limit=3&expand[]=data.default_source", {}, b"",
     "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    (SLACK_POST, "POST", "https://slack.com/api/chat.postMessage",
     {"Content-type": "application/json"},
     b'{"channel":"C123ABC456","text":"I hope the tour went well, Mr. Wonka.\\nIt\'s $5"}', None),
    (SLACK_HISTORY, "GET",
     "https://slack.com/api/conversations.history?channel=C123ABC456&oldest=1512085950.000216"
     "&limit=2", {"Authorization": "Bearer xoxb-1234-56789abcdefghijklmnop"}, b"", None),
    (SLACK_WEBHOOK, "POST",
     "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
     {"Content-type": "application/json"}, b'{"text":"Hello, World!"}', None),
    (CHROME, "POST", "https://example.com/api/items?page=2",
     {"x-note": "it's a \u00e9t\u00e9 note", "cookie": "session=abc123def456; theme=dark"},
     b'{"q":"line1\\nline2"}', None),
]  # fmt: skip
DOC_IDS = ["github-list", "github-create", "stripe-create", "stripe-list", "slack-post",
           "slack-history", "slack-webhook", "chrome"]  # fmt: skip


@pytest.mark.parametrize(("command", "method", "url", "headers", "body", "user"), DOCS,
                         ids=DOC_IDS)  # fmt: skip
def test_parse_commands_from_api_docs(command, method, url, headers, body, user):
    cmd = parse_curl(command, env=ENV)
    assert (cmd.method, cmd.url, cmd.body, cmd.user) == (method, url, body, user)
    for name, value in headers.items():
        assert cmd.header(name) == value


@pytest.mark.parametrize("command", [d[0] for d in DOCS], ids=DOC_IDS)
def test_docs_commands_round_trip(command):
    cmd = parse_curl(command, env=ENV)
    again = parse_curl(cmd.to_curl(reveal_secrets=True))
    assert again.to_request() == cmd.to_request()
    assert again.method == cmd.method and again.url == cmd.url and again.body == cmd.body


# -- request -> curl -> request ---------------------------------------------------------------

REQUESTS = [
    built("GET", "https://api.example.com/items?limit=5&q=a%20b"),
    built("GET", "https://api.example.com/items", headers={"X-Trace": "it's $HOME `x`"}),
    built("POST", "https://api.example.com/items", json={"name": "O'Brien", "price": "$5",
                                                         "text": "line1\nline2\ttab", "é": "ü"}),
    built("POST", "https://api.example.com/form", data={"a": "1 2", "b": "x&y=z"}),
    built("POST", "https://api.example.com/raw", content=b"@not-a-file"),
    built("POST", "https://api.example.com/empty"),
    built("PUT", "https://api.example.com/items/1", json=[1, 2]),
    built("PATCH", "https://api.example.com/items/1", content=b"{}",
          headers={"Content-Type": "application/merge-patch+json"}),
    built("DELETE", "https://api.example.com/items/1", headers={"Idempotency-Key": "k-1"}),
    built("HEAD", "https://api.example.com/items"),
    built("OPTIONS", "https://api.example.com/items"),
    built("GET", "https://api.example.com/search", content=b'{"query": {"match_all": {}}}',
          headers={"Content-Type": "application/json"}),
    built("GET", "https://api.example.com/x", headers={"Authorization": "Bearer s3cret-tok",
                                                      "Accept": "application/json",
                                                      "User-Agent": "my-agent/1.0"}),
    built("GET", "http://localhost:8080/a/b;c?x=1&x=2&empty=",
          headers={"Authorization": "Basic " + base64.b64encode(b"ada:pa:ss").decode()}),
    built("GET", "https://api.example.com/x", headers={"Host": "other.example"}),
]  # fmt: skip


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: f"{r.method}-{r.url[-18:]}")
def test_request_round_trips_through_curl(request_):
    command = to_curl(request_, reveal_secrets=True)
    assert parse_curl(command, env={}).to_request() == bare(request_)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (built("GET", "https://a.test/x"), "curl https://a.test/x"),
        (built("POST", "https://a.test/x", content=b"a=1"),
         "curl https://a.test/x -H 'Content-Type:' --data-raw a=1"),
        (built("POST", "https://a.test/x"), "curl -X POST https://a.test/x"),
        (built("DELETE", "https://a.test/x"), "curl -X DELETE https://a.test/x"),
        (built("HEAD", "https://a.test/x"), "curl -I https://a.test/x"),
        (built("GET", "https://a.test/x", content=b"q"),
         "curl -X GET https://a.test/x -H 'Content-Type:' --data-raw q"),
        (built("GET", "https://a.test/x?a=1&b=2"), "curl 'https://a.test/x?a=1&b=2'"),
        (built("GET", "https://a.test/x", headers={"User-Agent": "me/1"}),
         "curl https://a.test/x -H 'User-Agent: me/1'"),
    ],
)  # fmt: skip
def test_to_curl_uses_x_only_when_needed_and_skips_automatic_headers(request_, expected):
    assert to_curl(request_) == expected


def test_long_commands_use_continuations_and_no_json_flag():
    request = built("POST", "https://api.example.com/v1/items", json={"name": "x" * 40},
                    headers={"X-Request-Id": "abc"})  # fmt: skip
    command = to_curl(request)
    lines = command.split("\n")
    assert lines[0] == "curl https://api.example.com/v1/items \\"
    assert all(line.startswith("  ") and line.endswith(" \\") for line in lines[1:-1])
    assert lines[-1].startswith("  --data-raw '{")
    assert "--json" not in command
    assert "-H 'Content-Type: application/json'" in command


def test_binary_body_is_sent_on_stdin():
    request = built("PUT", "https://a.test/blob", content=b"\x89PNG\x00\x01",
                    headers={"Content-Type": "image/png"})  # fmt: skip
    command = to_curl(request)
    assert command.startswith("# the body is 6 bytes of binary data")
    assert "--data-binary @-" in command and "-X PUT" in command
    with pytest.raises(ConfigError, match="standard input"):
        parse_curl(command)


def test_secrets_are_masked_unless_revealed():
    Secret("s3cret-token-value")  # registered: masked wherever it appears
    request = built(
        "POST",
        "https://api.example.com/x?api_key=k-123456789&page=2",
        headers={"Authorization": "Bearer s3cret-token-value", "X-Note": "s3cret-token-value"},
        json={"password": "hunter2-hunter2", "name": "ok"},
    )
    exchange = Exchange(protocol="rest", request=request, status=200)
    masked = exchange.to_curl()
    assert "Bearer ***" in masked
    assert "s3cret-token-value" not in masked
    assert "k-123456789" not in masked and "page=2" in masked
    assert "hunter2" not in masked and '"name": "ok"' in masked
    revealed = exchange.to_curl(reveal_secrets=True)
    assert "Bearer s3cret-token-value" in revealed
    assert "api_key=k-123456789" in revealed and "hunter2-hunter2" in revealed


def test_to_curl_accepts_an_httpx_request():
    request = httpx.Request("GET", "https://a.test/x", headers={"X-A": "1"})
    assert to_curl(request) == "curl https://a.test/x -H 'X-A: 1'"


# -- reading commands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "method", "url", "body"),
    [
        ("curl https://a.test", "GET", "https://a.test", b""),
        ("curl a.test/x", "GET", "http://a.test/x", b""),
        ("$ curl https://a.test", "GET", "https://a.test", b""),
        ("curl --url https://a.test/x -XPATCH -d a=1", "PATCH", "https://a.test/x", b"a=1"),
        ("curl -sSL https://a.test | jq .", "GET", "https://a.test", b""),
        ("curl https://a.test > out.json 2>/dev/null", "GET", "https://a.test", b""),
        ("curl https://a.test; echo done", "GET", "https://a.test", b""),
        ("curl \\\r\n  https://a.test \\\r\n  -d x", "POST", "https://a.test", b"x"),
        ("# list\ncurl https://a.test # the URL\n", "GET", "https://a.test", b""),
        ("curl -d a=1 -d b=2 --data-raw @c https://a.test", "POST", "https://a.test",
         b"a=1&b=2&@c"),
        ("curl -G -d a=1 https://a.test/x?z=0", "GET", "https://a.test/x?z=0&a=1", b""),
        ("curl -I -G -d a=1 https://a.test", "HEAD", "https://a.test?a=1", b""),
        ("curl --data-urlencode 'q=a b&c' --data-urlencode =x/y --data-urlencode z https://a.test",
         "POST", "https://a.test", b"q=a+b%26c&x%2Fy&z"),
        ("curl --json '{\"a\":' --json '1}' https://a.test", "POST", "https://a.test", b'{"a":1}'),
        ('curl "https://a.test/\\$x\\"" -d "$HOME_DIR/${HOME_DIR}"', "POST", 'https://a.test/$x"',
         b"/h//h"),
        ("curl https://a.test -d $'a\\tb\\x41\\101\\u00e9'", "POST", "https://a.test",
         "a\tbAAé".encode()),
        ("curl -- -weird-but-valid.test", "GET", "http://-weird-but-valid.test", b""),
        ("curl -X post https://a.test", "POST", "https://a.test", b""),
        ("curl -kLsSv --compressed -m 2.5 -o /dev/null -w '%{http_code}' https://a.test",
         "GET", "https://a.test", b""),
    ],
)  # fmt: skip
def test_parse_shell_syntax_and_options(command, method, url, body):
    cmd = parse_curl(command, env={"HOME_DIR": "/h"})
    assert (cmd.method, cmd.url, cmd.body) == (method, url, body)


def test_parse_options_with_implied_headers():
    cmd = parse_curl(
        "curl -A 'bot/1' -e https://ref.test -b 'a=1; b=2' --json '{}' -H 'Accept: text/csv' "
        "-H 'X-Empty;' -k -L -m 3 https://a.test"
    )
    assert cmd.headers == (
        ("User-Agent", "bot/1"), ("Referer", "https://ref.test"), ("Cookie", "a=1; b=2"),
        ("Accept", "text/csv"), ("X-Empty", ""), ("Content-Type", "application/json"),
    )  # fmt: skip
    assert (cmd.verify, cmd.follow_redirects, cmd.timeout) == (False, True, 3.0)


def test_header_with_empty_value_removes_the_implied_one():
    cmd = parse_curl("curl -H 'Content-Type:' -d x https://a.test")
    assert cmd.header("content-type") is None and cmd.body == b"x"


def test_user_and_password():
    cmd = parse_curl("curl -u 'ada:pa:ss w0rd!' https://a.test")
    assert cmd.user == "ada" and isinstance(cmd.password, Secret)
    assert cmd.password.reveal() == "pa:ss w0rd!"
    auth = cmd.to_request().headers["authorization"]
    assert base64.b64decode(auth.split()[1]) == b"ada:pa:ss w0rd!"
    assert "pa:ss" not in repr(cmd) and "Basic" not in repr(cmd)


def test_repr_masks_credentials():
    cmd = parse_curl("curl -u sk_live_abcdef123456: -H 'X-API-Key: key-987654321' https://a.test")
    text = repr(cmd)
    assert "sk_live_abcdef123456" not in text and "key-987654321" not in text
    assert "https://a.test" in text


def test_files_are_read(tmp_path):
    (tmp_path / "form.txt").write_bytes(b"a=1\r\nb=2\n")
    (tmp_path / "blob.bin").write_bytes(b"a=1\r\nb=2\n")
    (tmp_path / "q.txt").write_text("hello world")
    (tmp_path / "doc.json").write_text('{"x": 1}')
    cmd = parse_curl(f"curl -d @{tmp_path}/form.txt https://a.test")
    assert cmd.body == b"a=1b=2"  # curl strips CR and LF from -d @file
    cmd = parse_curl(f"curl --data-binary @{tmp_path}/blob.bin https://a.test")
    assert cmd.body == b"a=1\r\nb=2\n"
    cmd = parse_curl(f"curl --data-urlencode q@{tmp_path}/q.txt https://a.test")
    assert cmd.body == b"q=hello+world"
    cmd = parse_curl(f"curl --json @{tmp_path}/doc.json https://a.test")
    assert json.loads(cmd.body) == {"x": 1} and cmd.header("accept") == "application/json"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl --proxy http://p https://a.test", "option --proxy is not supported.*--data-raw"),
        ("curl -Z https://a.test", "option -Z is not supported"),
        ("curl -H 'X: 1'", "has no URL"),
        ("curl https://a.test https://b.test", "more than one URL"),
        ("wget https://a.test", "starting with 'curl'"),
        ("", "starting with 'curl', got nothing"),
        ("curl 'https://a.test", "unterminated single quote"),
        ('curl "https://a.test', "unterminated double quote"),
        ("curl $'https://a.test", "unterminated \\$'"),
        ('curl https://a.test -H "X: $(whoami)"', "command substitution"),
        ("curl https://a.test -H `id`", "command substitution"),
        ('curl -H "Authorization: Bearer $NOT_SET_TOKEN" https://a.test', "NOT_SET_TOKEN"),
        ("curl -u ada https://a.test", "prompt"),
        ("curl -b cookies.txt https://a.test", "cookie file"),
        ("curl -d @/nonexistent/x.json https://a.test", "cannot read the file"),
        ("curl -d @- https://a.test", "standard input"),
        ("curl --json '{}' -d a=1 https://a.test", "mixes --json"),
        ("curl -H novalue https://a.test", "not a header"),
        ("curl -H 'Bad Name: 1' https://a.test", "not a valid header name"),
        ("curl -H 'Ünï: 1' https://a.test", "not a valid header name"),
        ("curl -X", "needs a value"),
        ("curl ftp://a.test/file", "not an http"),
        ("curl -m soon https://a.test", "takes seconds"),
    ],
)
def test_invalid_commands(command, message):
    with pytest.raises(ConfigError, match=message):
        parse_curl(command, env={})


def test_env_values_of_credentials_are_masked():
    cmd = parse_curl('curl -H "X-Token: $MY_API_TOKEN" https://a.test', env={
        "MY_API_TOKEN": "tok-5f4dcc3b5aa765d61d8327deb882cf99"})  # fmt: skip
    assert cmd.header("x-token") == "tok-5f4dcc3b5aa765d61d8327deb882cf99"
    assert "5f4dcc3b" not in cmd.to_curl()


# -- curl -> client ---------------------------------------------------------------------------


class Echo(httpx.BaseTransport):
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(200, json={"ok": True})


@pytest.mark.parametrize(
    ("command", "auth_type", "header_left"),
    [
        ("curl -H 'Authorization: Bearer tok-abcdef123' https://a.test/x", Bearer, None),
        ("curl -H 'Authorization: token ghp_abcdef123' https://a.test/x", Bearer, None),
        ("curl -u ada:pw-123456 https://a.test/x", Basic, None),
        ("curl -H 'Authorization: Basic YWRhOnB3LTEyMzQ1Ng==' https://a.test/x", Basic, None),
        ("curl -H 'X-API-Key: key-123456789' https://a.test/x", ApiKey, None),
        ("curl -u sk_test_abcdef123456: https://a.test/x", httpx.BasicAuth, None),
        ("curl -H 'Authorization: Digest abc' https://a.test/x", type(None), "authorization"),
    ],
)  # fmt: skip
def test_client_from_curl_turns_credentials_into_auth(command, auth_type, header_left):
    transport = Echo()
    client = client_from_curl(command, transport=transport, history=None)
    assert type(client.auth) is auth_type
    assert client.base_url == "https://a.test/"
    exchange = client.replay()
    sent = transport.requests[0]
    expected = parse_curl(command).to_request()
    assert sent.headers.get("authorization") == expected.headers.get("authorization")
    assert exchange.status == 200 and exchange.url == "https://a.test/x"
    if header_left:
        assert header_left in client.headers
    assert "abcdef123" not in repr(client) and "abcdef123" not in exchange.to_curl()


def test_replay_sends_the_captured_request_and_client_keeps_exploring():
    transport = Echo()
    client = RestClient.from_curl(SLACK_POST, transport=transport, history=None, retry=False)
    assert isinstance(client, CurlClient)
    assert isinstance(client.command, CurlCommand)
    exchange = client.replay()
    sent = transport.requests[-1]
    assert sent.method == "POST" and str(sent.url) == "https://slack.com/api/chat.postMessage"
    assert sent.headers["content-type"] == "application/json"
    assert sent.content == client.command.body
    assert sorted(bare(exchange.request).headers.multi_items()) == sorted(
        client.command.to_request().headers.multi_items()
    )
    client.get("/api/auth.test")  # later calls carry the auth but not the body's content type
    later = transport.requests[-1]
    assert later.headers["authorization"].startswith("Bearer xoxb-")
    assert "content-type" not in later.headers
    assert "xoxb-1234" not in repr(client)


def test_client_kwargs_win_and_headers_merge():
    transport = Echo()
    client = client_from_curl(
        "curl -k -m 4 -H 'X-A: 1' -H 'X-B: 2' https://a.test:8443/v1/x?y=1",
        transport=transport, headers={"X-B": "override"}, history=None,
    )  # fmt: skip
    assert client.base_url == "https://a.test:8443/"
    assert client.headers["x-a"] == "1" and client.headers["x-b"] == "override"
    assert client.command.verify is False and client.command.timeout == 4.0
    client.replay()
    assert str(transport.requests[0].url) == "https://a.test:8443/v1/x?y=1"


def test_async_replay():
    import asyncio

    async def created(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"id": 1})

    async def main() -> Exchange:
        client = client_from_curl("curl -d a=1 https://a.test/x",
                                  transport=httpx.MockTransport(created), history=None)  # fmt: skip
        try:
            return await client.areplay()
        finally:
            await client.aclose()

    exchange = asyncio.run(main())
    assert exchange.status == 201 and exchange.request.content == b"a=1"


@pytest.mark.sandbox
def test_from_curl_against_the_sandbox_crm(monkeypatch):
    import importlib.util

    if importlib.util.find_spec("fastapi") is None or not importlib.util.find_spec(
        "apinotebook.sandbox.crm"
    ):
        pytest.skip("needs the sandbox extra and the CRM service")
    from apinotebook.sandbox import Sandbox, _runner

    if "crm" not in _runner.SERVICES:  # the module exists but is not registered yet
        monkeypatch.setattr(_runner, "SERVICES", (*_runner.SERVICES, "crm"))
    with Sandbox(contacts=20, services=("crm",)) as sb:
        url = sb.urls["crm"] + "/contacts?limit=3"
        command = f'curl -sS -H "Authorization: Bearer $CRM_TOKEN" \\\n  "{url}" | jq .data'
        client = RestClient.from_curl(command, env=sb.env, history=None)
        exchange = client.replay()
        ids = [c["id"] for c in client.paginate("/crm/contacts")]
        client.close()
    assert exchange.status == 200 and len(exchange.json()["data"]) == 3
    assert isinstance(client.auth, Bearer)
    assert sb.env["CRM_TOKEN"] not in exchange.to_curl()
    assert sb.env["CRM_TOKEN"] in exchange.to_curl(reveal_secrets=True)
    assert len(ids) == len(set(ids)) == 20
