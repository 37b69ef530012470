"""The explorers in a real JupyterLab and Chromium: Send, pick a WSDL operation, tick a field.

One notebook (``notebooks/explorers.ipynb``) runs once on a live kernel: a
RequestBuilder on the sandbox's CRM (OpenAPI), a SchemaExplorer on its mail
GraphQL service, and a WsdlExplorer on the shop WSDL fixture (answered by an
``httpx.MockTransport``). The tests then drive each widget; page errors and
widget console errors fail them. Screenshots go to ``tmp_path`` and one of
each explorer to ``docs/img/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

playwright = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright")
PlaywrightTimeout = playwright.TimeoutError

HERE = Path(__file__).parent
NOTEBOOK = HERE / "notebooks" / "explorers.ipynb"
DOCS_IMG = Path(__file__).parents[2] / "docs" / "img"
WIDGET_HINTS = ("anywidget", "widget", "apn", "esm", "render", "model")


def widget_problems(page: Any) -> list[str]:
    return [p for p in page.problems if any(h in p.lower() for h in WIDGET_HINTS)]


def save(locator: Any, tmp_path: Path, name: str) -> None:
    """A screenshot in tmp_path, copied to docs/img for the docs."""
    locator.screenshot(path=str(tmp_path / name))
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / name, DOCS_IMG / name)


@pytest.fixture(scope="module")
def page(browser: Any, lab: Any) -> Iterator[Any]:
    """The explorers notebook, run once on a live kernel, shared by this module's tests."""
    shutil.copy(NOTEBOOK, lab.root / NOTEBOOK.name)
    context = browser.new_context(viewport={"width": 1280, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            page.problems.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.goto(lab.notebook_url(NOTEBOOK.name))
    page.locator(".jp-NotebookPanel").first.wait_for()
    # JupyterLab's "get notified about news?" toast would cover the screenshots
    page.add_style_tag(content=".Toastify { display: none !important; }")
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
    try:
        select.wait_for(timeout=5_000)
    except PlaywrightTimeout:
        pass
    else:
        select.click()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
        timeout=60_000
    )
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.locator(".apn-wsdl").wait_for(timeout=90_000)
    yield page
    assert page.get_by_text("Error displaying widget").count() == 0
    assert widget_problems(page) == []
    context.close()


def explorer_view(page: Any, selector: str) -> Any:
    """The explorer's VBox (its panel and the Inspector below it)."""
    return page.locator(".widget-vbox", has=page.locator(selector)).last


def test_request_builder_sends_and_shows_an_inspector(page: Any, tmp_path: Path) -> None:
    builder = page.locator(".apn-builder")
    view = explorer_view(page, ".apn-builder")
    # the picker searches the kernel; picking fills the form from the operation
    builder.locator(".apn-picker-input").fill("list contacts")
    builder.locator(".apn-result[data-op='listContacts']").click()
    builder.locator(".apn-op-id", has_text="listContacts").wait_for()
    assert builder.locator(".apn-path").input_value() == "/contacts"
    builder.locator(".apn-param[data-param='limit'] .apn-param-input").fill("3")
    builder.locator(".apn-send").click()
    inspector = view.locator(".apn-inspector")
    inspector.wait_for()
    assert "200" in inspector.locator(".apn-status").inner_text()
    assert "listContacts" in builder.locator(".apn-outcome").inner_text()

    # a missing required parameter: the client's ConfigError, inline, nothing sent
    builder.locator(".apn-picker-input").fill("getContact")
    builder.locator(".apn-result[data-op='getContact']").click()
    builder.locator(".apn-op-id", has_text="getContact").wait_for()
    assert builder.locator(".apn-param[data-param='contact_id'] .apn-required").count() == 1
    builder.locator(".apn-send").click()
    error = builder.locator(".apn-error")
    error.wait_for()
    assert "missing required parameter(s): 'contact_id'" in error.inner_text()

    # a body that is not JSON is caught as you type, and Send refuses it
    builder.locator(".apn-picker-input").fill("createContact")
    builder.locator(".apn-result[data-op='createContact']").click()
    builder.locator(".apn-op-id", has_text="createContact").wait_for()
    assert '"email"' in builder.locator(".apn-body").input_value()
    assert "valid JSON" in builder.locator(".apn-json-status").inner_text()
    builder.locator(".apn-body").fill('{"email": ')
    assert "invalid JSON" in builder.locator(".apn-json-status").inner_text()
    builder.locator(".apn-body").fill('{"email": "ada@example.com", "first_name": "Ada"}')
    builder.locator(".apn-code-button").click()
    code = builder.locator(".apn-codebox .apn-code")
    code.wait_for()
    assert "crm.call(" in code.inner_text() and '"createContact"' in code.inner_text()
    save(view, tmp_path, "request-builder.png")


def test_schema_explorer_builds_the_query_from_the_tree(page: Any, tmp_path: Path) -> None:
    explorer = page.locator(".apn-schema")
    view = explorer_view(page, ".apn-schema")
    tree = explorer.locator(".apn-schema-tree")
    lists = tree.locator(".apn-node[data-path='[\"lists\"]']")
    lists.wait_for()
    lists.locator(":scope > .apn-row .apn-toggle").click()
    total = lists.locator('.apn-node[data-path=\'["lists","totalCount"]\'] > .apn-row .apn-check')
    total.check()
    editor = explorer.locator(".apn-query")
    page.wait_for_function(
        "() => document.querySelector('.apn-schema .apn-query').value.includes('totalCount')"
    )
    assert "lists" in editor.input_value()
    valid = explorer.locator(".apn-valid")
    valid.filter(has_text="valid against the schema").wait_for()

    # a field of an object type needs subfields: the kernel says so before anything is sent
    editor.fill("query { lists }")
    explorer.locator(".apn-problems li").first.wait_for()
    assert "must have a selection of subfields" in explorer.locator(".apn-problems").inner_text()

    # ticking a field with a required argument adds a variable
    editor.fill("")
    list_node = tree.locator(".apn-node[data-path='[\"list\"]']")
    list_node.locator(":scope > .apn-row .apn-toggle").click()
    name = list_node.locator('.apn-node[data-path=\'["list","name"]\'] > .apn-row .apn-check')
    name.check()
    page.wait_for_function(
        "() => document.querySelector('.apn-schema .apn-query').value.includes('$id: ID!')"
    )
    assert '"id"' in explorer.locator(".apn-variables").input_value()
    explorer.locator(".apn-variables").fill('{"id": "lst_1"}')
    explorer.locator(".apn-run").click()
    inspector = view.locator(".apn-inspector")
    inspector.wait_for()
    assert "MyQuery" in inspector.locator(".apn-status").inner_text()

    # the Mutation root: createList(name: $name) { id name createdAt }
    editor.fill("")
    explorer.locator(".apn-segment button[data-root='mutation']").click()
    create = tree.locator(".apn-node[data-path='[\"createList\"]']")
    create.wait_for()
    create.locator(":scope > .apn-row .apn-toggle").click()
    for field in ("id", "name", "createdAt"):
        check = create.locator(
            f'.apn-node[data-path=\'["createList","{field}"]\'] > .apn-row .apn-check'
        )
        check.check()
        page.wait_for_function(
            "f => document.querySelector('.apn-schema .apn-query').value.includes(f)", arg=field
        )
    assert editor.input_value().startswith("mutation MyMutation($name: String!)")
    explorer.locator(".apn-variables").fill('{"name": "Webinars"}')
    valid.filter(has_text="valid against the schema").wait_for()
    explorer.locator(".apn-run").click()
    inspector.filter(has_text="MyMutation").wait_for()
    assert "200" in inspector.locator(".apn-status").inner_text()
    # a field's docs: its description and arguments
    create.locator(":scope > .apn-row .apn-key").click()
    explorer.locator(".apn-docs", has_text="Create an empty list").wait_for()
    assert "name" in explorer.locator(".apn-docs .apn-args").inner_text()
    assert "null" not in explorer.locator(".apn-docs").inner_text()
    save(view, tmp_path, "schema-explorer.png")


def test_wsdl_explorer_shows_the_form_and_the_envelope(page: Any, tmp_path: Path) -> None:
    explorer = page.locator(".apn-wsdl")
    view = explorer_view(page, ".apn-wsdl")
    # every service and port is listed; picking an operation asks for its form
    assert explorer.locator(".apn-port-row").count() == 3
    explorer.locator(".apn-op-row[data-op='Ping'][data-port='ShopSoap12']").click()
    explorer.locator(".apn-signature", has_text="Ping() -> PingResponse").wait_for()
    assert "null" not in explorer.locator(".apn-opinfo").inner_text()  # no docs: nothing shown
    assert "takes no parameters" in explorer.locator(".apn-form").inner_text()
    explorer.locator(".apn-envelope", has_text="soap-envelope").wait_for()  # SOAP 1.2
    explorer.locator(".apn-op-row[data-op='CreateOrder'][data-port='ShopSoap']").click()
    explorer.locator(".apn-signature", has_text="CreateOrder(").wait_for()
    customer = explorer.locator("fieldset[data-param='customer']")
    assert customer.locator("fieldset[data-param='address']").count() == 1
    assert explorer.locator(".apn-repeat[data-param='item']").count() == 1
    envelope = explorer.locator(".apn-envelope")
    problem = explorer.locator(".apn-problem")
    problem.wait_for()
    assert "CreateOrder" in problem.inner_text()

    customer.locator("input[data-param='name']").first.fill("Ada")
    customer.locator("input[data-param='street']").first.fill("1 Main St")
    customer.locator("input[data-param='city']").fill("Berlin")
    customer.locator("select[data-param='country']").select_option("DE")
    item = explorer.locator(".apn-repeat[data-param='item']")
    item.locator("input[data-param='sku']").fill("BOOK-1")
    item.locator("input[data-param='quantity']").fill("2")
    explorer.locator("select[data-param='priority']").select_option("high")
    page.wait_for_function(
        "() => (document.querySelector('.apn-wsdl .apn-envelope')?.textContent || '')"
        ".includes('BOOK-1')"
    )
    text = envelope.inner_text()
    assert "<ns0:priority>high</ns0:priority>" in text and "Berlin" in text
    explorer.locator(".apn-run").click()
    inspector = view.locator(".apn-inspector")
    inspector.wait_for()
    assert "CreateOrder" in inspector.locator(".apn-status").inner_text()
    save(view, tmp_path, "wsdl-explorer.png")
