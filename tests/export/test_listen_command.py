"""The exported script's ``listen`` command follows a stream source (a long-lived worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apinotebook.export.runtime import Cli, main
from apinotebook.integration import Integration
from apinotebook.streams import StreamMessage


def _sync(tmp_path: Path, got: list) -> Integration:
    sync = Integration("listen", state=str(tmp_path / "s.db"), progress=None)

    @sync.stream_source(key="id", position="id")
    def messages(position):
        start = 0 if position is None else position
        return (StreamMessage(f'{{"id": {i}}}') for i in range(start + 1, start + 100))

    @sync.destination(batch_size=1)
    def deliver(batch):
        got.extend(record["id"] for record in batch)

    return sync


def test_listen_delivers_and_a_second_listen_resumes_after_the_checkpoint(tmp_path: Path):
    got: list[int] = []
    assert main(_sync(tmp_path, got), cli=Cli("x", argv=["listen", "--limit", "3"])) == 0
    assert main(_sync(tmp_path, got), cli=Cli("x", argv=["listen", "--limit", "2"])) == 0
    assert got == [1, 2, 3, 4, 5]


def test_listen_is_a_script_command(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        Cli("x", argv=["--help"])
    assert "listen" in capsys.readouterr().out
