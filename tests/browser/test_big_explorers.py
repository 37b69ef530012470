"""The explorers on the biggest files of the real-world corpus, in JupyterLab and Chromium.

GitHub's published GraphQL schema (about 1,600 types, 1.2 MB of SDL) in the
SchemaExplorer and Bing Ads' campaign-management WSDL (1.5 MB, 195 operations)
in the WsdlExplorer, run on a live kernel. The tests measure, in the page
(``performance.now()``), how long a search takes from the keystroke to the
list showing its results, and read the kernel's websocket frames to check what
the widgets ship: the schema's type details are not in the state sent when
the explorer opens, and expanding a type sends that type's fields only.

The two archives are fetched into the corpus cache first (a subprocess: the
test process itself has no network), as ``make corpus`` would.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from apinotebook.widgets._editors import editors_source

REPO = Path(__file__).resolve().parents[2]
GRAPHQL = ("octokit-graphql-schema-15.26.1", "package/schema.graphql")
OPENAPI = ("octokit-openapi-23.0.2", "package/generated/api.github.com.json")
WSDL = (
    "bingads-13.0.30.1",
    "bingads-13.0.30.1/bingads/v13/proxies/production/campaignmanagement_service.xml",
)
NOTEBOOK = "big_explorers.ipynb"
#: a search that takes longer than this from the keystroke has certainly gone wrong (the
#: figures measured are printed and reported in docs/corpus.md; the aim is under 100 ms)
SEARCH_BOUND_MS = 1000.0

# type ``text`` into the search box, then wait (observing the list's attributes) until the
# list says it shows that search: milliseconds from the keystroke, measured in the page
TIMED_SEARCH_JS = """async ([box, input, list, text]) => {
    const root = document.querySelector(box);
    const field = root.querySelector(input);
    const results = root.querySelector(list);
    const shown = new Promise((resolve) => {
        const done = () => results.dataset.query === text.trim().toLowerCase()
            || results.dataset.query === text.trim();
        const observer = new MutationObserver(() => {
            if (done()) { observer.disconnect(); resolve(performance.now()); }
        });
        observer.observe(results, { attributes: true, attributeFilter: ["data-query"] });
    });
    field.value = text;
    const start = performance.now();
    field.dispatchEvent(new Event("input", { bubbles: true }));
    return (await shown) - start;
}"""


def _fetch(*archive_ids: str) -> Path:
    """Fill the corpus cache with these archives (pinned, checksummed); the cache's root."""
    code = (
        "import sys\n"
        "from tests.corpus.fetch import corpus_files, load_sources\n"
        "wanted = [a for a in load_sources() if a.id in sys.argv[1:]]\n"
        "assert len(wanted) == len(sys.argv) - 1, wanted\n"
        "list(corpus_files(archives=wanted, log=None))\n"
    )
    subprocess.run([sys.executable, "-c", code, *archive_ids], cwd=REPO, check=True, timeout=600)
    sys.path.insert(0, str(REPO))
    from tests.corpus.fetch import cache_dir

    return cache_dir() / "extracted"


def _notebook(schema: Path, wsdl: Path, openapi: Path) -> dict[str, Any]:
    cells = [
        "from apinotebook import RestClient\n"
        "from apinotebook.graphql import GraphQLClient\n"
        "from apinotebook.soap import SoapClient\n"
        "from apinotebook.widgets._builder import RequestBuilder\n"
        "from apinotebook.widgets._schema import SchemaExplorer\n"
        "from apinotebook.widgets._wsdl import WsdlExplorer",
        f"github = GraphQLClient(schema={str(schema)!r}, history=False)\n"
        "SchemaExplorer(github, name='github')",
        f"bing = SoapClient({str(wsdl)!r}, history=None)\nWsdlExplorer(bing, name='bing')",
        f"rest = RestClient.from_openapi({str(openapi)!r}, history=None)\n"
        "RequestBuilder(rest, name='rest')",
    ]
    return {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": s,
                "outputs": [],
                "execution_count": None,
            }
            for s in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


