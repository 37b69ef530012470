"""The authorization-code flow in JupyterLab, as a person signs in.

A notebook cell runs ``flow.authorize()``: it shows a link (and a button) and
waits for the redirect on its loopback receiver. The test, as the person,
clicks the link in the browser, logs in on the sandbox's consent page and
presses Allow; the browser follows the redirect to the kernel's receiver, the
cell completes, and the next cell reads the verified ID token. No page error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from apinotebook.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(services=("auth",)) as box:
        yield box


def _notebook(path: Path, sb: Sandbox) -> Path:
    cells = [
        "from apinotebook.auth import OAuth2AuthorizationCode\n"
        f"flow = OAuth2AuthorizationCode.from_issuer({sb.env['AUTH_ISSUER']!r},\n"
        f"    client_id={sb.env['AUTH_PUBLIC_CLIENT_ID']!r}, scope='openid profile',\n"
        "    name='browser-sign-in', wait_timeout=120)",
        "flow.authorize()  # shows the link; waits for the redirect",
        "print('signed in as', flow.id_token_claims['sub'], flow.id_token_claims['name'])",
    ]
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
             "outputs": [], "source": source}
            for i, source in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(notebook), "utf-8")
    return path


def test_sign_in_from_a_notebook_cell(page: Any, lab: Any, sb: Sandbox, tmp_path: Path) -> None:
    name = lab.add(_notebook(tmp_path / "oauth_sign_in.ipynb", sb))
    lab.start_all(page, name)

    link = page.locator(".jp-OutputArea-output a", has_text="/auth/authorize")
    expect(link).to_have_count(1)  # the cell shows the link and waits
    expect(page.get_by_role("button", name="Open sign-in page")).to_be_visible()
    with page.context.expect_page() as opened:
        link.click()
    consent = opened.value
    consent.wait_for_load_state()
    expect(consent.get_by_text("Sandbox notebook (public)")).to_be_visible()
    consent.fill("input[name=username]", sb.env["AUTH_USERNAME"])
    consent.fill("input[name=password]", sb.env["AUTH_PASSWORD"])
    consent.get_by_role("button", name="Allow").click()
    expect(consent.get_by_text("You are signed in")).to_be_visible()  # the kernel's receiver

    lab.wait_all(page)
    cells = lab.code_cells(page)
    assert [c for c in cells if c["count"] is None or c["errors"]] == [], cells
    expect(
        page.locator(".jp-OutputArea-output", has_text="signed in as u_0001 Ada Lee")
    ).to_have_count(1)
    issued = list(sb.state("auth")._tokens)  # every token the server handed out
    html = page.content()
    assert issued and not [t for t in issued if t in html]  # none reached the notebook page
    lab.check(page)
