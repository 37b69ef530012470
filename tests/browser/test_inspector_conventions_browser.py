"""The Inspector's status line in JupyterLab: rate limit, API version and cache badges render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

CELL = """\
from apinotebook import Exchange, Request
ex = Exchange(
    protocol="rest",
    request=Request("GET", "https://api.example/x", headers={"X-API-Version": "2024-01-01"}),
    status=200,
    headers={"content-type": "application/json", "RateLimit-Limit": "100",
             "RateLimit-Remaining": "3", "RateLimit-Reset": "30"},
    content=b'{"data": [{"id": 1}]}',
    meta={"cache": "revalidated", "wire_status": 304},
)
ex"""


def test_inspector_shows_rate_limit_version_and_cache(page: Any, lab: Any, tmp_path: Path) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c0", "metadata": {},
                   "outputs": [], "source": CELL}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    path = tmp_path / "inspector_conventions.ipynb"
    path.write_text(json.dumps(notebook), "utf-8")
    lab.run_all(page, lab.add(path))
    status = page.locator(".apn-inspector .apn-status").first
    expect(status.locator(".apn-ratelimit")).to_have_text("Rate limit: 3/100 left, resets in 30 s")
    expect(status.locator(".apn-ratelimit")).to_have_class("apn-badge apn-warn apn-ratelimit")
    expect(status.locator(".apn-version")).to_contain_text("x-api-version: 2024-01-01 (sent)")
    expect(status.locator(".apn-cache")).to_have_text("from cache (304 Not Modified)")
    lab.check(page)
