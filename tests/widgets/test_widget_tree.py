"""The kernel-side tree: slices of children, search, details, masking; JSON and XML."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree
from widget_builders import CONTACTS, SOAP_REPLY, TOKEN

from apinotebook import ConfigError
from apinotebook.widgets._tree import JsonTree, TreePathError, XmlTree, masked_head


@pytest.fixture
def tree() -> JsonTree:
    return JsonTree(CONTACTS, protocol="rest")


def test_root_has_the_first_page_of_top_level_children(tree):
    root = tree.root(limit=100)
    assert root["label"] == "$" and root["type"] == "object" and root["count"] == 2
    page = root["children"]
    assert page["total"] == 2
    assert [c["key"] for c in page["children"]] == ["data", "meta"]
    assert page["children"][0] == {
        "key": "data",
        "pos": 0,
        "type": "array",
        "count": 250,
        "preview": "[250 items]",
    }


@pytest.mark.parametrize(
    ("path", "offset", "limit", "keys", "total"),
    [
        (["data"], 0, 3, [0, 1, 2], 250),
        (["data"], 248, 100, [248, 249], 250),
        (["data"], 250, 10, [], 250),
        (["data", 7], 0, 100, ["id", "email", "api_key", "tags"], 4),
        (["data", 7, "tags"], 1, 5, [1], 2),
        (["meta", "odd key"], 0, 100, ["it's"], 1),
        ([], 1, 1, ["meta"], 2),
    ],
)
def test_children_pages(tree, path, offset, limit, keys, total):
    page = tree.children(path, offset=offset, limit=limit)
    assert [c["key"] for c in page["children"]] == keys
    assert [c["pos"] for c in page["children"]] == list(range(offset, offset + len(keys)))
    assert page["total"] == total and page["path"] == path


def test_limit_is_capped(tree):
    assert tree.children(["data"], offset=0, limit=10**9)["limit"] == 1000


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (["nope"], r"\$\.nope does not exist"),
        (["data", 250], r"\$\.data\[250\] does not exist"),
        (["data", -1], r"does not exist"),
        (["data", "0"], r"does not exist"),
        (["data", 0, "id", "x"], r"does not exist"),
        (["data", 0, "id"], r"is a number, it has no children"),
        ("data", r"a path is a list"),
    ],
)
def test_bad_paths_raise_tree_path_error(tree, path, message):
    with pytest.raises(TreePathError, match=message):
        tree.children(path)


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), ("0", 10)])
def test_bad_offsets(tree, offset, limit):
    with pytest.raises(ConfigError, match="offset must be"):
        tree.children(["data"], offset=offset, limit=limit)


@pytest.mark.parametrize(
    ("value", "kind", "preview"),
    [
        (None, "null", "null"),
        (True, "boolean", "true"),
        (1.5, "number", "1.5"),
        ("x" * 500, "string", '"' + "x" * 120 + '…"'),
        (Decimal("3.50"), "decimal", "3.50"),
        (date(2024, 1, 2), "date", "2024-01-02"),
        (b"\x00" * 10, "bytes", "<10 bytes>"),
        ({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}, "object", "{a, b, c, d, e, …}"),
        ([1, 2], "array", "[2 items]"),
    ],
)
def test_summaries(value, kind, preview):
    node = JsonTree({"v": value}, protocol="soap", view="data").children([])["children"][0]
    assert (node["type"], node["preview"]) == (kind, preview)


def test_secrets_are_masked_in_previews_and_details(tree):
    row = tree.children(["data", 0])["children"]
    assert {c["key"]: c["preview"] for c in row}["api_key"] == "***"
    meta = tree.children(["meta"])["children"]
    assert TOKEN not in str(meta) and "***" in {c["key"]: c["preview"] for c in meta}["note"]
    assert tree.detail(["data", 0, "api_key"])["preview"] == "***"
    assert TOKEN not in tree.detail(["data", 0])["preview"]
    assert TOKEN not in tree.detail([])["preview"]


def test_masked_head_never_shows_part_of_a_secret():
    text = "a" * 95 + TOKEN + "b" * 100
    assert TOKEN[:5] not in masked_head(text, 100)


def test_detail_gives_path_snippet_and_preview(tree):
    detail = tree.detail(["data", 3, "email"])
    assert detail == {
        "path": ["data", 3, "email"],
        "location": "$.data[3].email",
        "snippet": 'ex.json()["data"][3]["email"]',
        "preview": '"user3@example.com"',
    }


def test_search_finds_keys_and_values_with_positions(tree):
    result = tree.search("user13", limit=200)
    locations = [m["location"] for m in result["matches"]]
    assert locations[:2] == ["$.data[13].email", "$.data[130].email"]
    assert result["matches"][0]["positions"] == [0, 13, 1]
    assert result["complete"] is True
    assert tree.search("ODD KEY")["matches"][0]["path"] == ["meta", "odd key"]


def test_search_is_bounded(tree):
    result = tree.search("example.com", limit=5)
    assert len(result["matches"]) == 5 and result["complete"] is False


def test_search_never_matches_inside_secrets(tree):
    assert tree.search(TOKEN[:10])["matches"] == []
    assert tree.search("5ecret")["matches"] == []


def test_search_needs_a_query(tree):
    with pytest.raises(ConfigError, match="type something"):
        tree.search("")


def test_deep_documents_do_not_hit_the_recursion_limit():
    value: dict = {"leaf": "needle"}
    for _ in range(5000):
        value = {"n": value}
    result = JsonTree(value, protocol="rest").search("needle")
    assert len(result["matches"][0]["path"]) == 5001


# -- XML ---------------------------------------------------------------------------------


@pytest.fixture
def xml() -> XmlTree:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return XmlTree(etree.fromstring(SOAP_REPLY, parser=parser))


def test_xml_root_and_children(xml):
    root = xml.root()
    assert root["label"] == "/soap:Envelope" and root["count"] == 1
    invoice = xml.children([0, 0, 0])
    assert [c["key"] for c in invoice["children"]] == ["b:line", "b:line", "b:password", "b:note"]
    line = xml.children([0, 0, 0, 1])["children"]
    assert [(c["key"], c["preview"], c["count"]) for c in line] == [
        ("b:sku", "B", 0),
        ("b:amount", "1.25", 0),
    ]
    assert xml.children([0, 0])["children"][0]["attrs"] == [["id", "INV-1"]]


def test_xml_masks_sensitive_elements_and_secrets(xml):
    kids = {c["key"]: c["preview"] for c in xml.children([0, 0, 0])["children"]}
    assert kids["b:password"] == "***" and kids["b:note"] == "see ***"
    assert TOKEN not in str(xml.detail([0, 0, 0]))
    assert xml.search("5ecret")["matches"] == []


def test_xml_detail_has_xpath_and_a_working_snippet(xml):
    detail = xml.detail([0, 0, 0, 1, 1])
    assert (
        detail["location"]
        == "/soap:Envelope/soap:Body/b:GetInvoiceResponse/b:invoice/b:line[2]/b:amount"
    )
    assert (
        eval(detail["snippet"], {"etree": etree, "ex": type("E", (), {"content": SOAP_REPLY})})
        == "1.25"
    )  # noqa: S307


def test_xml_search(xml):
    result = xml.search("amount")
    assert [m["path"] for m in result["matches"]] == [[0, 0, 0, 0, 1], [0, 0, 0, 1, 1]]
    assert xml.search("INV-1")["matches"][0]["location"].endswith("b:invoice")
    assert xml.search("1.25")["matches"][0]["preview"] == "1.25"


@pytest.mark.parametrize("path", [[5], [0, 0, 0, 9], ["x"], [True], [-1]])
def test_xml_bad_paths(xml, path):
    with pytest.raises(TreePathError):
        xml.children(path)
