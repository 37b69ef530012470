import copy
import pickle

import pytest

from apinotebook import ConfigError, MissingSecretError, Secret
from apinotebook._core.secrets import (
    MASK,
    is_sensitive_name,
    mask_body,
    mask_header,
    mask_text,
    mask_url,
    register_secret,
)


def test_secret_masks_itself():
    s = Secret("tok-abcdef123", name="CRM_TOKEN")
    assert repr(s) == "Secret(name='CRM_TOKEN')"
    assert str(s) == MASK and f"{s}" == MASK and f"{s:>20}" == MASK
    assert s.reveal() == "tok-abcdef123"
    assert copy.deepcopy(s) is s
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(s)


def test_secret_equality_and_validation():
    assert Secret("same-value-1") == Secret("same-value-1")
    assert Secret("same-value-1") != Secret("other-value-2")
    with pytest.raises(ConfigError):
        Secret("")


def test_from_env_names_the_missing_variable(monkeypatch):
    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    with pytest.raises(MissingSecretError, match="'NOPE_TOKEN' is not set") as info:
        Secret.from_env("NOPE_TOKEN")
    assert info.value.name == "NOPE_TOKEN"
    assert isinstance(info.value, KeyError)  # still catchable the old way
    monkeypatch.setenv("NOPE_TOKEN", "value-from-env")
    assert Secret.from_env("NOPE_TOKEN").reveal() == "value-from-env"
    assert Secret.from_env("UNSET_WITH_DEFAULT_X", default="fallback-1").reveal() == "fallback-1"


def test_registered_values_are_masked_everywhere():
    Secret("zz-registered-999")
    assert mask_text("token=zz-registered-999; x") == "token=***; x"
    register_secret("short")  # too short to mask by value: would eat ordinary words
    assert mask_text("short") == "short"


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("Authorization", True),
        ("X-API-Key", True),
        ("api_key", True),
        ("apikey", True),
        ("client_secret", True),
        ("password", True),
        ("Cookie", True),
        ("X-Auth-Token", True),
        ("access_token", True),
        ("key", True),
        ("Content-Type", False),
        ("limit", False),
        ("monkey", False),
        ("cursor", False),
        ("email", False),
    ],
)
def test_sensitive_names(name, sensitive):
    assert is_sensitive_name(name) is sensitive


@pytest.mark.parametrize(
    ("name", "value", "masked"),
    [
        ("Authorization", "Bearer abc.def.ghi", "Bearer ***"),
        ("Authorization", "Basic dXNlcjpwYXNz", "Basic ***"),
        ("Authorization", "weird-scheme-less", "***"),
        ("X-API-Key", "k123456789", "***"),
        ("Accept", "application/json", "application/json"),
    ],
)
def test_mask_header(name, value, masked):
    assert mask_header(name, value) == masked


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/x?api_key=abc123&limit=5", "https://h/x?api_key=***&limit=5"),
        ("https://user:pw@h/x", "https://user:***@h/x"),
        ("https://h/x?limit=5", "https://h/x?limit=5"),
    ],
)
def test_mask_url(url, expected):
    assert mask_url(url) == expected


def test_mask_body_json_form_and_xml():
    assert mask_body('{"password": "p4ssw0rd-x", "n": 1}', "application/json") == (
        '{"password": "***", "n": 1}'
    )
    assert mask_body(
        "grant_type=client_credentials&client_secret=zzz", "application/x-www-form-urlencoded"
    ) == ("grant_type=client_credentials&client_secret=***")
    Secret("wsse-password-77")
    xml = "<wsse:Password>wsse-password-77</wsse:Password>"
    assert mask_body(xml, "text/xml") == "<wsse:Password>***</wsse:Password>"
    assert mask_body("not json {", "application/json") == "not json {"
