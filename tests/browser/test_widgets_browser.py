"""The widgets in a real JupyterLab and Chromium: render, expand, search, table, history diff.

The notebook runs on a live kernel (saved widget state does not render when a
notebook is merely opened). anywidget render errors only show in the console,
so console errors and page errors are collected and checked. Screenshots go
to ``tmp_path`` (the Inspector's also to ``docs/img/`` with
``APINOTEBOOK_DOCS_IMG=1``).

Every check of something the kernel answers is an ``expect`` that waits for
the answer: the Inspector's detail pane says which node it shows
(``data-path``), so a click is checked against the reply to that click, not
to the one before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect


def path_attr(*path: object) -> str:
    """A tree path as the widgets write it in ``data-path`` (JSON, no spaces)."""
    return json.dumps(list(path), separators=(",", ":"))


def test_widgets_render_and_respond(
    page: Any, lab: Any, tmp_path: Path, save_screenshot: Any
) -> None:
    prompts = lab.run_all(page, "widgets_demo.ipynb")
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), prompts
    inspectors = page.locator(".apn-inspector")
    history = page.locator(".apn-historyview")
    expect(history).to_be_visible()
    expect(inspectors).to_have_count(3)  # ex, inspect(ex2), soap_ex
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)

    first = inspectors.nth(0)
    expect(first.locator(".apn-status")).to_contain_text("200 OK")
    tree = first.locator(".apn-tree")
    expect(tree.locator(".apn-key", has_text="data")).to_have_count(1)

    # expand $.data: its first page of children arrives from the kernel
    data_node = tree.locator(f".apn-node[data-path='{path_attr('data')}']")
    data_node.locator(":scope > .apn-row > .apn-toggle").click()
    children = data_node.locator(":scope > .apn-children > .apn-node")
    expect(children).to_have_count(100)
    expect(data_node.locator(":scope > .apn-children > .apn-more")).to_contain_text("150 left")
    # open [0], then click its email: the detail pane follows the last click
    detail = first.locator(".apn-detail")
    children.nth(0).locator(":scope > .apn-row").click()
    expect(detail).to_have_attribute("data-path", path_attr("data", 0))
    email = children.nth(0).locator(f".apn-node[data-path='{path_attr('data', 0, 'email')}']")
    email.locator(":scope > .apn-row").click()
    expect(detail).to_have_attribute("data-path", path_attr("data", 0, "email"))
    expect(detail.locator(".apn-location")).to_have_text("$.data[0].email")
    expect(detail.locator(".apn-snippet")).to_have_text('ex.json()["data"][0]["email"]')

    # search runs in the kernel; clicking a match reveals it beyond the loaded page
    search = first.locator(".apn-search")
    search.fill("user217@")
    search.press("Enter")
    result = first.locator(".apn-result")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("$.data[217].email")
    result.click()
    expect(detail).to_have_attribute("data-path", path_attr("data", 217, "email"))
    expect(detail.locator(".apn-snippet")).to_have_text('ex.json()["data"][217]["email"]')
    expect(data_node.locator(f".apn-node[data-path='{path_attr('data', 217)}']")).to_be_visible()
    save_screenshot(first, "inspector.png")

    # the table tab pages through to_frame() in the kernel
    first.locator(".apn-tab[data-tab='Table']").click()
    table = first.locator(".apn-frame")
    expect(table.locator("tbody tr")).to_have_count(50)
    expect(first.locator(".apn-tablepanel .apn-muted").first).to_contain_text("of 250")

    # the SOAP exchange shows an XML tree with XPaths
    soap = inspectors.filter(has_text="GetInvoice")
    expect(soap.locator(".apn-tree .apn-key", has_text="soap:Envelope")).to_have_count(1)
    # single-child chains open by themselves, down to the invoice's lines
    expect(soap.locator(".apn-tree .apn-key", has_text="b:line")).to_have_count(2)

    # history: two rows, select both -> a diff; select one -> an inspector below
    rows = history.locator("tbody tr")
    expect(rows).to_have_count(2)
    rows.nth(0).locator(".apn-pick").check()
    rows.nth(1).locator(".apn-pick").check()
    diff = history.locator(".apn-diff")
    expect(diff.locator(".apn-diff-add").first).to_be_visible()
    expect(diff).to_contain_text('"page": 2')
    assert not diff.inner_text().rstrip().endswith("null")
    page.screenshot(path=str(tmp_path / "history-diff.png"), full_page=True)
    rows.nth(0).locator("td").nth(6).click()
    expect(diff).to_be_hidden()
    view = page.locator(".widget-vbox", has=history)
    # row 1 is the first call (no ?page=2): its Inspector, and only that one
    expect(view.locator(".apn-inspector .apn-status .apn-url")).to_have_text(
        re.compile(r"/contacts$")
    )
    page.screenshot(path=str(tmp_path / "history-inspector.png"), full_page=True)

    lab.check(page)
