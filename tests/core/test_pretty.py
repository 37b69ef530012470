"""One body pretty-printer: the static card and the inspector show the same text."""

import json

import pytest

from apinotebook import Exchange, Request
from apinotebook._core.render import pretty_body, pretty_json
from apinotebook._core.secrets import mask_body, masks_field, register_secret
from apinotebook.widgets._text import pretty_text

BODY = {"id": 1, "token": "tok-123", "nested": {"password": "pw"}, "items": [1, "two", None]}


def exchange(content: bytes, content_type: str) -> Exchange:
    return Exchange(
        protocol="rest",
        request=Request("GET", "https://api.example/x"),
        status=200,
        headers={"content-type": content_type},
        content=content,
    )


def test_json_is_indented_and_masked_once_for_both_views():
    content = json.dumps(BODY).encode()
    text = pretty_body(content, "application/json")
    assert text == pretty_text(exchange(content, "application/json"), limit=10_000)
    assert text == pretty_json(BODY, limit=10_000)
    assert json.loads(text) == {**BODY, "token": "***", "nested": {"password": "***"}}
    assert text.startswith('{\n  "id": 1,\n  "token": "***"')


def test_json_keys_are_masked_whatever_the_content_type_says():
    content = json.dumps({"api_key": "k-1"}).encode()
    assert "k-1" not in pretty_body(content, "text/plain")


def test_registered_secrets_are_masked_in_json_xml_and_text():
    register_secret("s3cr3t-value-42")
    for content, ctype in [
        (b'{"note": "s3cr3t-value-42"}', "application/json"),
        (b"<a><b>s3cr3t-value-42</b></a>", "text/xml"),
        (b"plain s3cr3t-value-42", "text/plain"),
    ]:
        assert "s3cr3t-value-42" not in pretty_body(content, ctype)


def test_xml_is_indented():
    assert pretty_body(b"<a><b>1</b></a>", "text/xml") == "<a>\n  <b>1</b>\n</a>\n"


def test_long_bodies_are_cut_with_a_note():
    content = json.dumps(list(range(60))).encode()  # under 4x the limit: parsed, indented
    text = pretty_body(content, "application/json", limit=100)
    head, _, note = text.partition("\n… (")
    assert len(head) == 100 and note.endswith("in all; see .content)")
    assert head == pretty_json(list(range(60)), limit=10_000)[:100]
    big = json.dumps(list(range(5000))).encode()  # too big to parse for a preview: raw text
    assert pretty_body(big, "application/json", limit=100).startswith("[0, 1, 2")


def test_a_body_that_is_not_json_is_shown_as_text():
    assert pretty_body(b"{not json", "application/json") == "{not json"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("hunter2", True),
        (1234, True),
        (["hunter2-a", "hunter2-b"], True),
        ({"old": "hunter2-c"}, True),
        (None, False),
        (True, False),
    ],
)
def test_one_masking_rule_for_the_body_the_card_and_the_inspector(value, masked):
    body = {"passwords": value, "id": 1}
    expected = {"passwords": "***" if masked else value, "id": 1}
    content = json.dumps(body).encode()
    assert masks_field("passwords", value) is masked
    assert json.loads(mask_body(content.decode(), "application/json")) == expected
    assert json.loads(pretty_body(content, "text/plain")) == expected
    assert json.loads(pretty_json(body, limit=10_000)) == expected


def test_generated_code_reads_credentials_from_the_environment_or_masks_them():
    pytest.importorskip("anywidget")  # the explorers need the notebook extra
    from apinotebook.widgets._explorer import dict_code, keyword_args

    values = {"api_key": "k-1", "passwords": ["hunter2-a"], "password_set": True, "n": [1]}
    code = dict_code(values)
    assert "hunter2-a" not in code and "k-1" not in code
    assert code == (
        '{"api_key": os.environ["API_KEY"], "passwords": "***", "password_set": True, "n": [1]}'
    )
    assert keyword_args(values)[1] == 'passwords="***"'
