"""The sandbox's schema-drift fault: what it rewrites, and how it is configured."""

from __future__ import annotations

import json

from lxml import etree

from apinotebook.sandbox._drift import renames, retypes, rewrite
from apinotebook.sandbox._faults import FaultConfig, parse_fault_spec


def test_settings_parse_from_the_command_line_and_mappings():
    spec = parse_fault_spec(["crm:drift_rename=email:mail|id:key,drift_retype=score"])
    cfg = FaultConfig.from_mapping(spec["crm"])
    assert renames(cfg.drift_rename) == {"email": "mail", "id": "key"}
    assert retypes(cfg.drift_retype) == {"score"}
    assert FaultConfig(drift_rename="a:b").active
    assert FaultConfig.from_mapping({"drift_rename": "off"}).drift_rename is None


def test_json_keys_are_renamed_and_numbers_retyped_at_any_depth():
    body = json.dumps({"data": [{"email": "a", "score": 3, "n": {"email": "b", "score": True}}],
                       "score": None}).encode()  # fmt: skip
    out = json.loads(rewrite(body, "application/json", {"email": "mail"}, {"score"}))
    assert out == {"data": [{"mail": "a", "score": "3", "n": {"mail": "b", "score": "True"}}],
                   "score": None}  # fmt: skip
    assert rewrite(b"not json", "application/json", {"a": "b"}, set()) == b"not json"
    assert rewrite(b"<p/>", "text/html", {"p": "q"}, set()) == b"<p/>"


def test_xml_elements_keep_their_namespace():
    body = (b'<e:Envelope xmlns:e="urn:e" xmlns:t="urn:t"><e:Body><t:r><t:email>a</t:email>'
            b"<t:total>3</t:total></t:r></e:Body></e:Envelope>")  # fmt: skip
    root = etree.fromstring(rewrite(body, "text/xml", {"email": "mail"}, {"total"}))
    assert root.find(".//{urn:t}mail").text == "a"
    assert root.find(".//{urn:t}email") is None
    assert root.find(".//{urn:t}total").text == "not-a-number"
