"""The converter registry: History.to_postman reaches apinotebook.collections lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

from apinotebook import ConfigError
from apinotebook._core.converters import convert, register_converter


def test_registered_converter_is_called() -> None:
    register_converter("test-upper", lambda text: text.upper())
    assert convert("test-upper", "abc") == "ABC"


def test_unknown_converter_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no converter 'nope'"):
        convert("nope")


def test_history_to_postman_loads_the_collections_package(tmp_path) -> None:
    code = (
        "import sys, httpx\n"
        "from apinotebook import History, RestClient\n"
        "h = History()\n"
        "c = RestClient('https://x.example', history=h,\n"
        "               transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))\n"
        "c.get('/a')\n"
        "assert 'apinotebook.collections' not in sys.modules\n"
        f"out = h.to_postman({str(tmp_path / 'h.json')!r})\n"
        "print(out['document']['item'][0]['request']['method'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "GET"
