"""Find literal secrets in code that is about to be exported.

An exported script is a file people copy, commit and mail around, so the
exporter refuses to write a credential into it. This module looks at the
syntax tree (never at the code with regexes) for:

- string literals assigned to, passed as or stored under a name that holds a
  credential (``token``, ``secret``, ``password``, ``api_key``, ``key``,
  ``auth``, ...): assignments, keyword arguments, dict keys, ``(name, value)``
  header pairs, ``os.environ[...] =`` and function defaults;
- ``Authorization`` / ``X-API-Key`` style headers with a literal value;
- ``"Bearer ..."`` / ``"Basic ..."`` literals;
- the credential argument of ``Secret(...)``, ``Bearer(...)``, ``Basic(u, ...)``,
  ``ApiKey(...)``, ``OAuth2ClientCredentials(..., ..., secret)``,
  ``WsseUsernameToken(u, ...)`` and the default of ``Secret.from_env`` /
  ``os.environ.get``;
- token-looking literals anywhere: well-known prefixes (``sk_live_``,
  ``ghp_``, ``xoxb-``, ``AKIA``...), JWTs (``eyJ...``), private keys, long
  random-looking runs of hex or base64, and shorter (20+) random-looking
  words mixing upper case, lower case and digits (base64url included);
- credentials in URLs, absolute or relative (``/contacts?api_key=...``);
  ``Cookie`` values.

A hex string or UUID held under a name that says it is an identifier or a
digest (``..._id``, ``sha``, ``sha256``, ``digest``, ``checksum``, ``etag``,
``commit``...) is not a token. Values that travel (through variables,
f-strings, ``+``, defaults...) are followed by :mod:`._dataflow`.

False positives are kept low on purpose: names such as ``token_url``,
``secret_env`` or ``api_key_header`` describe *where* a secret is, not the
secret; ambiguous names (``key``, ``auth``) only count with a value that
looks like a credential (``key="id"`` is a record key); placeholders such as
``""``, ``"***"``, ``"<token>"``, ``"{{TOKEN}}"`` or ``"CRM_TOKEN"`` (an
environment variable's name) never count, and neither do URLs without
credentials in them.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "ALLOW_MARKER",
    "CREDENTIAL_ARGS",
    "Finding",
    "cookie_problem",
    "is_hash_context",
    "looks_like_credential",
    "secret_strength",
    "is_placeholder",
    "is_secret_name",
    "looks_like_token",
    "preview",
    "scan_header",
    "scan_tree",
]

#: a comment that marks a reviewed string on its line as not a secret
ALLOW_MARKER = "apinotebook: allow-secret"

_STRONG_WORDS = frozenset(
    {
        "token",
        "tokens",
        "secret",
        "secrets",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "credential",
        "credentials",
        "authorization",
        "apikey",
        "bearer",
    }
)
_STRONG_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("signing", "key"),
        ("client", "secret"),
        ("app", "key"),
        ("auth", "key"),
        ("master", "key"),
    }
)
_WEAK_WORDS = frozenset({"key", "auth", "sig", "signature"})
_PAGING = frozenset({"page", "next", "pagination", "continuation", "cursor", "resume", "sync"})
_ALL_WORDS = _STRONG_WORDS | _WEAK_WORDS | {w for pair in _STRONG_PAIRS for w in pair}
#: A name ending with one of these says where or what a secret is, not its value.
_DESCRIPTIVE = frozenset(
    {
        "url", "uri", "urls", "endpoint", "path", "file", "filename", "dir", "env", "var",
        "variable", "name", "names", "type", "header", "headers", "field", "fields", "param",
        "params", "parameter", "prefix", "suffix", "id", "ids", "length", "len", "ttl", "expiry",
        "expires", "expiration", "in", "at", "scope", "scopes", "kind", "format", "mode",
        "location", "label", "pattern", "regex", "count", "size", "scheme", "query", "cookie",
        "source", "hint", "template", "method", "flow", "store", "column", "col", "attr",
        "version", "enabled", "required", "provider", "class", "style", "placement", "host",
        "port", "timeout", "policy", "valid", "error", "message", "description", "doc",
    }
)  # fmt: skip
#: Values that stand for a secret rather than being one.
_PLACEHOLDER = re.compile(
    r"""(?ix)^(
        \**|x+|\.\.\.|…|-+|_+|
        <[^<>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%\([A-Za-z_]+\)s|
        changeme|change[-_ ]?me|change[-_ ]?this|todo|tbd|fixme|none|null|nil|redacted|masked|
        secret|password|passwd|token|api[-_ ]?key|key|bearer|basic|
        your[-_ ].*|my[-_ ].*|insert[-_ ].*|replace[-_ ].*|enter[-_ ].*|put[-_ ].*|
        example.*|sample.*|dummy.*|fake.*|placeholder.*|test|testing|
        \{[A-Za-z0-9_.]*\}|%[sr]
    )$"""
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
_SCHEME_VALUE = re.compile(r"(?i)^\s*(bearer|basic|token|apikey|api-key|digest)\s+(\S.*)$")
_KNOWN_TOKENS = re.compile(
    r"""(?x)(
        \b(sk|pk|rk)_(live|test)_[A-Za-z0-9]{10,}
        |\bsk-(proj-)?[A-Za-z0-9_-]{20,}
        |\bsk_[A-Za-z0-9]{16,}
        |\bgh[pousr]_[A-Za-z0-9]{20,}
        |\bgithub_pat_[A-Za-z0-9_]{20,}
        |\bxox[abposr]-[A-Za-z0-9-]{10,}
        |\bAKIA[0-9A-Z]{16}\b
        |\bAIza[0-9A-Za-z_-]{35}
        |\bglpat-[A-Za-z0-9_-]{20,}
        |\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}
        |-----BEGIN[A-Z ]*PRIVATE\ KEY-----
    )"""
)
_RUN = re.compile(r"[A-Za-z0-9+/]{32,}")
_WORD = re.compile(r"[A-Za-z0-9_-]{20,}")
_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_HEX = re.compile(r"^[0-9a-fA-F]{7,128}$")
#: a name ending with one of these holds an identifier or a digest, not a credential
_HASH_WORDS = frozenset(
    {"id", "ids", "uuid", "guid", "sha", "sha1", "sha256", "sha512", "md5", "hash", "digest",
     "checksum", "etag", "commit", "revision", "rev", "fingerprint"}
)  # fmt: skip
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

#: callee name -> (position, keyword) of its credential argument
CREDENTIAL_ARGS: dict[str, tuple[int, str]] = {
    "Secret": (0, "value"),
    "Bearer": (0, "token"),
    "Basic": (1, "password"),
    "BasicAuth": (1, "password"),
    "DigestAuth": (1, "password"),
    "ApiKey": (0, "key"),
    "OAuth2ClientCredentials": (2, "client_secret"),
    # keyword-only: no position ever matches
    "OAuth2AuthorizationCode": (99, "client_secret"),
    "OAuth2DeviceCode": (99, "client_secret"),
    "from_issuer": (99, "client_secret"),
    "WsseUsernameToken": (1, "password"),
    "UsernameToken": (1, "password"),
    "HTTPBasicAuth": (1, "password"),
    "HTTPDigestAuth": (1, "password"),
}
#: callee name -> (position, keyword) of a default value for a named secret
_DEFAULT_ARGS: dict[str, tuple[int, str]] = {
    "from_env": (1, "default"),
    "get": (1, "default"),
    "getenv": (1, "default"),
    "setdefault": (1, "default"),
}


@dataclass(frozen=True)
class Finding:
    """A literal secret: where it is (1-based line, 0-based column) and why it counts."""

    line: int
    col: int
    reason: str
    value: str

    def describe(self) -> str:
        """The reason with a masked preview of the value (never the value itself)."""
        return f"{self.reason} ({preview(self.value)})"


def preview(value: str) -> str:
    """A masked preview: a prefix of a long token, else only ``***``."""
    if len(value) >= 20:
        return repr(value[:4] + "***")
    return "'***'"


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def _strength(name: str) -> str | None:
    """``"strong"``, ``"weak"`` or ``None``: how surely ``name`` holds a credential."""
    words = _words(name)
    if not words or words[-1] in _DESCRIPTIVE or any(c in name.strip() for c in " /"):
        return None  # a sentence or a path is not a name
    # plurals (api_keys, passwords) hold credentials too
    words = [w[:-1] if w.endswith("s") and w[:-1] in _ALL_WORDS else w for w in words]
    if any(a in _PAGING and b == "token" for a, b in zip(words, words[1:], strict=False)):
        return None  # next_page_token, pagination_token: a cursor, not a credential
    if any(w in _STRONG_WORDS for w in words):
        return "strong"
    if any(pair in _STRONG_PAIRS for pair in zip(words, words[1:], strict=False)):
        return "strong"
    if any(w in _WEAK_WORDS for w in words):
        return "weak"
    return None


def is_secret_name(name: str) -> bool:
    """Whether a variable, keyword, key or header called ``name`` holds a credential."""
    return _strength(name) is not None


def is_placeholder(value: str) -> bool:
    """Whether ``value`` stands for a secret (``""``, ``"***"``, ``"<token>"``, ``"{{X}}"``...)."""
    text = value.strip()
    if not text or len(set(text)) == 1 or "{{" in text or "{%" in text:
        return True
    return bool(_PLACEHOLDER.match(text) or _ENV_NAME.match(text))


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _random_run(text: str) -> bool:
    for match in _RUN.finditer(text):
        run = match.group()
        digits = sum(c.isdigit() for c in run)
        letters = sum(c.isalpha() for c in run)
        if digits < 3 or letters < 3 or run.count("/") > len(run) / 16:
            continue
        if _entropy(run) >= 3.0:
            return True
    for match in _WORD.finditer(text):
        word = match.group()
        counts = [sum(f(c) for c in word) for f in (str.isupper, str.islower, str.isdigit)]
        segments = _SEGMENT.findall(word)
        if min(counts) < 2 or not segments or _UUID.match(word):
            continue
        if sum(map(len, segments)) / len(segments) < 2.5 and _entropy(word) >= 3.5:
            return True
    return False


def is_hash_context(name: str | None, value: str) -> bool:
    """Whether ``value`` under ``name`` is a hex id or digest (``commit_sha = "9f8..."``)."""
    words = _words(name or "")
    text = value.strip()
    return bool(words) and words[-1] in _HASH_WORDS and bool(_HEX.match(text) or _UUID.match(text))


def _url_credentials(value: str) -> str | None:
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    relative = not parts.scheme and "?" in value and not any(c.isspace() for c in value)
    if not (parts.scheme and parts.netloc) and not relative:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    if ":" in userinfo and not is_placeholder(userinfo.partition(":")[2]):
        return "a password in a URL"
    for name, item in parse_qsl(parts.query, keep_blank_values=True):
        template = "{" in item or "%" in item or "$" in item
        if _strength(name) == "strong" and not is_placeholder(item) and len(item) >= 4:
            if not template:
                return f"a literal {name!r} in a URL's query string"
    return None


def looks_like_token(value: str) -> bool:
    """Whether ``value`` looks like an API token, a JWT, a private key or random key material."""
    text = value.strip()
    if not text or _UUID.match(text):
        return False
    if _KNOWN_TOKENS.search(text):
        return True
    if "://" in text:  # a URL: only its credentials count (see _url_credentials)
        return False
    return _random_run(text)


def secret_strength(name: str) -> str | None:
    """``"strong"``, ``"weak"`` or ``None``: how surely ``name`` holds a credential."""
    return _strength(name)


def looks_like_credential(value: str) -> bool:
    """For ambiguous names: long, no spaces, letters and digits (or a known token shape)."""
    return _looks_like_credential(value)


def _looks_like_credential(value: str) -> bool:
    """For ambiguous names: long, no spaces, letters and digits (or a known token shape)."""
    text = value.strip()
    if looks_like_token(text):
        return True
    if len(text) < 12 or any(c.isspace() for c in text) or "://" in text or "/" in text:
        return False
    return any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


def _value_problem(name: str, value: str) -> str | None:
    """Why a literal ``value`` held under ``name`` is a secret, if it is one."""
    strength = _strength(name)
    if strength is None or is_placeholder(value) or "://" in value:
        return None
    scheme = _SCHEME_VALUE.match(value)
    if scheme and is_placeholder(scheme.group(2)):
        return None
    if strength == "strong" and len(value.strip()) >= 4:
        return f"a literal value for {name!r}"
    if strength == "weak" and _looks_like_credential(value):
        return f"a literal value for {name!r}"
    return None


def scan_header(name: str, value: str) -> str | None:
    """Why a header with a literal ``value`` leaks a secret (for ``%%rest`` cells), if it does."""
    if "{{" in value:
        literal = re.sub(r"\{\{.*?\}\}", "", value)
        return _literal_problem(literal) if literal.strip() else None
    return _value_problem(name, value) or _literal_problem(value)


_SESSION = re.compile(r"(?i)sess|sid|token|auth|jwt|csrf|xsrf|login|remember|secret|key")


def cookie_problem(value: str) -> str | None:
    """Why a literal ``Cookie`` header value leaks a session, if it does.

    A cookie counts when its name says session or credential (``session``,
    ``sid``, ``auth_token``...) or its value looks like one; ``theme=dark``
    and ``consent=accepted`` do not.
    """
    for part in value.split(";"):
        name, _, item = part.strip().partition("=")
        item = item.strip().strip('"')
        if len(item) < 6 or is_placeholder(item) or "{" in item:
            continue
        if _SESSION.search(name) or _looks_like_credential(item):
            return f"a literal cookie {name.strip()!r}"
    return None


def _literal_problem(value: str) -> str | None:
    """Why a string literal is a secret wherever it appears, if it is one."""
    scheme = _SCHEME_VALUE.match(value)
    if scheme:
        credential = scheme.group(2).strip()
        challenge = re.match(r'\w+="', credential)  # WWW-Authenticate: Bearer realm="api"
        real = not is_placeholder(credential) and not challenge
        if real and len(credential) >= 4 and " " not in credential:
            return f"a literal {scheme.group(1).title()} credential"
    if looks_like_token(value):
        return "a literal that looks like an API token or key"
    return _url_credentials(value)


def _const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return node.value.decode("utf-8", "replace")
    return None


def _target_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _const_str(node.slice)
    return None


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _argument(node: ast.Call, position: int, keyword: str) -> ast.AST | None:
    for kw in node.keywords:
        if kw.arg == keyword:
            return kw.value
    if len(node.args) > position and not any(
        isinstance(a, ast.Starred) for a in node.args[: position + 1]
    ):
        return node.args[position]
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._reported: set[int] = set()
        self._exempt: set[int] = set()

    def report(self, node: ast.AST, reason: str, value: str) -> None:
        if id(node) in self._reported:
            return
        self._reported.add(id(node))
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        self.findings.append(Finding(line, col, reason, value))

    def pair(self, name: str | None, value_node: ast.AST | None) -> None:
        """A value held under a name (assignment, keyword, dict key, default)."""
        if name is None or value_node is None:
            return
        value = _const_str(value_node)
        if value is not None and is_hash_context(name, value):
            self._exempt.add(id(value_node))
        elif value is not None and name.lower() in ("cookie", "set-cookie"):
            problem = cookie_problem(value)
            if problem:
                self.report(value_node, problem, value)
        elif value is not None:
            problem = _value_problem(name, value)
            if problem:
                self.report(value_node, problem, value)
        elif isinstance(value_node, ast.Tuple | ast.List) and _strength(name) is not None:
            # auth=("user", "password"): the last element is the credential
            items = [_const_str(e) for e in value_node.elts]
            if len(items) == 2 and items[1] is not None and not is_placeholder(items[1]):
                self.report(value_node.elts[1], f"a literal password in {name!r}", items[1])

    # -- statements ------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for t, v in zip(target.elts, node.value.elts, strict=False):
                    self.pair(_target_name(t), v)
            else:
                self.pair(_target_name(target), node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.pair(_target_name(node.target), node.value)
        self.generic_visit(node)

    def _defaults(self, args: ast.arguments) -> None:
        positional = args.posonlyargs + args.args
        with_defaults = positional[len(positional) - len(args.defaults) :]
        for arg, default in zip(with_defaults, args.defaults, strict=True):
            self.pair(arg.arg, default)
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            self.pair(arg.arg, kw_default)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._defaults(node.args)
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._defaults(node.args)
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._defaults(node.args)
        self.generic_visit(node)

    # -- expressions -----------------------------------------------------------------

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            self.pair(_const_str(key), value)
        self.generic_visit(node)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        # [("Authorization", "Bearer abc")]: a header pair
        if len(node.elts) == 2:
            self.pair(_const_str(node.elts[0]), node.elts[1])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _callee(node)
        for kw in node.keywords:
            self.pair(kw.arg, kw.value)
        if name in CREDENTIAL_ARGS:
            position, keyword = CREDENTIAL_ARGS[name]
            arg = _argument(node, position, keyword)
            value = _const_str(arg)
            if arg is not None and value is not None and not is_placeholder(value):
                self.report(arg, f"a literal credential passed to {name}()", value)
        if name in _DEFAULT_ARGS:
            variable = _const_str(node.args[0]) if node.args else None
            position, keyword = _DEFAULT_ARGS[name]
            arg = _argument(node, position, keyword)
            value = _const_str(arg)
            secret_call = name == "from_env" or (variable is not None and is_secret_name(variable))
            if secret_call and arg is not None and value is not None and not is_placeholder(value):
                self.report(arg, f"a literal default for the secret {variable or '?'}", value)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = _const_str(node)
        if value is not None and id(node) not in self._exempt:
            problem = _literal_problem(value)
            if problem:
                self.report(node, problem, value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        # only the literal parts of an f-string can hold a literal secret
        for part in node.values:
            value = _const_str(part)
            if value is None:
                self.visit(part)
                continue
            problem = _literal_problem(value)
            if problem is None and looks_like_token(value):
                problem = "a literal that looks like an API token or key"
            if problem:
                self.report(node, problem, value)


def scan_tree(tree: ast.AST) -> list[Finding]:
    """Every literal secret in ``tree``, in source order."""
    scanner = _Scanner()
    scanner.visit(tree)
    return sorted(scanner.findings, key=lambda f: (f.line, f.col))


def iter_env_names(tree: ast.AST) -> Iterator[str]:
    """Environment variables the code reads (``os.environ[...]``, ``getenv``, ``from_env``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _const_str(node.slice)
            if name:
                yield name
        elif isinstance(node, ast.Call) and node.args:
            callee = _callee(node)
            func = node.func
            owner = func.value if isinstance(func, ast.Attribute) else None
            environ_get = callee == "get" and owner is not None and _is_environ(owner)
            if callee in ("getenv", "from_env") or environ_get:
                name = _const_str(node.args[0])
                if name:
                    yield name


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )
