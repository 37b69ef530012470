"""Each WSDL document is parsed once: zeep takes the hardened pass's tree."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from apinotebook.soap import SoapClient, clear_wsdl_cache
from apinotebook.soap._zeep_parse import offer, sharing

LARGE = Path(__file__).parents[1] / "fixtures" / "soap" / "large" / "enterprise.wsdl"


@pytest.fixture
def zeep_parses(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every parse zeep's own parser makes (``zeep.loader.fromstring``)."""
    import zeep.loader

    seen: list[Any] = []
    real = zeep.loader.fromstring

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(zeep.loader, "fromstring", counting)
    return seen


def test_zeep_does_not_parse_a_document_again(zeep_parses: list[Any]) -> None:
    clear_wsdl_cache()
    client = SoapClient(LARGE, history=None)
    assert len(client.wsdl_documents) == 11
    assert zeep_parses == []
    assert client.operations  # zeep built the whole contract from the shared trees


def test_outside_a_load_zeep_parses_as_before(zeep_parses: list[Any]) -> None:
    import zeep.loader
    from lxml import etree

    clear_wsdl_cache()
    SoapClient(LARGE, history=None)  # installs the hook
    content = b"<a><b/></a>"
    offer(content, etree.fromstring(b"<other/>"))  # no load under way: ignored
    assert zeep.loader.parse_xml(content, None).tag == "a"
    assert zeep_parses == [content]


def test_only_the_very_bytes_offered_on_this_thread_are_taken(zeep_parses: list[Any]) -> None:
    import zeep.loader
    from lxml import etree

    clear_wsdl_cache()
    SoapClient(LARGE, history=None)
    content = b"<a/>"
    tree = etree.fromstring(b"<shared/>")
    seen: list[str] = []
    with sharing():
        offer(content, tree)
        worker = threading.Thread(
            target=lambda: seen.append(zeep.loader.parse_xml(content, None).tag)
        )
        worker.start()
        worker.join()
        other = bytes(bytearray(content))  # equal bytes, another object
        assert zeep.loader.parse_xml(other, None).tag == "a"
        assert zeep.loader.parse_xml(content, None) is tree
    assert seen == ["a"]  # another thread parsed for itself