class Frames:
    """Every websocket frame the page received from the kernel, as bytes."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    def listen(self, ws: Any) -> None:
        if "/api/kernels/" not in ws.url:
            return
        ws.on(
            "framereceived",
            lambda payload: self.received.append(
                payload.encode() if isinstance(payload, str) else bytes(payload)
            ),
        )

    def since(self, start: int) -> bytes:
        return b"".join(self.received[start:])


@pytest.fixture(scope="module")
def corpus() -> dict[str, Path]:
    root = _fetch(GRAPHQL[0], WSDL[0], OPENAPI[0])
    return {
        "schema": root / GRAPHQL[0] / GRAPHQL[1],
        "wsdl": root / WSDL[0] / WSDL[1],
        "openapi": root / OPENAPI[0] / OPENAPI[1],
    }


@pytest.fixture(scope="module")
def opened(
    open_page: Callable[..., AbstractContextManager[Any]], lab: Any, corpus: dict[str, Path]
) -> Iterator[tuple[Any, Frames]]:
    (lab.root / NOTEBOOK).write_text(
        json.dumps(_notebook(corpus["schema"], corpus["wsdl"], corpus["openapi"]))
    )
    frames = Frames()
    with open_page(height=1800) as page:
        page.on("websocket", frames.listen)
        prompts = lab.run_all(page, NOTEBOOK)
        assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), lab.code_cells(page)
        expect(page.locator(".apn-schema .apn-node").first).to_be_visible()
        expect(page.locator(".apn-wsdl .apn-op-row").first).to_be_visible()
        expect(page.locator(".apn-schema .apn-query")).to_be_visible()  # the editors loaded
        yield page, frames
        lab.check(page)


def _unique_field(schema: Any, owner: str) -> str:
    """A field name of ``owner`` that no other type, argument or enum uses, and no type is."""
    seen: dict[str, int] = {}
    for named in schema.type_map.values():
        words = list(getattr(named, "fields", None) or {})
        words += [
            a
            for f in (getattr(named, "fields", None) or {}).values()
            for a in getattr(f, "args", {})
        ]
        words += list(getattr(named, "values", None) or {})
        for word in words:
            seen[word] = seen.get(word, 0) + 1
    for name in schema.type_map[owner].fields:
        if len(name) >= 12 and seen[name] == 1 and name not in schema.type_map:
            return name
    raise AssertionError(f"{owner} has no field with a name of its own")


def test_expanding_a_type_ships_that_type_only(
    opened: tuple[Any, Frames], corpus: dict[str, Path]
) -> None:
    from graphql import build_schema

    page, frames = opened
    schema = build_schema(
        corpus["schema"].read_text("utf-8"), assume_valid=True, assume_valid_sdl=True
    )
    repo_field = f'"{_unique_field(schema, "Repository")}"'.encode()
    other_field = f'"{_unique_field(schema, "EnterpriseOwnerInfo")}"'.encode()
    opening = frames.since(0)
    sdl_size = corpus["schema"].stat().st_size
    print(f"\nexplorers opened: {len(opening):,} bytes from the kernel (SDL {sdl_size:,})")
    editors = len(editors_source().encode())  # the CodeMirror bundle, sent once per page
    print(f"of which the editors' module: {editors:,} bytes")
    assert len(opening) - editors < sdl_size / 2  # names and kinds, not the schema
    assert repo_field not in opening and other_field not in opening

    start = len(frames.received)
    tree = page.locator(".apn-schema .apn-schema-tree")
    repository = tree.locator(".apn-node[data-path='[\"repository\"]']")
    repository.locator(":scope > .apn-row .apn-toggle").click()
    expect(repository.locator('.apn-node[data-path=\'["repository","name"]\']')).to_be_visible()
    expanded = frames.since(start)
    print(f"expanding Query.repository: {len(expanded):,} bytes")
    assert repo_field in expanded
    assert other_field not in expanded
    assert len(expanded) < 200_000


@pytest.mark.parametrize(
    ("box", "input_", "results", "texts"),
    [
        (
            ".apn-schema",
            ".apn-search",
            ".apn-results:not(.apn-typelist)",
            ["repository", "pull request review", "sponsor", "zzzz none", "deployment status"],
        ),
        (
            ".apn-wsdl",
            ".apn-search",
            ".apn-ops",
            ["campaign", "AddAds", "keyword", "zzzz", "label"],
        ),
    ],
    ids=["schema", "wsdl"],
)
def test_search_answers_quickly(
    opened: tuple[Any, Frames], box: str, input_: str, results: str, texts: list[str]
) -> None:
    page, _ = opened
    page.evaluate(TIMED_SEARCH_JS, [box, input_, results, "warm up"])
    times = [page.evaluate(TIMED_SEARCH_JS, [box, input_, results, text]) for text in texts]
    print(f"\n{box} search, keystroke to results shown: " + ", ".join(f"{t:.1f}" for t in times)
          + f" ms (median {statistics.median(times):.1f} ms)")  # fmt: skip
    assert max(times) < SEARCH_BOUND_MS, times
    shown = page.locator(f"{box} {results}")
    expect(shown).to_have_attribute("data-query", re.compile(re.escape(texts[-1]), re.I))
    expect(shown.locator(".apn-result, .apn-op-row").first).to_be_visible()  # it found some


def _type_into(page: Any, editor: Any, text: str) -> None:
    """Clear a CodeMirror editor and type ``text`` key by key (brackets close themselves)."""
    editor.focus()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text, delay=5)


def test_the_query_editor_completes_and_marks_problems(
    opened: tuple[Any, Frames], save_screenshot: Any
) -> None:
    page, _ = opened
    explorer = page.locator(".apn-schema")
    editor = explorer.locator(".apn-query")
    popup = page.locator(".cm-tooltip-autocomplete")
    # a field of Repository, from the schema in the kernel
    _type_into(page, editor, '{ repository(owner: "a", name: "b") { nameWith')
    expect(popup).to_contain_text("nameWithOwner")
    save_screenshot(page.locator(".apn-schema"), "schema-editor-completion.png")
    page.keyboard.press("Escape")
    # arguments, then an enum's values
    _type_into(page, editor, '{ repository(owner: "a", name: "b") { issues(states: ')
    expect(popup).to_contain_text("OPEN")
    expect(popup).to_contain_text("CLOSED")
    page.keyboard.press("Escape")
    # a field the type does not have: an inline error on that very word, from the kernel
    _type_into(page, editor, '{ repository(owner: "a", name: "b") { nope')
    mark = explorer.locator(".apn-query .cm-lintRange-error")
    expect(mark).to_have_text("nope")
    expect(explorer.locator(".apn-problems")).to_contain_text("Cannot query field 'nope'")
    save_screenshot(explorer, "schema-editor-problem.png")
    # Format: graphql-core's layout, one field a line
    _type_into(page, editor, "{viewer{login")
    explorer.locator(".apn-format").click()
    expect(editor.locator(".cm-line")).to_have_count(5)
    expect(editor.locator(".cm-line").nth(1)).to_have_text("  viewer {")


def test_the_body_editor_completes_the_request_schema(opened: tuple[Any, Frames]) -> None:
    page, _ = opened
    builder = page.locator(".apn-builder")
    builder.locator(".apn-picker-input").fill("issues/create")
    results = builder.locator(".apn-dropdown[data-query='issues/create']:not([aria-busy])")
    results.locator(".apn-result[data-op='issues/create']").click()
    expect(builder.locator(".apn-op-id")).to_have_text("issues/create")
    body = builder.locator(".apn-body")
    expect(body).to_contain_text('"title"')  # the skeleton
    _type_into(page, body, '{"mile')
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("milestone")
    page.keyboard.press("Escape")
    _type_into(page, body, '{"title": ')
    expect(builder.locator(".apn-json-status")).to_contain_text("invalid JSON")
    expect(
        builder.locator(".apn-body .cm-lintRange-error, .apn-body-box .cm-lint-marker-error").first
    ).to_be_attached()
