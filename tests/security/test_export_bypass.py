"""The exporter follows the data: literal secrets that travel are refused, look-alikes pass.

Every case is a notebook built with nbformat and exported through
:func:`apinotebook.export.export_notebook`, the entry point ``apinotebook
export`` uses. A bypass must be refused with a :class:`LiteralSecretError`
naming the cell and line of the literal (the line to change), a masked
preview and what to do; a look-alike must export.

Cells 0-2 of every notebook are the same: the data, the integration and a
setup cell (imports and a client ``crm``); a case's own cells start at 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apinotebook import LiteralSecretError
from apinotebook.export import export_notebook

nbformat = pytest.importorskip("nbformat")

T = "abcd1234efgh"  # a credential that is not token-shaped: only the data flow finds it
PW = "hunter22"
RANDOM = "Zx81kPq92LmN4vB7aQ3wTy6U"  # high entropy, no known prefix, shorter than 32
URLSAFE = "Zx81kPq9-2LmN4vB7_aQ3wTy6Uo0pLk-9Jh_7Gf"  # base64url: '-' and '_' break old runs
SECRETS = (T, PW, RANDOM, URLSAFE, "ada:hunter22", "1234efgh", "sk_live_abcdefghij0123456789")

DATA = "ROWS = [{'id': 1}, {'id': 2}]\nSINK: list = []"
INTEGRATION = """from apinotebook.integration import Integration

sync = Integration("demo", state=":memory:")


@sync.source(key="id")
def rows(since):
    yield from ROWS


@sync.destination
def write(batch):
    SINK.extend(batch)"""
SETUP = """import base64
import os
from base64 import b64encode

import httpx

from apinotebook import ApiKey, Basic, Bearer, OAuth2ClientCredentials, RestClient, Secret
from apinotebook.auth import OAuth2AuthorizationCode, OAuth2DeviceCode
from apinotebook.soap import WsseUsernameToken
from requests.auth import HTTPBasicAuth

