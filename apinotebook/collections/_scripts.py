"""Translate the simple, common pre-request and test scripts into Python.

Postman (``pm.*``, the legacy ``postman.*`` / ``tests[...]``), Bruno
(``bru.setVar``, ``expect(res...)``, ``assert`` and ``vars:post-response``
blocks) and Insomnia after-response scripts (``insomnia.*`` is Postman's API):

- ``pm.environment.set("token", pm.response.json().data.token)`` ->
  ``token = ex.json()["data"]["token"]`` (any variable scope, aliases such as
  ``var body = pm.response.json()`` followed);
- ``pm.response.to.have.status(200)``, ``pm.expect(pm.response.code).to.eql(200)``,
  ``tests["ok"] = responseCode.code === 200`` -> ``assert ex.status == 200``;
- ``pm.expect(body.a.b).to.eql("x")`` -> ``assert ex.json()["a"]["b"] == "x"``.

Every statement that is not translated stays in the cell as a comment, and
the whole script is kept as a commented block, so nothing is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from apinotebook.collections._model import Script

__all__ = ["Translation", "translate"]

_STRING = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
_ACCESS = r"(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\[" + _STRING + r"\])*"
_JSON_BASES = (
    r"pm\.response\.json\(\)", r"insomnia\.response\.json\(\)", r"JSON\.parse\(responseBody\)",
    r"res\.body", r"res\.getBody\(\)", r"response\.body", r"res\(\)",
)  # fmt: skip
_LITERAL = r"(?:" + _STRING + r"|-?\d+(?:\.\d+)?|true|false|null)"
_SET = re.compile(
    r"^(?:pm|insomnia)\.(?:environment|collectionVariables|globals|variables|iterationData)"
    r"\.set\(\s*(" + _STRING + r")\s*,\s*(.+?)\s*\)\s*;?$"
    r"|^postman\.set(?:Environment|Global)Variable\(\s*(" + _STRING + r")\s*,\s*(.+?)\s*\)\s*;?$"
    r"|^bru\.set(?:Env)?Var\(\s*(" + _STRING + r")\s*,\s*(.+?)\s*\)\s*;?$"
)
_ALIAS = re.compile(r"^(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*(.+?)\s*;?$")
_STATUS = re.compile(r"^(?:pm|insomnia)\.response\.to\.(?:have\.)?status\(\s*(\d{3})\s*\)\s*;?$")
_OK = re.compile(r"^(?:pm|insomnia)\.response\.to\.be\.(ok|success)\s*;?$")
_EXPECT = re.compile(
    r"^(?:pm\.|insomnia\.)?expect\(\s*(.+?)\s*\)\.to\.(?:be\.)?(?:deep\.)?"
    r"(eql|equal|equals|eq|above|below|least|most|gt|lt|gte|lte)\(\s*(.+?)\s*\)\s*;?$"
)
_GET = re.compile(
    r"^(?:(?:pm|insomnia)\.(?:environment|collectionVariables|globals|variables|iterationData)"
    r"\.get|bru\.get(?:Env)?Var|postman\.get(?:Environment|Global)Variable)"
    r"\(\s*(" + _STRING + r")\s*\)$"
)
_TESTS = re.compile(r"^tests\[\s*" + _STRING + r"\s*\]\s*=\s*(.+?)\s*;?$")
_COMPARE = re.compile(r"^(.+?)\s*(===|!==|==|!=|>=|<=|>|<)\s*(.+)$")
_STRUCTURE = re.compile(
    r"^(?:(?:pm|insomnia)\.test\(\s*" + _STRING + r"\s*,\s*(?:function\s*\(\s*\)|\(\s*\)\s*=>)"
    r"\s*\{|\}\s*\)\s*;?|\}\s*;?|test\(\s*" + _STRING + r"\s*,\s*(?:async\s*)?"
    r"(?:function\s*\(\s*\)|\(\s*\)\s*=>)\s*\{)$"
)
_OPS = {
    "eql": "==", "equal": "==", "equals": "==", "eq": "==", "neq": "!=", "above": ">",
    "gt": ">", "below": "<", "lt": "<", "least": ">=", "gte": ">=", "most": "<=", "lte": "<=",
}  # fmt: skip
_STATUS_EXPR = re.compile(
    r"^(?:pm\.response\.(?:code|status)|insomnia\.response\.code|responseCode\.code|"
    r"res\.status|res\.getStatus\(\)|response\.status|res\.statusCode|\$res\.status)$"
)


@dataclass
class Translation:
    """Python lines before and after the request, what stays commented, what is assigned."""

    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    assigned: list[str] = field(default_factory=list)
    translated: int = 0


def _py_string(text: str) -> str:
    body = text[1:-1]
    if text[0] == "'":
        body = body.replace('\\"', '"').replace("\\'", "'").replace('"', '\\"')
    return f'"{body}"'


def _literal(js: str) -> str:
    if js[0] in "\"'":
        return _py_string(js)
    return {"true": "True", "false": "False", "null": "None"}.get(js, js)


def _path(expr: str, aliases: dict[str, str], response: str) -> str | None:
    """A JS access path on the response body as Python, or None."""
    expr = expr.strip().removeprefix("$")
    if _STATUS_EXPR.match(expr) or _STATUS_EXPR.match("$" + expr):
        return f"{response}.status"
    bases = [*_JSON_BASES, *(re.escape(a) for a in aliases)]
    match = re.fullmatch(r"(" + "|".join(bases) + r")(" + _ACCESS + r")", expr)
    if not match:
        return None
    base = aliases.get(match.group(1), f"{response}.json()")
    out = base
    for part in re.findall(r"\.[A-Za-z_$][\w$]*|\[\d+\]|\[" + _STRING + r"\]", match.group(2)):
        if part.startswith("."):
            if part == ".length":
                out = f"len({out})"
            else:
                out += f'["{part[1:]}"]'
        elif part[1] in "\"'":
            out += f"[{_py_string(part[1:-1])}]"
        else:
            out += part
    return out


def _value(expr: str, aliases: dict[str, str], response: str, names: dict[str, str]) -> str | None:
    """A literal, a variable read (``pm.environment.get("x")``) or a response path, as Python."""
    expr = expr.strip()
    if re.fullmatch(_LITERAL, expr):
        return _literal(expr)
    got = _GET.match(expr)
    if got:
        return names.get(got.group(1)[1:-1])  # only a variable the notebook defines
    return _path(expr, aliases, response)


def _statements(source: str) -> list[str]:
    out = []
    for line in source.splitlines():
        for part in re.split(r";\s+(?=\S)", line.strip()):
            if part:
                out.append(part)
    return out


def _assert(left: str, op: str, right: str) -> str:
    """``assert left op right``; ``is`` / ``is not`` against True, False and None."""
    if right in ("True", "False", "None") and op in ("==", "!="):
        op = "is" if op == "==" else "is not"
    return f"assert {left} {op} {right}"


_JS_OPS = {"===": "==", "!==": "!=", "==": "==", "!=": "!=", ">=": ">=", "<=": "<=", ">": ">",
           "<": "<"}  # fmt: skip


def _legacy_test(
    expr: str, aliases: dict[str, str], response: str, names: dict[str, str]
) -> str | None:
    """``tests["name"] = <expr>`` (Postman's legacy test syntax) as an assert."""
    if re.fullmatch(_LITERAL, expr.lstrip("!")):
        return None  # a constant outcome (tests["x"] = true): nothing to check
    compare = _COMPARE.match(expr)
    if compare:
        left = _value(compare.group(1), aliases, response, names)
        right = _value(compare.group(3), aliases, response, names)
        if left is None or right is None:
            return None
        return _assert(left, _JS_OPS[compare.group(2)], right)
    negate = expr.startswith("!")
    value = _value(expr.lstrip("!"), aliases, response, names)
    if value is None:
        return None
    return f"assert not {value}" if negate else f"assert {value}"


def _bruno_assert(line: str, response: str) -> str | None:
    target, _, rule = line.partition(":")
    rule = rule.strip()
    op, _, operand = rule.partition(" ")
    if op not in _OPS:
        op, operand = "eq", rule
    path = _path(target.strip(), {}, response)
    operand = operand.strip()
    if path is None or not re.fullmatch(_LITERAL, operand):
        return None
    return _assert(path, _OPS[op], _literal(operand))


def translate(
    scripts: list[Script], response: str, names: dict[str, str], secrets: set[str]
) -> Translation:
    """Translate ``scripts``; ``names`` maps template variables to Python names.

    A value assigned to a variable in ``secrets`` is wrapped in ``Secret(...)``.
    """
    out = Translation()
    for script in scripts:
        aliases: dict[str, str] = {}
        target = out.before if script.event == "prerequest" else out.after
        for statement in _statements(script.source):
            code = _one(statement, script, aliases, response, names, out)
            if code and "=" in code and not code.startswith("assert"):
                var, _, value = code.partition(" = ")
                if out.assigned and out.assigned[-1] in secrets:
                    code = f"{var} = Secret(str({value}), name={out.assigned[-1]!r})"
            if code is None:
                if not statement.startswith("//"):
                    out.untranslated.append(statement)
            elif code:
                target.append(code)
                out.translated += 1
    return out


def _one(
    statement: str,
    script: Script,
    aliases: dict[str, str],
    response: str,
    names: dict[str, str],
    out: Translation,
) -> str | None:
    """Python for one statement; ``""`` for structure that needs no code; None if unknown."""
    if script.language == "bruno-assert":
        return _bruno_assert(statement, response)
    if script.language == "bruno-vars":
        name, _, expr = statement.partition(":")
        value = _path(expr.strip(), aliases, response)
        if value is None:
            return None
        var = name.strip().lstrip("@")
        out.assigned.append(var)
        return f"{names.get(var, var)} = {value}"
    if _STRUCTURE.match(statement):
        return ""
    alias = _ALIAS.match(statement)
    if alias and script.event != "prerequest":
        value = _path(alias.group(2), aliases, response)
        if value is not None:
            aliases[alias.group(1)] = value
            return ""
        return None
    setter = _SET.match(statement)
    if setter:
        key = next(g for g in (setter.group(1), setter.group(3), setter.group(5)) if g)
        expr = next(g for g in (setter.group(2), setter.group(4), setter.group(6)) if g)
        if script.event == "prerequest" and not re.fullmatch(_LITERAL, expr):
            return None
        value = _value(expr, aliases, response, names)
        if value is None:
            return None
        var = key[1:-1]
        out.assigned.append(var)
        return f"{names.get(var, var)} = {value}"
    if script.event == "prerequest":
        return None
    status = _STATUS.match(statement)
    if status:
        return f"assert {response}.status == {status.group(1)}"
    legacy = _TESTS.match(statement)
    if legacy:
        return _legacy_test(legacy.group(1), aliases, response, names)
    if _OK.match(statement):
        return f"assert {response}.ok"
    expect = _EXPECT.match(statement)
    if expect:
        path = _path(expect.group(1), aliases, response)
        operand = _value(expect.group(3), aliases, response, names)
        if path is None or operand is None:
            return None
        return _assert(path, _OPS[expect.group(2)], operand)
    return None
