"""Helpers for the OAuth tests: a scripted browser, unique store names, a full sign-in."""

from __future__ import annotations

import re
import uuid

import httpx

from apinotebook._core.http import default_tls
from apinotebook.auth import OAuth2AuthorizationCode
from apinotebook.sandbox import Sandbox

_HIDDEN = re.compile(r'<input type=hidden name="([^"]+)" value="([^"]*)">')


class Browser:
    """What a person does in the browser: log in on the consent page, type a device code."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.env = sb.env

    def consent(
        self, url: str, *, approve: bool = True, password: str | None = None
    ) -> httpx.Response:
        """Open ``url``, log in, press Allow (or Deny) and follow the redirect."""
        with httpx.Client(follow_redirects=True, timeout=10, verify=default_tls()) as browser:
            page = browser.get(url)
            assert page.status_code == 200, page.text
            form = dict(_HIDDEN.findall(page.text))
            form = {k: v.replace("&amp;", "&") for k, v in form.items()}
            form.update(
                username=self.env["AUTH_USERNAME"],
                password=password if password is not None else self.env["AUTH_PASSWORD"],
                decision="approve" if approve else "deny",
            )
            return browser.post(str(page.url), data=form)

    def device(self, user_code: str, *, approve: bool = True) -> httpx.Response:
        """Type the user code on the verification page and decide."""
        form = {
            "user_code": user_code,
            "username": self.env["AUTH_USERNAME"],
            "password": self.env["AUTH_PASSWORD"],
            "decision": "approve" if approve else "deny",
        }
        return httpx.post(self.env["AUTH_ISSUER"] + "/device", data=form, timeout=10)


def unique() -> str:
    """A token-store name no other test uses (the memory store is per process)."""
    return "test-" + uuid.uuid4().hex[:12]


def sign_in(flow: OAuth2AuthorizationCode, browser: Browser) -> None:
    """Run the whole authorization-code flow: link, consent, redirect, exchange."""
    response = browser.consent(flow.start())
    assert response.status_code == 200, response.text
    assert "You are signed in" in response.text
    flow.wait(10)