crm = RestClient("http://localhost:8000")
ROWS.extend([crm])"""

Cell = tuple[str, str] | tuple[str, str, list[str]]


def c(source: str, *tags: str) -> tuple[str, str, list[str]]:
    return ("code", source, list(tags))


def m(source: str) -> tuple[str, str]:
    return ("markdown", source)


def P(source: str) -> tuple[str, str, list[str]]:  # noqa: N802 - a parameters cell
    return c(source, "parameters")


def keep(*names: str) -> str:
    return f"\nROWS.extend([{', '.join(names)}])"


def build(tmp_path: Path, cells: list[Any], *, before: list[Any] | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    made = []
    for cell in [*(before or []), c(DATA), c(INTEGRATION), c(SETUP), *cells]:
        if cell[0] == "markdown":
            made.append(nbformat.v4.new_markdown_cell(cell[1]))
        else:
            new = nbformat.v4.new_code_cell(cell[1])
            if cell[2]:
                new.metadata["tags"] = cell[2]
            made.append(new)
    nb.cells = made
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    return path


# (id, cells from index 3, cell of the literal, line of the literal in that cell)
BYPASSES: list[tuple[str, list[Any], int, int]] = [
    # -- through variables, across cells ------------------------------------------------
    ("var->Bearer", [c(f't = "{T}"\nauth = Bearer(t)' + keep("auth"))], 3, 1),
    ("var across cells", [c(f't = "{T}"'), c("auth = Bearer(t)" + keep("auth"))], 3, 1),
    ("chained vars", [c(f'a = "{T}"\nb = a\nx = b\nauth = Bearer(x)' + keep("auth"))], 3, 1),
    ("annotated var", [c(f't: str = "{T}"\nauth = Bearer(t)' + keep("auth"))], 3, 1),
    ("var->Secret", [c(f'v = "{T}"\ns = Secret(v)' + keep("s"))], 3, 1),
    ("var->ApiKey", [c(f'v = "{T}"\nk = ApiKey(v, header="X-API-Key")' + keep("k"))], 3, 1),
    ("var->Basic", [c(f'pw = "{PW}"\nauth = Basic("ada", pw)' + keep("auth"))], 3, 1),
    ("var->Basic kw", [c(f'p = "{PW}"\nauth = Basic("ada", password=p)' + keep("auth"))], 3, 1),
    ("var->httpx.BasicAuth", [c(f'p = "{PW}"\na = httpx.BasicAuth("ada", p)' + keep("a"))], 3, 1),
    ("var->OAuth2", [c(f'v = "{T}"\na = OAuth2ClientCredentials("https://a.example/token", '
                       '"client-1", v)' + keep("a"))], 3, 1),
    ("var->WSSE", [c(f'v = "{PW}"\nw = WsseUsernameToken("ada", v)' + keep("w"))], 3, 1),
    ("var->secret keyword", [c(f'v = "{T}"\nx = dict(token=v)' + keep("x"))], 3, 1),
    ("var->secret name", [c(f'v = "{T}"\nAPI_TOKEN = v' + keep("API_TOKEN"))], 3, 1),
    ("var->attribute", [c(f'v = "{T}"\ncrm.api_key = v')], 3, 1),
    ("var->environ", [c(f'v = "{T}"\nos.environ["CRM_TOKEN"] = v')], 3, 1),
    ("var->setdefault", [c(f'v = "{T}"\nos.environ.setdefault("CRM_TOKEN", v)')], 3, 1),
    ("var->from_env default", [c(f'v = "{T}"\ns = Secret.from_env("CRM_TOKEN", default=v)'
                                 + keep("s"))], 3, 1),
    ("bytes decoded", [c(f't = b"{T}".decode()\nauth = Bearer(t)' + keep("auth"))], 3, 1),
    ("walrus", [c(f'if (t := "{T}"):\n    auth = Bearer(t)' + keep("auth"))], 3, 1),
    # -- built from pieces -------------------------------------------------------------
    ("f-string", [c(f't = "{T}"\nh = {{"Authorization": f"Bearer {{t}}"}}' + keep("h"))], 3, 1),
    ("f-string pieces", [c('p = "abcd"\nq = "1234efgh"\nauth = Bearer(f"{p}{q}")'
                           + keep("auth"))], 3, 2),
    ("plus", [c('auth = Bearer("abcd" + "1234efgh")' + keep("auth"))], 3, 1),
    ("augmented", [c('t = "abcd"\nt += "1234efgh"\nauth = Bearer(t)' + keep("auth"))], 3, 2),
    ("percent", [c(f't = "{T}"\nh = {{"Authorization": "Bearer %s" % t}}' + keep("h"))], 3, 1),
    ("percent tuple", [c(f'u, p = "ada", "{PW}"\ncred = "%s:%s" % (u, p)\n'
                         "auth = Basic(*cred.split(':'))\nh = {'X-Auth': 'Basic ' + "
                         "b64encode(cred.encode()).decode()}" + keep("h"))], 3, 1),
    ("format", [c(f't = "{T}"\nh = {{"Authorization": "Bearer {{}}".format(t)}}'
                  + keep("h"))], 3, 1),
    ("format kw", [c(f't = "{T}"\nh = {{"Authorization": "Bearer {{tok}}".format(tok=t)}}'
                     + keep("h"))], 3, 1),
    ("join literal", [c('auth = Bearer("".join(["abcd", "1234efgh"]))' + keep("auth"))], 3, 1),
    ("join var", [c('parts = ["abcd", "1234efgh"]\nauth = Bearer("-".join(parts))'
                    + keep("auth"))], 3, 1),
    # -- headers -----------------------------------------------------------------------
    ("headers[] = Bearer + var", [c(f't = "{T}"\nheaders = {{}}\n'
                                    'headers["Authorization"] = "Bearer " + t' + keep("headers"))],
     3, 1),
    ("client.headers[] across cells", [c(f't = "{T}"'),
                                       c('crm.headers["Authorization"] = "Bearer " + t')], 3, 1),
    ("headers.update", [c(f'k = "{T}"\ncrm.headers.update({{"X-API-Key": k}})')], 3, 1),
    ("header tuple list", [c(f't = "{T}"\nH = [("Authorization", "Bearer " + t)]' + keep("H"))],
     3, 1),
    ("dict(Authorization=)", [c(f't = "{T}"\nH = dict(Authorization="Bearer " + t)'
                                + keep("H"))], 3, 1),
    ("Cookie header", [c(f'H = {{"Cookie": "session={T}"}}' + keep("H"))], 3, 1),
    ("b64encode user:pass", [c('creds = base64.b64encode(b"ada:hunter22").decode()\n'
                               'H = {"Authorization": "Basic " + creds}' + keep("H"))], 3, 1),
    ("b64encode var", [c('raw = "ada:hunter22"\nenc = b64encode(raw.encode())' + keep("enc"))],
     3, 1),
    ("b64encode f-string", [c(f'u = "ada"\np = "{PW}"\n'
                              'enc = b64encode(f"{u}:{p}".encode()).decode()' + keep("enc"))],
     3, 2),
    # -- containers and unpacking --------------------------------------------------------
    ("dict subscript", [c(f'CFG = {{"user": "ada", "pw": "{PW}"}}\n'
                          'auth = Basic(CFG["user"], CFG["pw"])' + keep("auth"))], 3, 1),
    ("dict subscript multiline", [c(f'CFG = {{\n    "user": "ada",\n    "pw": "{PW}",\n}}\n'
                                    'auth = Basic(CFG["user"], CFG["pw"])' + keep("auth"))], 3, 3),
    ("list index", [c(f'PAIR = ["ada", "{PW}"]\nauth = Basic(PAIR[0], PAIR[1])' + keep("auth"))],
     3, 1),
    ("tuple unpacking", [c(f'u, p = "ada", "{PW}"\nauth = Basic(u, p)' + keep("auth"))], 3, 1),
    ("unpack a variable", [c(f'PAIR = ("ada", "{PW}")\nu, p = PAIR\nauth = Basic(u, p)'
                             + keep("auth"))], 3, 1),
    ("starred", [c(f'PAIR = ("ada", "{PW}")\nauth = Basic(*PAIR)' + keep("auth"))], 3, 1),
    ("dict item set", [c(f'cfg = {{}}\ncfg["k"] = "{T}"\nk = ApiKey(cfg["k"])' + keep("k"))],
     3, 2),
    # -- defaults and fallbacks -----------------------------------------------------------
    ("function default", [c(f'def make(t="{T}"):\n    return Bearer(t)' + keep("make"))], 3, 1),
    ("kw-only default", [c(f'def make(*, t="{T}"):\n    return Bearer(t)' + keep("make"))], 3, 1),
    ("lambda default", [c(f'make = lambda t="{T}": Bearer(t)' + keep("make"))], 3, 1),
    ("module constant in a function", [c(f'V = "{T}"\n\n\ndef auth():\n'
                                         '    return {"Authorization": "Bearer " + V}'
                                         + keep("auth"))], 3, 1),
    ("local in the source", [c(f'@sync.source(key="id")\ndef more(since):\n    t = "{T}"\n'
                               "    yield Bearer(t)")], 3, 3),
    ("environ.get or", [c(f't = os.environ.get("CRM") or "{T}"\nauth = Bearer(t)'
                          + keep("auth"))], 3, 1),
    ("getenv default, neutral name", [c(f't = os.getenv("CRM_VALUE", "{T}")\nauth = Bearer(t)'
                                        + keep("auth"))], 3, 1),
    ("environ.get default, neutral", [c(f't = os.environ.get("X", "{T}")\nauth = Bearer(t)'
                                        + keep("auth"))], 3, 1),
    ("if-else fallback", [c(f't = os.environ["T"] if "T" in os.environ else "{T}"\n'
                            "auth = Bearer(t)" + keep("auth"))], 3, 1),
    # -- from_curl --------------------------------------------------------------------------
    ("from_curl bearer", [c("c2 = RestClient.from_curl(\"curl https://api.example.com/me "
                            f"-H 'Authorization: Bearer {T}'\")" + keep("c2"))], 3, 1),
    ("from_curl -u", [c(f'c2 = RestClient.from_curl("curl -u ada:{PW} https://a.example/me")'
                        + keep("c2"))], 3, 1),
    ("from_curl --user", [c(f'c2 = RestClient.from_curl("curl --user ada:{PW} '
                            'https://a.example/me")' + keep("c2"))], 3, 1),
    ("from_curl api key header", [c("c2 = RestClient.from_curl(\"curl -H 'X-API-Key: "
                                    f"{T}' https://a.example\")" + keep("c2"))], 3, 1),
    ("from_curl via variable", [c(f"cmd = \"curl -H 'Authorization: Bearer {T}' https://x.io\"\n"
                                  "c2 = RestClient.from_curl(cmd)" + keep("c2"))], 3, 1),
    # -- URLs, queries and bodies ------------------------------------------------------------
    ("relative ?api_key=", [c('r = crm.get("/contacts?api_key=abcd1234")' + keep("r"))], 3, 1),
    ("relative ?api_key= f-string", [c('k = "abcd1234"\nr = crm.get(f"/c?api_key={k}")'
                                       + keep("r"))], 3, 1),
    ("query concatenated", [c(f'BASE = "https://api.example.com/v1"\nt = "{T}"\n'
                              'URL = BASE + "/me?token=" + t' + keep("URL"))], 3, 2),
    ("url userinfo built", [c(f'u = "ada"\np = "{PW}"\nURL = f"https://{{u}}:{{p}}@a.example/v1"'
                              + keep("URL"))], 3, 2),
    ("params dict var", [c('k = "abcd1234"\nr = crm.get("/x", params={"api_key": k})'
                           + keep("r"))], 3, 1),
    ("json body var", [c(f'pw = "{PW}"\nr = crm.post("/login", json={{"username": "ada", '
                         '"password": pw})' + keep("r"))], 3, 1),
    ("form body var", [c(f's = "{T}"\nr = crm.post("/token", data={{"client_secret": s}})'
                         + keep("r"))], 3, 1),
    ("form body string", [c(f'r = crm.post("/login", content="user=ada&password={PW}")'
                            + keep("r"))], 3, 1),
    ("json text", [c(f"r = crm.post(\"/login\", content='{{\"password\": \"{PW}\"}}')"
                     + keep("r"))], 3, 1),
    # -- the parameters cell ------------------------------------------------------------------
    ("parameter flows to Bearer", [P(f'CRM = "{T}"'), c("auth = Bearer(CRM)" + keep("auth"))],
     3, 1),
    ("parameter Bearer default", [P(f'DEFAULT_HEADER = "Bearer {T}"'),
                                  c("ROWS.extend([DEFAULT_HEADER])")], 3, 1),
    ("parameter container", [P(f'BATCH = 10\nCREDS = {{"user": "ada", "password": "{PW}"}}'),
                             c("ROWS.extend([CREDS, BATCH])")], 3, 2),
    ("parameter secret list", [P(f'API_KEYS = ["{T}", "zyxw9876vuts"]'),
                               c("ROWS.extend(API_KEYS)")], 3, 1),
    ("parameter high entropy", [P(f'SEED = "{RANDOM}"'), c("ROWS.extend([SEED])")], 3, 1),
    # -- comments, docstrings, markdown ---------------------------------------------------------
    ("comment above", [c(f'# token: {T}\nauth = Bearer(os.environ["T"])' + keep("auth"))], 3, 1),
    ("trailing comment", [c(f'auth = Bearer(os.environ["T"])  # Bearer {T}' + keep("auth"))],
     3, 1),
    ("comment stripe", [c('# old key sk_live_abcdefghij0123456789\nx = 1' + keep("x"))], 3, 1),
    ("comment url creds", [c(f'# https://ada:{PW}@api.example.com\nx = 1' + keep("x"))], 3, 1),
    ("docstring bearer", [c(f'def f():\n    """Call with Bearer {T}."""\n    return 1'
                          + keep("f"))],
     3, 2),
    ("docstring password", [c(f'def f():\n    """Log in.\n\n    password={PW}\n    """\n'
                              "    return 1" + keep("f"))], 3, 4),
    ("markdown heading", [m("## Key sk_live_abcdefghij0123456789 for the CRM"),
                          c("x = 1" + keep("x"))], 3, 1),
    ("markdown heading bearer", [m(f"Use `Authorization: Bearer {T}`"), c("x = 1" + keep("x"))],
     3, 1),
    # -- magics ------------------------------------------------------------------------------
    ("%%rest ?api_key=", [c("%%rest crm --out me\nGET /contacts?api_key=abcd1234"),
                          c("ROWS.extend([me])")], 3, 2),
    ("%%rest ?access_token=", [c("%%rest crm --out me\nGET /me?access_token=abcd1234"),
                               c("ROWS.extend([me])")], 3, 2),
    ("%%rest form password", [c("%%rest crm --out me\nPOST /login\n"
                                "Content-Type: application/x-www-form-urlencoded\n\n"
                                f"username=ada&password={PW}"), c("ROWS.extend([me])")], 3, 5),
    ("%%rest Cookie", [c(f"%%rest crm --out me\nGET /me\nCookie: session={T}"),
                       c("ROWS.extend([me])")], 3, 3),
    ("%%rest text json body", [c("%%rest crm --out me\nPOST /login\nContent-Type: text/plain\n\n"
                                 f'{{"password": "{PW}"}}'), c("ROWS.extend([me])")], 3, 5),
    ("%%graphql password:", [c("%%graphql crm --out me\nmutation {\n"
                               f'  login(user: "ada", password: "{PW}") {{ token }}\n}}'),
                             c("ROWS.extend([me])")], 3, 3),
    ("%%graphql apiKey:", [c(f'%%graphql crm --out me\n{{ me(apiKey: "{T}") {{ id }} }}'),
                           c("ROWS.extend([me])")], 3, 2),
    # -- the notebook's own functions, decoding, odd shapes -------------------------------------
    ("helper argument", [c(f'def make(x):\n    return Bearer(x)\n\n\nauth = make("{T}")'
                           + keep("auth"))], 3, 5),
    ("helper returns a literal", [c(f'def token():\n    return "{T}"\n\n\n'
                                    "auth = Bearer(token())" + keep("auth"))], 3, 2),
    ("helper across cells", [c('def headers(x):\n    return {"Authorization": "Bearer " + x}'),
                             c(f'H = headers("{T}")' + keep("H"))], 4, 1),
    ("reversed slice", [c('t = "hgfe4321dcba"[::-1]\nauth = Bearer(t)' + keep("auth"))], 3, 1),
    ("b64decode", [c('t = base64.b64decode("YWJjZDEyMzRlZmdo").decode()\nauth = Bearer(t)'
                     + keep("auth"))], 3, 1),
    ("setattr", [c(f'v = "{T}"\nsetattr(crm, "token", v)' + keep("crm"))], 3, 1),
    ("requests HTTPBasicAuth", [c(f'p = "{PW}"\na = HTTPBasicAuth("ada", p)' + keep("a"))], 3, 1),
    ("auth tuple var", [c(f'p = "{PW}"\nc2 = httpx.Client(auth=("ada", p))' + keep("c2"))], 3, 1),
    ("class attribute", [c(f'v = "{T}"\n\n\nclass Cfg:\n    token = v' + keep("Cfg"))], 3, 1),
    ("percent mapping", [c(f't = "{T}"\nH = {{"Authorization": "Bearer %(t)s" % {{"t": t}}}}'
                           + keep("H"))], 3, 1),
    ("headers.update kwargs", [c(f't = "{T}"\ncrm.headers.update(Authorization="Bearer " + t)')],
     3, 1),
    ("dict spread", [c(f't = "{T}"\nH = {{**{{"Accept": "x"}}, "Authorization": "Bearer " + t}}'
                       + keep("H"))], 3, 1),
    ("dict.get fallback", [c(f'CFG = {{}}\nt = CFG.get("tok", "{T}")\nauth = Bearer(t)'
                             + keep("auth"))], 3, 2),
    ("environ.get secret default var", [c(f'v = "{T}"\nt = os.environ.get("CRM_TOKEN", v)'
                                          + keep("t"))], 3, 1),
    ("%%rest template to a literal", [c(f'tok = "{T}"'),
                                      c("%%rest crm --out me\nGET /me\n"
                                        "Authorization: Bearer {{tok}}"),
                                      c("ROWS.extend([me])")], 3, 1),
    ("%%soap template to a literal", [c(f'pw = "{PW}"\nbilling = crm'),
                                      c('%%soap billing Login --out me\nusername: ada\n'
                                        'password: "{{pw}}"'), c("ROWS.extend([me])")], 3, 1),
    ("from_curl f-string", [c(f't = "{T}"\nc2 = RestClient.from_curl(f"curl -H '
                              "'Authorization: Bearer {t}' https://x.io\")" + keep("c2"))], 3, 1),
    ("from_curl cookie", [c(f"c2 = RestClient.from_curl(\"curl -b 'session={T}' https://x.io\")"
                            + keep("c2"))], 3, 1),
    ("client headers", [c(f'k = "{T}"\nc2 = RestClient("https://x.io", headers={{"X-API-Key": k}})'
                          + keep("c2"))], 3, 1),
    ("client url userinfo", [c(f'p = "{PW}"\nc2 = RestClient("https://ada:" + p + "@x.io")'
                               + keep("c2"))], 3, 1),
    ("token assembled", [c('K = "sk_live_" + "abcdefghij0123456789"' + keep("K"))], 3, 1),
    ("class docstring", [c(f'class Cfg:\n    """Notes: password={PW}"""\n\n    timeout = 5'
                           + keep("Cfg"))], 3, 2),
    ("markdown password", [m(f"### password: {PW}x"), c("x = 1" + keep("x"))], 3, 1),
    # -- more variations -----------------------------------------------------------------------
    ("None or literal", [c(f'TOKEN = None\nTOKEN = TOKEN or "{T}"' + keep("TOKEN"))], 3, 2),
    ("Bearer(token=var)", [c(f't = "{T}"\nauth = Bearer(token=t)' + keep("auth"))], 3, 1),
    ("parameter into a header", [P('MAIL = "k5521aa"'), c('H = {"X-API-Key": MAIL}' + keep("H"))],
     3, 1),
    ("for over a literal list", [c(f'for t in ["{T}"]:\n    auth = Bearer(t)' + keep("auth"))],
     3, 1),
    ("nested dict", [c(f'CFG = {{"crm": {{"u": "x"}}, "mail": {{"k": "{T}"}}}}\n'
                       'auth = ApiKey(CFG["mail"]["k"])' + keep("auth"))], 3, 1),
    ("instance attribute", [c(f'class C:\n    def __init__(self):\n        self.t = "{T}"\n\n'
                              "    def auth(self):\n        return Bearer(self.t)\n\n\nx = C()"
                              + keep("x"))], 3, 3),
    ("class attribute lookup", [c(f'class C:\n    tok = "{T}"\n\n\nauth = Bearer(C.tok)'
                                  + keep("auth"))], 3, 2),
    ("global in a function", [c(f'def setup():\n    global TOK\n    TOK = "{T}"\n\n\n'
                                "setup()\nauth = Bearer(TOK)" + keep("auth"))], 3, 3),
    ("credential under a digest name", [c('sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"\n'
                                          "auth = Bearer(sha)" + keep("auth"))], 3, 1),
    ("inside %%time", [c(f'%%time\nt = "{T}"\nauth = Bearer(t)' + keep("auth"))], 3, 2),
    ("OAuth2 authorization code", [c(f's = "{T}"\nflow = OAuth2AuthorizationCode(authorization_url='
                                     '"https://a.example/authorize", token_url="https://a.example/'
                                     'token", client_id="notebook", client_secret=s)'
                                     + keep("flow"))], 3, 1),
    ("OAuth2 device code", [c(f'flow = OAuth2DeviceCode(device_authorization_url="https://a.example/'
                              'device", token_url="https://a.example/token", client_id="cli", '
                              f'client_secret="" or "{T}")' + keep("flow"))], 3, 1),
    ("str() wrapper", [c(f'auth = Bearer(str("{T}"))' + keep("auth"))], 3, 1),
    ("upper", [c(f't = "{T}".upper()\nauth = Bearer(t)' + keep("auth"))], 3, 1),
    ("strip", [c(f't = "  {T}  ".strip()\nauth = Bearer(t)' + keep("auth"))], 3, 1),
    ("replace", [c(f't = "{T}-x".replace("-x", "")\nauth = Bearer(t)' + keep("auth"))], 3, 1),
    ("json.dumps body", [c(f'import json\npw = "{PW}"\nbody = json.dumps({{"password": pw}})'
                           + keep("body"))], 3, 2),
    ("urlencode", [c('from urllib.parse import urlencode\nk = "abcd1234"\n'
                     'q = urlencode({"api_key": k})' + keep("q"))], 3, 2),
    ("httpx header list", [c(f't = "{T}"\nc2 = httpx.Client(headers=[("Authorization", '
                             'f"Bearer {t}")])' + keep("c2"))], 3, 1),
    ("%%graphql template to a literal", [c(f'pw = "{PW}"'),
                                         c('%%graphql crm --out me\nmutation { login(user: "ada", '
                                           'password: "{{pw}}") { token } }'),
                                         c("ROWS.extend([me])")], 3, 1),
    ("%%rest query template to a literal", [c('k = "abcd1234"'),
                                            c("%%rest crm --out me\nGET /contacts?api_key={{k}}"),
                                            c("ROWS.extend([me])")], 3, 1),
    ("comment in a function", [c(f"def f():\n    # api_key: {T}\n    return 1" + keep("f"))],
     3, 2),
    ("comment in the source", [c(f'@sync.source(key="id")\ndef more(since):\n'
                                 f"    # Authorization: Bearer {T}\n    yield from ROWS")], 3, 3),
    # -- high entropy ---------------------------------------------------------------------------
    ("high entropy 24", [c(f'SEED = "{RANDOM}"' + keep("SEED"))], 3, 1),
    ("base64url 40", [c(f'X = "{URLSAFE}"' + keep("X"))], 3, 1),
]  # fmt: skip

# (id, cells from index 3): each must export
LOOKALIKES: list[tuple[str, list[Any]]] = [
    ("Secret.from_env", [c('auth = Bearer(Secret.from_env("CRM_TOKEN"))' + keep("auth"))]),
    ("environ var", [c('t = os.environ["CRM_TOKEN"]\nauth = Bearer(t)' + keep("auth"))]),
    ("token_url", [c('TOKEN_URL = "https://auth.example.com/oauth/token"\n'
                     'a = OAuth2ClientCredentials(TOKEN_URL, os.environ["ID"], '
                     'Secret.from_env("S"))' + keep("a"))]),
    ("env var name", [c('ENV = "CRM_TOKEN"\nauth = Bearer(Secret.from_env(ENV))' + keep("auth"))]),
    ("placeholder", [c('t = "<your token>"\nauth = Bearer(t)' + keep("auth"))]),
    ("key=id", [c('@sync.source(key="id", cursor="updated_at")\ndef more(since):\n'
                  "    yield from ROWS")]),
    ("doc url", [c('DOCS = "https://developer.example.com/docs/authentication#api-key"'
                   + keep("DOCS"))]),
    ("uuid id", [c('ACCOUNT_ID = "123e4567-e89b-12d3-a456-426614174000"\n'
                   'r = crm.get(f"/accounts/{ACCOUNT_ID}")' + keep("r"))]),
    ("Bearer + environ", [c('H = {"Authorization": "Bearer " + os.environ["T"]}' + keep("H"))]),
    ("f-string Bearer env", [c('tok = os.environ["T"]\nH = {"Authorization": f"Bearer {tok}"}'
                               + keep("H"))]),
    ("headers[] env", [c('crm.headers["Authorization"] = "Bearer " + '
                         'Secret.from_env("T").reveal()')]),
    ("params env", [c('r = crm.get("/x", params={"api_key": os.environ["K"]})' + keep("r"))]),
    ("Basic user literal", [c('auth = Basic("ada", os.environ["PW"])' + keep("auth"))]),
    ("user:pw from env", [c('u = "ada"\ncred = "%s:%s" % (u, os.environ["PW"])\n'
                            'enc = b64encode(cred.encode())' + keep("enc"))]),
    ("b64 not creds", [c('enc = b64encode(b"hello world")' + keep("enc"))]),
    ("allow marker", [c(f't = "{T}"  # apinotebook: allow-secret\nauth = Bearer(t)'
                        + keep("auth"))]),
    ("allow marker on token", [c('FIXTURE = "sk_test_abcdefghij0123456789"  '
                                 "# apinotebook: allow-secret" + keep("FIXTURE"))]),
    ("comment names the env var", [c("# the token comes from CRM_TOKEN (Bearer token)\nx = 1"
                                     + keep("x"))]),
    ("docstring", [c('def f():\n    """Read the API key from the environment; send a Bearer '
                     'token."""\n    return 1' + keep("f"))]),
    ("markdown heading", [m("## Authenticate with a Bearer token (api_key=...)"),
                          c("x = 1" + keep("x"))]),
    ("from_curl without secret", [c("c2 = RestClient.from_curl(\"curl -H 'Accept: "
                                    "application/json' https://api.example.com/me\")"
                                    + keep("c2"))]),
    ("from_curl env", [c("c2 = RestClient.from_curl('curl -H \"Authorization: Bearer "
                         "$CRM_TOKEN\" https://api.example.com/me')" + keep("c2"))]),
    ("hash context", [c('PINNED_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"'
                        + keep("PINNED_SHA"))]),
    ("camelCase operation", [c('OPERATION = "getContactsUpdatedSince2024"' + keep("OPERATION"))]),
    ("snake identifier", [c('T1 = "contacts_updated_since_2024_v2_final"' + keep("T1"))]),
    ("parameters", [P('BATCH_SIZE = 100\nCRM_URL = "http://localhost:8000"\n'
                      'TOKEN_ENV = "CRM_TOKEN"\nCRM_TOKEN = ""'),
                    c("ROWS.extend([BATCH_SIZE, CRM_URL, TOKEN_ENV])")]),
    ("token_type", [c('token_type = "bearer"\nPASSWORD_FIELD = "password"'
                      + keep("token_type", "PASSWORD_FIELD"))]),
    ("cookie from env", [c("H = {\"Cookie\": f\"session={os.environ['S']}\"}" + keep("H"))]),
    ("graphql variable", [c("%%graphql crm --out me\nmutation Login($pw: String!) {\n"
                            '  login(user: "ada", password: $pw) { token }\n}'),
                          c("ROWS.extend([me])")]),
    ("%%rest template", [c("%%rest crm --out me\nGET /contacts?api_key={{MAIL_API_KEY}}\n"
                           "Authorization: Bearer {{CRM_TOKEN}}"), c("ROWS.extend([me])")]),
    ("idempotency key", [c('H = {"Idempotency-Key": str(ROWS[0]["id"]), "Accept": "text/csv"}'
                           + keep("H"))]),
    ("weak key name", [c('key = "email"\nsort_key = "updated_at"' + keep("key", "sort_key"))]),
    ("no-export cell", [c(f't = "{T}"\nBearer(t)', "no-export")]),
    ("helper with env", [c('def make(x):\n    return Bearer(x)\n\n\n'
                           'auth = make(os.environ["T"])' + keep("auth"))]),
    ("challenge", [c('CHALLENGE = \'Bearer realm="api"\'' + keep("CHALLENGE"))]),
    ("form template", [c('BODY = "grant_type=client_credentials&client_secret={secret}"'
                         + keep("BODY"))]),
    ("paging token", [c('NEXT_PAGE_TOKEN = "pageToken"\nr = crm.get("/x", params={"next_page_token"'
                        ': "abc123def456"})' + keep("NEXT_PAGE_TOKEN", "r"))]),
    ("sentence key", [c('REASONS = {"credentials stay with you": "self-hosted"}'
                        + keep("REASONS"))]),
    ("flag string", [c('ARG = "secret=True"' + keep("ARG"))]),
    ("loop over env names", [c('KEYS = {}\nfor name in ["CRM_TOKEN", "MAIL_API_KEY"]:\n'
                               '    KEYS[name] = os.environ.get(name, "")' + keep("KEYS"))]),
    ("class config", [c('class Config:\n    token_url = "https://auth.example.com/token"\n'
                        '    token = Secret.from_env("T")\n\n\nauth = Bearer(Config.token)'
                        + keep("auth", "Config"))]),
    ("replace in a URL", [c('URL = "https://api.example.com/v1/{id}".replace("{id}", "42")'
                            + keep("URL"))]),
    ("allow marker in %%time", [c(f'%%time\nt = "{T}"  # apinotebook: allow-secret\n'
                                  "auth = Bearer(t)" + keep("auth"))]),
    ("consent cookie", [c('H = {"Cookie": "consent=accepted; theme=dark"}' + keep("H"))]),
    ("query without secret", [c('r = crm.get("/contacts?limit=100&cursor=abc&key_field=email")'
                                + keep("r"))]),
]  # fmt: skip


@pytest.mark.parametrize(("label", "cells", "cell", "line"), BYPASSES, ids=[b[0] for b in BYPASSES])
def test_bypass_is_refused(
    tmp_path: Path, label: str, cells: list[Any], cell: int, line: int
) -> None:
    nb = build(tmp_path, cells)
    out = tmp_path / "out.py"
    with pytest.raises(LiteralSecretError) as info:
        export_notebook(nb, out, format=False)
    message = str(info.value)
    assert (info.value.cell, info.value.line) == (cell, line), message
    assert message.startswith(f"cell {cell}, line {line}: "), message
    assert not any(secret in message for secret in SECRETS), message
    assert "Secret.from_env" in message and "apinotebook: allow-secret" in message, message
    assert not out.exists()


@pytest.mark.parametrize(("label", "cells"), LOOKALIKES, ids=[look[0] for look in LOOKALIKES])
def test_lookalike_is_exported(tmp_path: Path, label: str, cells: list[Any]) -> None:
    nb = build(tmp_path, cells)
    result = export_notebook(nb, tmp_path / "out.py", format=False)
    assert result.path.exists()


def test_corpus_sizes() -> None:
    assert len(BYPASSES) >= 60
    assert len(LOOKALIKES) >= 20
    assert len({b[0] for b in BYPASSES}) == len(BYPASSES)


