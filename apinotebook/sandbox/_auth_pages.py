"""The authorization server's HTML: the login-and-consent page and the device page.

Plain forms, no JavaScript and nothing loaded from elsewhere (the sandbox is
offline), so a person clicks through them in a browser and a test drives them
with httpx: every field has a ``name`` and the buttons are ``decision=approve``
and ``decision=deny``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

__all__ = ["consent_page", "device_page", "message_page"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;color:#222}"
    "label{display:block;margin:.6rem 0}input[type=text],input[type=password]"
    "{width:100%;padding:.4rem}button{margin:.8rem .6rem 0 0;padding:.5rem 1.2rem}"
    ".error{color:#b00020}.code{font-family:monospace;font-size:1.4rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type=hidden name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )


def _scopes(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<li><code>{escape(s)}</code>: {escape(text)}</li>" for s, text in items)
    return f"<ul>{rows}</ul>"


def _login(username: str) -> str:
    return (
        f'<label>Username <input type=text name=username value="{escape(username)}" '
        "autocomplete=username></label>"
        "<label>Password <input type=password name=password autocomplete=current-password>"
        "</label>"
    )


def _buttons() -> str:
    return (
        "<button type=submit name=decision value=approve>Allow</button>"
        "<button type=submit name=decision value=deny>Deny</button>"
    )


def consent_page(
    *,
    client_name: str,
    scopes: Iterable[tuple[str, str]],
    fields: Mapping[str, str],
    error: str = "",
    username: str = "",
) -> str:
    """Log in and allow (or deny) ``client_name`` the listed scopes."""
    problem = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    body = (
        f"<p><strong>{escape(client_name)}</strong> wants to:</p>{_scopes(scopes)}{problem}"
        f"<form method=post>{_hidden(fields)}{_login(username)}{_buttons()}</form>"
    )
    return _page("Sign in to the sandbox", body)


def device_page(*, user_code: str = "", error: str = "") -> str:
    """Type the code the device shows, log in, allow or deny."""
    problem = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    body = (
        f"<p>Enter the code shown on your device.</p>{problem}<form method=post>"
        f'<label>Code <input type=text name=user_code value="{escape(user_code)}" '
        f"class=code autocomplete=off></label>{_login('')}{_buttons()}</form>"
    )
    return _page("Connect a device", body)


def message_page(title: str, text: str) -> str:
    """A page that only says something (done, denied, or what went wrong)."""
    return _page(title, f"<p>{escape(text)}</p>")
