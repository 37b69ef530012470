"""The explorers in a real JupyterLab and Chromium: Send, pick a WSDL operation, tick a field.

One notebook (``notebooks/explorers.ipynb``) runs once on a live kernel: a
RequestBuilder on the sandbox's CRM (OpenAPI), a SchemaExplorer on its mail
GraphQL service, and a WsdlExplorer on the shop WSDL fixture (answered by an
``httpx.MockTransport``). The tests then drive each widget; page errors and
widget console errors fail them. Screenshots go to ``tmp_path`` (and, with
``APINOTEBOOK_DOCS_IMG=1``, one of each explorer to ``docs/img/``).

Whatever the kernel answers is waited for with ``expect``: the operation
picker's list says which search it shows (``data-query``), so a result is
clicked only in the list for the text just typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def page(open_page: Callable[..., AbstractContextManager[Any]], lab: Any) -> Iterator[Any]:
    """The explorers notebook, run once on a live kernel, shared by this module's tests."""
    with open_page(height=1800) as page:
        prompts = lab.run_all(page, "explorers.ipynb")
        assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), lab.code_cells(page)
        expect(page.locator(".apn-wsdl")).to_be_visible()
        yield page
        lab.check(page)


def explorer_view(page: Any, selector: str) -> Any:
    """The explorer's VBox (its panel and the Inspector below it)."""
    return page.locator(".widget-vbox", has=page.locator(selector)).last


def pick(builder: Any, text: str, operation: str) -> None:
    """Search the picker for ``text`` and click ``operation`` in the list for that search."""
    builder.locator(".apn-picker-input").fill(text)
    results = builder.locator(f".apn-dropdown[data-query='{text}']:not([aria-busy])")
    results.locator(f".apn-result[data-op='{operation}']").click()


def test_request_builder_sends_and_shows_an_inspector(page: Any, save_screenshot: Any) -> None:
    builder = page.locator(".apn-builder")
    view = explorer_view(page, ".apn-builder")
    # the picker searches the kernel; picking fills the form from the operation
    pick(builder, "list contacts", "listContacts")
    expect(builder.locator(".apn-op-id")).to_have_text("listContacts")
    expect(builder.locator(".apn-path")).to_have_value("/contacts")
    builder.locator(".apn-param[data-param='limit'] .apn-param-input").fill("3")
    builder.locator(".apn-send").click()
    expect(builder.locator(".apn-outcome")).to_contain_text("listContacts")
    expect(view.locator(".apn-inspector .apn-status")).to_contain_text("200")

    # a missing required parameter: the client's ConfigError, inline, nothing sent
    pick(builder, "getContact", "getContact")
    expect(builder.locator(".apn-op-id")).to_have_text("getContact")
    expect(builder.locator(".apn-param[data-param='contact_id'] .apn-required")).to_have_count(1)
    builder.locator(".apn-send").click()
    expect(builder.locator(".apn-error")).to_contain_text(
        "missing required parameter(s): 'contact_id'"
    )

    # a body that is not JSON is caught as you type, and Send refuses it
    pick(builder, "createContact", "createContact")
    expect(builder.locator(".apn-op-id")).to_have_text("createContact")
    expect(builder.locator(".apn-body")).to_have_text(re.compile('"email"'))
    expect(builder.locator(".apn-json-status")).to_contain_text("valid JSON")
    builder.locator(".apn-body").fill('{"email": ')
    expect(builder.locator(".apn-json-status")).to_contain_text("invalid JSON")
    builder.locator(".apn-body").fill('{"email": "ada@example.com", "first_name": "Ada"}')
    expect(builder.locator(".apn-json-status")).to_have_text("✓ valid JSON")
    builder.locator(".apn-code-button").click()
    code = builder.locator(".apn-codebox .apn-code")
    expect(code).to_contain_text("crm.call(")
    expect(code).to_contain_text('"createContact"')
    save_screenshot(view, "request-builder.png")


def test_request_builder_picker_opens_again_right_after_a_pick(page: Any) -> None:
    # Clicking a result blurs the search box; a new search typed straight away (within
    # the picker's 200 ms blur grace) must open the list, and the form that arrives for
    # the pick must not wipe the new search text.
    builder = page.locator(".apn-builder")
    picker = builder.locator(".apn-picker-input")
    pick(builder, "listContacts", "listContacts")
    picker.fill("getContact")
    dropdown = builder.locator(".apn-dropdown")
    expect(dropdown).to_have_attribute("data-query", "getContact")
    expect(builder.locator(".apn-op-id")).to_have_text("listContacts")
    expect(picker).to_have_value("getContact")
    expect(dropdown.locator(".apn-result[data-op='getContact']")).to_be_visible()
    page.wait_for_timeout(400)  # past the blur grace: the list is still open
    expect(dropdown.locator(".apn-result[data-op='getContact']")).to_be_visible()
    picker.press("Escape")
    expect(dropdown).to_be_hidden()