def test_title_is_checked(tmp_path: Path) -> None:
    nb = build(tmp_path, [], before=[m(f"# CRM sync (Bearer {T})")])
    with pytest.raises(LiteralSecretError) as info:
        export_notebook(nb, tmp_path / "out.py", format=False)
    assert (info.value.cell, info.value.line) == (0, 1)


def test_the_message_says_where_it_is_used_and_what_to_do(tmp_path: Path) -> None:
    nb = build(tmp_path, [c(f't = "{T}"'), c("auth = Bearer(t)" + keep("auth"))])
    with pytest.raises(LiteralSecretError) as info:
        export_notebook(nb, tmp_path / "out.py", format=False)
    message = str(info.value)
    assert "cell 4, line 1" in message and "Bearer()" in message, message
    assert "parameters cell" in message, message


def test_a_bare_string_that_is_dropped_is_only_a_warning(tmp_path: Path) -> None:
    nb = build(tmp_path, [c(f'"""Notes: password={PW}"""\nx = 1' + keep("x"))])
    result = export_notebook(nb, tmp_path / "out.py", format=False)
    assert PW not in result.path.read_text()
    assert any("cell 3, line 1 (not exported)" in w for w in result.warnings), result.warnings
    assert not any(PW in w for w in result.warnings)


def test_the_marker_in_a_magic_cell_allows_the_cell(tmp_path: Path) -> None:
    magic = "%%rest crm --out me\n# apinotebook: allow-secret (a public demo key)\n"
    nb = build(tmp_path, [c(magic + "GET /contacts?api_key=demo1234"), c("ROWS.extend([me])")])
    assert "demo1234" in export_notebook(nb, tmp_path / "out.py", format=False).path.read_text()


