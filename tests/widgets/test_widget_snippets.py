"""Paths and one-line snippets: JSONPath, XPath, Python (tables of cases)."""

from __future__ import annotations

import ast

import pytest

from apinotebook.widgets._snippets import (
    XmlStep,
    json_snippet,
    jsonpath,
    py_str,
    xml_snippet,
    xpath,
)


@pytest.mark.parametrize(
    ("path", "expected_path", "expected_python"),
    [
        ([], "$", "ex.json()"),
        (["data", 3, "email"], "$.data[3].email", 'ex.json()["data"][3]["email"]'),
        (["odd key"], "$['odd key']", 'ex.json()["odd key"]'),
        (["it's"], "$['it\\'s']", 'ex.json()["it\'s"]'),
        (['say "hi"'], "$['say \"hi\"']", "ex.json()['say \"hi\"']"),
        (["a.b", 0], "$['a.b'][0]", 'ex.json()["a.b"][0]'),
        (["1st"], "$['1st']", 'ex.json()["1st"]'),
        (["back\\slash"], "$['back\\\\slash']", 'ex.json()["back\\\\slash"]'),
        (["ünï"], "$['ünï']", 'ex.json()["ünï"]'),
        ([0, 1, 2], "$[0][1][2]", "ex.json()[0][1][2]"),
    ],
)
def test_json_paths_and_snippets(path, expected_path, expected_python):
    assert jsonpath(path) == expected_path
    snippet = json_snippet("rest", "json", path)
    assert snippet == expected_python
    # the snippet is valid Python that really extracts the value
    ast.parse(snippet)


def test_snippet_extracts_the_value():
    body = {"odd key": [{"it's": {'say "hi"': "found"}}]}
    path = ["odd key", 0, "it's", 'say "hi"']
    snippet = json_snippet("rest", "json", path)

    class Ex:
        def json(self):
            return body

    assert eval(snippet, {"ex": Ex()}) == "found"  # noqa: S307 - our own generated code


@pytest.mark.parametrize(
    ("protocol", "view", "path", "expected"),
    [
        ("graphql", "json", ["data", "list", "edges", 0], 'ex.data["list"]["edges"][0]'),
        ("graphql", "json", ["data"], "ex.data"),
        ("graphql", "json", ["errors", 0, "message"], 'ex.errors[0]["message"]'),
        ("graphql", "json", ["extensions", "cost"], 'ex.json()["extensions"]["cost"]'),
        ("soap", "data", ["line", 1, "amount"], 'ex.data["line"][1]["amount"]'),
        ("soap", "fault", ["detail", "code"], 'ex.fault["detail"]["code"]'),
        ("rest", "json", ["data"], 'ex.json()["data"]'),
    ],
)
def test_protocol_snippets(protocol, view, path, expected):
    assert json_snippet(protocol, view, path) == expected


def test_snippet_uses_the_variable_name():
    assert json_snippet("rest", "json", ["a"], name="contacts") == 'contacts.json()["a"]'


ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.mark.parametrize(
    ("steps", "expected", "namespaces"),
    [
        (
            [
                XmlStep(ENV, "Envelope", "soap", 1, 1),
                XmlStep(ENV, "Body", "soap", 1, 1),
                XmlStep("urn:b", "line", "b", 2, 3),
            ],
            "/soap:Envelope/soap:Body/b:line[2]",
            {"soap": ENV, "b": "urn:b"},
        ),
        # a default namespace gets a generated prefix
        (
            [XmlStep("urn:d", "root", None, 1, 1), XmlStep("urn:d", "item", None, 1, 1)],
            "/ns0:root/ns0:item",
            {"ns0": "urn:d"},
        ),
        # no namespace at all
        ([XmlStep(None, "root", None, 1, 1), XmlStep(None, "x", None, 3, 3)], "/root/x[3]", {}),
        # two namespaces with the same prefix on the path: the second is renamed
        (
            [XmlStep("urn:1", "a", "p", 1, 1), XmlStep("urn:2", "b", "p", 1, 1)],
            "/p:a/ns0:b",
            {"p": "urn:1", "ns0": "urn:2"},
        ),
    ],
)
def test_xpath(steps, expected, namespaces):
    assert xpath(steps) == (expected, namespaces)


def test_xml_snippet_runs():
    from lxml import etree

    content = f'<s:E xmlns:s="{ENV}"><s:B><x xmlns="urn:x">1</x><x xmlns="urn:x">2</x></s:B></s:E>'
    steps = [
        XmlStep(ENV, "E", "s", 1, 1),
        XmlStep(ENV, "B", "s", 1, 1),
        XmlStep("urn:x", "x", None, 2, 2),
    ]
    snippet = xml_snippet(steps, leaf=True)

    class Ex:
        pass

    ex = Ex()
    ex.content = content.encode()
    assert eval(snippet, {"ex": ex, "etree": etree}) == "2"  # noqa: S307


@pytest.mark.parametrize("text", ["plain", "it's", 'say "hi"', "both ' and \"", "new\nline", "\\"])
def test_py_str_round_trips(text):
    assert ast.literal_eval(py_str(text)) == text
