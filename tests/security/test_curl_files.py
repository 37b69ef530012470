"""``curl -d @file``: regular files only, and only up to a size limit."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from apinotebook import ConfigError, RestClient
from apinotebook.curl import parse_curl


@pytest.mark.parametrize("option", ["-d", "--data-binary", "--json", "--data-urlencode"])
def test_a_device_is_refused_before_it_is_read(option: str) -> None:
    value = "@/dev/zero" if option != "--data-urlencode" else "field@/dev/zero"
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        RestClient.from_curl(f"curl {option} {value} https://api.test/x")
    assert time.monotonic() - started < 2
    message = str(info.value)
    assert "/dev/zero" in message and "not a regular file" in message


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "body.fifo"
    os.mkfifo(fifo)
    result: list[BaseException | None] = []

    def parse() -> None:
        try:
            parse_curl(f"curl -d @{fifo} https://api.test/x")
            result.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            result.append(exc)

    thread = threading.Thread(target=parse, daemon=True)
    thread.start()
    thread.join(3)
    if thread.is_alive():  # unblock the reader so the test process can finish
        with open(fifo, "wb"):
            pass
        thread.join(3)
        pytest.fail("reading a FIFO named by -d @file blocked")
    assert isinstance(result[0], ConfigError) and "not a regular file" in str(result[0])


def test_a_file_body_is_capped_and_the_cap_is_configurable(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(ConfigError) as info:
        parse_curl(f"curl --data-binary @{big} https://api.test/x", max_file_size=1024)
    message = str(info.value)
    assert "big.json" in message and "max_file_size" in message
    assert parse_curl(f"curl --data-binary @{big} https://api.test/x").body == b"x" * 2048
    client = RestClient.from_curl(
        f"curl --data-binary @{big} https://api.test/x", max_file_size=4096
    )
    assert client.command.body == b"x" * 2048
    with pytest.raises(ConfigError, match="max_file_size"):
        RestClient.from_curl(f"curl --data-binary @{big} https://api.test/x", max_file_size=100)


def test_the_default_cap_is_10_mb(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(10 * 1024 * 1024 + 1)  # sparse: cheap to make
    with pytest.raises(ConfigError, match="max_file_size"):
        parse_curl(f"curl --data-binary @{big} https://api.test/x")
