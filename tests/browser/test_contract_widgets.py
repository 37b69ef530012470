"""The Inspector's contract section and the DiffView in a real JupyterLab and Chromium."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect


def test_contract_section_and_diff_view_render(page: Any, lab: Any, save_screenshot: Any) -> None:
    prompts = lab.run_all(page, "contracts.ipynb")
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), lab.code_cells(page)
    inspectors = page.locator(".apn-inspector")
    expect(inspectors).to_have_count(2)
    expect(inspectors.nth(0).locator(".apn-contract")).to_contain_text("contract ok")
    bad = inspectors.nth(1).locator(".apn-contract")
    expect(bad).to_contain_text("2 contract violation(s)")
    expect(bad.locator("tbody tr")).to_have_count(2)
    expect(bad.locator("tbody tr").nth(0)).to_contain_text("$[0].id")
    expect(bad.locator("tbody tr").nth(1)).to_contain_text("$[1].name")

    view = page.locator(".apn-diffview")
    expect(view.locator("tbody tr")).to_have_count(2)
    expect(view).to_contain_text("$[id=1].name")
    expect(view).to_contain_text("$[id=3]")
    view.locator("button.apn-diff-added").click()  # hide the additions
    expect(view.locator("tbody tr")).to_have_count(1)
    view.locator(".apn-search").fill("nothing matches")
    expect(view.locator("tbody tr")).to_have_count(0)
    save_screenshot(inspectors.nth(1), "inspector-contract.png")
    lab.check(page)