def test_the_marker_on_the_line_that_uses_it(tmp_path: Path) -> None:
    nb = build(tmp_path, [c(f't = "{T}"'), c("auth = Bearer(t)  # apinotebook: allow-secret"
                                               + keep("auth"))])  # fmt: skip
    export_notebook(nb, tmp_path / "out.py", format=False)


def test_the_marker_in_markdown_and_the_documented_example(tmp_path: Path) -> None:
    heading = m("## Test key sk_test_abcdefghij0123456789 <!-- apinotebook: allow-secret -->")
    cells = [
        heading,
        c('DEMO_KEY = "demo-4e1f-public"  # apinotebook: allow-secret' + keep("DEMO_KEY")),
    ]
    export_notebook(build(tmp_path, cells), tmp_path / "out.py", format=False)
    with pytest.raises(LiteralSecretError):
        export_notebook(build(tmp_path, [c('DEMO_KEY = "demo-4e1f-public"' + keep("DEMO_KEY"))]),
                        tmp_path / "out2.py", format=False)  # fmt: skip


def test_a_parameter_with_the_marker(tmp_path: Path) -> None:
    nb = build(tmp_path, [P(f'API_TOKEN = "{T}"  # apinotebook: allow-secret'),
                          c("ROWS.extend([API_TOKEN])")])  # fmt: skip
    export_notebook(nb, tmp_path / "out.py", format=False)


def test_a_flow_in_dropped_code_is_only_a_warning(tmp_path: Path) -> None:
    nb = build(tmp_path, [c(f't = "{T}"\nprobe = Bearer(t)')])
    result = export_notebook(nb, tmp_path / "out.py", format=False)
    assert T not in result.path.read_text()
    assert any("cell 3, line 1 (not exported)" in w for w in result.warnings), result.warnings