def test_schema_explorer_builds_the_query_from_the_tree(page: Any, save_screenshot: Any) -> None:
    explorer = page.locator(".apn-schema")
    view = explorer_view(page, ".apn-schema")
    tree = explorer.locator(".apn-schema-tree")
    editor = explorer.locator(".apn-query")
    valid = explorer.locator(".apn-valid")
    lists = tree.locator(".apn-node[data-path='[\"lists\"]']")
    lists.locator(":scope > .apn-row .apn-toggle").click()
    total = lists.locator('.apn-node[data-path=\'["lists","totalCount"]\'] > .apn-row .apn-check')
    total.check()
    expect(editor).to_have_text(re.compile(r"lists[\s\S]*totalCount"))
    expect(valid).to_have_text("✓ valid against the schema")

    # a field of an object type needs subfields: the kernel says so before anything is sent
    editor.fill("query { lists }")
    expect(explorer.locator(".apn-problems")).to_contain_text("must have a selection of subfields")
    expect(total).not_to_be_checked()

    # ticking a field with a required argument adds a variable
    editor.fill("")
    expect(valid).to_have_text("Tick fields in the tree to build a query.")
    list_node = tree.locator(".apn-node[data-path='[\"list\"]']")
    list_node.locator(":scope > .apn-row .apn-toggle").click()
    name = list_node.locator('.apn-node[data-path=\'["list","name"]\'] > .apn-row .apn-check')
    name.check()
    expect(editor).to_have_text(re.compile(r"\$id: ID!"))
    expect(explorer.locator(".apn-variables")).to_have_text(re.compile('"id"'))
    expect(name).to_be_checked()
    explorer.locator(".apn-variables").fill('{"id": "lst_1"}')
    explorer.locator(".apn-run").click()
    expect(view.locator(".apn-inspector .apn-status")).to_contain_text("MyQuery")

    # the Mutation root: createList(name: $name) { id name createdAt }
    editor.fill("")
    expect(valid).to_have_text("Tick fields in the tree to build a query.")
    explorer.locator(".apn-segment button[data-root='mutation']").click()
    # (its argument's node carries the same path, inside it)
    create = tree.locator(".apn-node[data-path='[\"createList\"]']").first
    create.locator(":scope > .apn-row .apn-toggle").click()
    # three ticks faster than the kernel answers (as when it is busy): each applies to the
    # query the one before returned, so none is lost
    fields = ("id", "name", "createdAt")
    checks = [
        create.locator(f'.apn-node[data-path=\'["createList","{f}"]\'] > .apn-row .apn-check')
        for f in fields
    ]
    for check in checks:
        expect(check).not_to_be_checked()
    create.evaluate(
        "(node, fields) => fields.forEach((f) => node.querySelector("
        "`.apn-node[data-path='${JSON.stringify(['createList', f])}'] > .apn-row .apn-check`"
        ").click())",
        list(fields),
    )
    selection = "".join(rf"(?=[^}}]*\b{f}\b)" for f in fields)
    expect(editor).to_have_text(re.compile(rf"createList\(name: \$name\) \{{{selection}"))
    expect(editor).to_have_text(re.compile(r"^mutation MyMutation\(\$name: String!\)"))
    for check in checks:
        expect(check).to_be_checked()
    explorer.locator(".apn-variables").fill('{"name": "Webinars"}')
    expect(valid).to_have_text("✓ valid against the schema")
    explorer.locator(".apn-run").click()
    mutation = view.locator(".apn-inspector", has_text="MyMutation")
    expect(mutation.locator(".apn-status")).to_contain_text("200")
    # a field's docs: its description and arguments
    create.locator(":scope > .apn-row .apn-key").click()
    docs = explorer.locator(".apn-docs")
    expect(docs).to_contain_text("Create an empty list")
    expect(docs.locator(".apn-args")).to_contain_text("name")
    expect(docs).not_to_contain_text("null")
    save_screenshot(view, "schema-explorer.png")


def test_wsdl_explorer_shows_the_form_and_the_envelope(page: Any, save_screenshot: Any) -> None:
    explorer = page.locator(".apn-wsdl")
    view = explorer_view(page, ".apn-wsdl")
    envelope = explorer.locator(".apn-envelope")
    # every service and port is listed; picking an operation asks for its form
    expect(explorer.locator(".apn-port-row")).to_have_count(3)
    explorer.locator(".apn-op-row[data-op='Ping'][data-port='ShopSoap12']").click()
    expect(explorer.locator(".apn-signature")).to_have_text("Ping() -> PingResponse")
    expect(explorer.locator(".apn-opinfo")).not_to_contain_text("null")  # no docs: nothing shown
    expect(explorer.locator(".apn-form")).to_contain_text("takes no parameters")
    expect(envelope).to_contain_text("soap-envelope")  # SOAP 1.2
    explorer.locator(".apn-op-row[data-op='CreateOrder'][data-port='ShopSoap']").click()
    expect(explorer.locator(".apn-signature")).to_contain_text("CreateOrder(")
    customer = explorer.locator("fieldset[data-param='customer']")
    expect(customer.locator("fieldset[data-param='address']")).to_have_count(1)
    expect(explorer.locator(".apn-repeat[data-param='item']")).to_have_count(1)
    expect(explorer.locator(".apn-problem")).to_contain_text("CreateOrder")

    customer.locator("input[data-param='name']").first.fill("Ada")
    customer.locator("input[data-param='street']").first.fill("1 Main St")
    customer.locator("input[data-param='city']").fill("Berlin")
    customer.locator("select[data-param='country']").select_option("DE")
    item = explorer.locator(".apn-repeat[data-param='item']")
    item.locator("input[data-param='sku']").fill("BOOK-1")
    item.locator("input[data-param='quantity']").fill("2")
    explorer.locator("select[data-param='priority']").select_option("high")
    # the envelope is rebuilt in the kernel a moment after the last change
    expect(envelope).to_contain_text("<ns0:priority>high</ns0:priority>")
    expect(envelope).to_contain_text("BOOK-1")
    expect(envelope).to_contain_text("Berlin")
    expect(explorer.locator(".apn-problem")).to_be_hidden()
    explorer.locator(".apn-run").click()
    expect(view.locator(".apn-inspector .apn-status")).to_contain_text("CreateOrder")
    save_screenshot(view, "wsdl-explorer.png")
