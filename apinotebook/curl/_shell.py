r"""Split a pasted shell command into words, as a POSIX shell would (nothing is run).

Handles what curl examples in documentation and browsers' "Copy as cURL"
contain: single quotes, double quotes (with ``\$``, ``\"``, ``\\`` escapes),
ANSI-C ``$'...'`` strings, backslash escapes, backslash-newline continuations,
``$VAR``/``${VAR}`` from an environment mapping, ``#`` comments, and a
pipeline or redirection after the command (``| jq .``, ``> out.json``), which
ends it. Command substitution (``$(...)``, backticks) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from apinotebook._core.secrets import is_sensitive_name, register_secret
from apinotebook._exceptions import ConfigError

__all__ = ["split_command"]

_BLANK = " \t\r\n"
_OPERATORS = "|;&<>"
_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
         "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}  # fmt: skip
_HEX = {"x": 2, "u": 4, "U": 8}


def _variable(text: str, i: int, env: Mapping[str, str]) -> tuple[str, int] | None:
    """Expand the ``$NAME`` or ``${NAME}`` at ``text[i]``; ``None`` when ``$`` is literal."""
    if text.startswith("${", i):
        end = text.find("}", i + 2)
        if end < 0:
            raise ConfigError("unterminated ${ in the command")
        name, after = text[i + 2 : end], end + 1
        if not name.replace("_", "a").isalnum() or name[0].isdigit():
            raise ConfigError(f"${{{name}}} is not supported: only ${{NAME}} is expanded")
    else:
        j = i + 1
        while j < len(text) and (text[j].isalnum() or text[j] == "_"):
            j += 1
        name, after = text[i + 1 : j], j
        if not name or name[0].isdigit():
            return None
    if name not in env:
        raise ConfigError(
            f"the command uses ${name}, which is not set in the environment. Set it "
            f"(export {name}=...) or pass env={{{name!r}: ...}}."
        )
    value = env[name]
    if is_sensitive_name(name):
        register_secret(value)
    return value, after


def _ansi_c(text: str, i: int) -> tuple[str, int]:
    """Decode the ``$'...'`` string whose ``'`` is at ``text[i]``."""
    out: list[str] = []
    j = i + 1
    while j < len(text):
        char = text[j]
        if char == "'":
            return "".join(out), j + 1
        if char != "\\" or j + 1 >= len(text):
            out.append(char)
            j += 1
            continue
        code = text[j + 1]
        if code in _ANSI:
            out.append(_ANSI[code])
            j += 2
        elif code in _HEX:
            digits = ""
            k = j + 2
            while (
                k < len(text) and len(digits) < _HEX[code] and text[k] in "0123456789abcdefABCDEF"
            ):
                digits += text[k]
                k += 1
            out.append(chr(int(digits, 16)) if digits else "\\" + code)
            j = k
        elif code in "01234567":
            k = j + 1
            while k < len(text) and k < j + 4 and text[k] in "01234567":
                k += 1
            out.append(chr(int(text[j + 1 : k], 8)))
            j = k
        else:
            out.append("\\" + code)
            j += 2
    raise ConfigError("unterminated $'...' string in the command")


def _double(text: str, i: int, env: Mapping[str, str]) -> tuple[str, int]:
    """Decode the double-quoted string whose ``"`` is at ``text[i]``."""
    out: list[str] = []
    j = i + 1
    while j < len(text):
        char = text[j]
        if char == '"':
            return "".join(out), j + 1
        if char == "\\" and j + 1 < len(text) and text[j + 1] in '$`"\\\n':
            if text[j + 1] != "\n":
                out.append(text[j + 1])
            j += 2
            continue
        if char == "`" or text.startswith("$(", j):
            raise ConfigError("command substitution is not supported: paste the value instead")
        if char == "$":
            expanded = _variable(text, j, env)
            if expanded is not None:
                out.append(expanded[0])
                j = expanded[1]
                continue
        out.append(char)
        j += 1
    raise ConfigError('unterminated double quote (") in the command')


def split_command(text: str, env: Mapping[str, str]) -> list[str]:
    """The words of the first command in ``text``.

    Raises:
        ConfigError: unterminated quotes, command substitution, or an unset
            ``$VAR``.
    """
    words: list[str] = []
    current: list[str] = []
    in_word = False
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            following = text[i + 1 : i + 2]
            if following == "\n" or text.startswith("\r\n", i + 1):
                i += 2 if following == "\n" else 3
                continue
            current.append(following)
            in_word = True
            i += 2
            continue
        if char in _BLANK:
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            i += 1
            continue
        if char == "#" and not in_word:
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if char in _OPERATORS:
            if char in "<>" and in_word and "".join(current).isdigit():
                current, in_word = [], False  # 2>/dev/null
            break
        in_word = True
        if char == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ConfigError("unterminated single quote (') in the command")
            current.append(text[i + 1 : end])
            i = end + 1
        elif char == '"':
            value, i = _double(text, i, env)
            current.append(value)
        elif char == "`" or text.startswith("$(", i):
            raise ConfigError("command substitution is not supported: paste the value instead")
        elif text.startswith("$'", i):
            value, i = _ansi_c(text, i + 1)
            current.append(value)
        elif text.startswith('$"', i):
            i += 1
        elif char == "$" and (expanded := _variable(text, i, env)) is not None:
            current.append(expanded[0])
            i = expanded[1]
        else:
            current.append(char)
            i += 1
    if in_word:
        words.append("".join(current))
    return words
