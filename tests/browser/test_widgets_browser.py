"""The widgets in a real JupyterLab and Chromium: render, expand, search, table, history diff.

The notebook runs on a live kernel (saved widget state does not render when a
notebook is merely opened). anywidget render errors only show in the console,
so console errors and page errors are collected and checked.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

playwright = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright")
PlaywrightTimeout = playwright.TimeoutError

DOCS_IMG = Path(__file__).parents[2] / "docs" / "img"
WIDGET_HINTS = ("anywidget", "widget", "apn", "esm", "render", "model")


@pytest.fixture
def page(browser: Any, lab: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.problems = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            page.problems.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    yield page
    context.close()


def widget_problems(page: Any) -> list[str]:
    return [p for p in page.problems if any(h in p.lower() for h in WIDGET_HINTS)]


def run_all(page: Any, lab: Any, name: str) -> None:
    page.goto(lab.notebook_url(name))
    page.locator(".jp-NotebookPanel").first.wait_for()
    # a fresh JupyterLab may ask which kernel to start: take the notebook's own
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
    try:
        select.wait_for(timeout=5_000)
    except PlaywrightTimeout:
        pass
    else:
        select.click()
    # wait until the kernel is connected, then run every cell through the Run menu
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
        timeout=60_000
    )
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def test_widgets_render_and_respond(page: Any, lab: Any, tmp_path: Path) -> None:
    run_all(page, lab, "widgets_demo.ipynb")
    inspectors = page.locator(".apn-inspector")
    history = page.locator(".apn-historyview")
    history.first.wait_for(timeout=60_000)
    assert inspectors.count() >= 3
    assert page.get_by_text("Error displaying widget").count() == 0

    first = inspectors.nth(0)
    assert "200 OK" in first.locator(".apn-status").inner_text()
    tree = first.locator(".apn-tree")
    assert tree.locator(".apn-key", has_text="data").count() == 1

    # expand $.data: its first page of children arrives from the kernel
    data_node = tree.locator(".apn-node[data-path='[\"data\"]']")
    data_node.locator(":scope > .apn-row > .apn-toggle").click()
    children = data_node.locator(":scope > .apn-children > .apn-node")
    children.first.wait_for()
    assert children.count() == 100
    assert "150 left" in data_node.locator(":scope > .apn-children > .apn-more").inner_text()
    # open [0] and click its email: path and snippet come back
    children.nth(0).locator(":scope > .apn-row").click()
    email = children.nth(0).locator('.apn-node[data-path=\'["data",0,"email"]\'] > .apn-row')
    email.click()
    detail = first.locator(".apn-detail")
    detail.locator(".apn-snippet").wait_for()
    assert detail.locator(".apn-location").inner_text() == "$.data[0].email"
    assert detail.locator(".apn-snippet").inner_text() == 'ex.json()["data"][0]["email"]'

    # search runs in the kernel; clicking a match reveals it beyond the loaded page
    first.locator(".apn-search").fill("user217@")
    first.locator(".apn-search").press("Enter")
    result = first.locator(".apn-result")
    result.first.wait_for()
    assert result.count() == 1 and "$.data[217].email" in result.first.inner_text()
    result.first.click()
    page.wait_for_function(
        "() => document.querySelector('.apn-inspector .apn-snippet')?.textContent"
        ' === \'ex.json()["data"][217]["email"]\''
    )
    first.screenshot(path=str(tmp_path / "inspector.png"))
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "inspector.png", DOCS_IMG / "inspector.png")

    # the table tab pages through to_frame() in the kernel
    first.locator(".apn-tab[data-tab='Table']").click()
    table = first.locator(".apn-frame")
    table.wait_for()
    assert table.locator("tbody tr").count() == 50
    assert "of 250" in first.locator(".apn-tablepanel .apn-muted").first.inner_text()

    # the SOAP exchange shows an XML tree with XPaths
    soap = inspectors.filter(has_text="GetInvoice").first
    assert soap.locator(".apn-tree .apn-key", has_text="soap:Envelope").count() == 1
    # single-child chains open by themselves, down to the invoice's lines
    soap.locator(".apn-tree .apn-key", has_text="b:line").first.wait_for()

    # history: two rows, select both -> a diff; select one -> an inspector below
    rows = history.locator("tbody tr")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    rows.nth(0).locator(".apn-pick").check()
    rows.nth(1).locator(".apn-pick").check()
    diff = history.locator(".apn-diff")
    diff.locator(".apn-diff-add").first.wait_for()
    assert '"page": 2' in diff.inner_text()
    assert not diff.inner_text().rstrip().endswith("null")
    page.screenshot(path=str(tmp_path / "history-diff.png"), full_page=True)
    rows.nth(0).locator("td").nth(6).click()
    view = page.locator(".widget-vbox", has=history)
    view.locator(".apn-inspector").wait_for()
    page.screenshot(path=str(tmp_path / "history-inspector.png"), full_page=True)

    assert page.get_by_text("Error displaying widget").count() == 0
    assert widget_problems(page) == []
