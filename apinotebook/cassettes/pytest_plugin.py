"""Run tests from cassettes: a ``cassette`` fixture and an ``apinotebook_cassette`` marker.

Installed with apinotebook (the ``pytest11`` entry point), so a project's own
tests use it with no configuration::

    @pytest.mark.apinotebook_cassette("cassettes/crm.har")
    def test_sync_maps_every_contact():
        report = integration.run()            # answered from the cassette
        assert report.failed == 0

    def test_contacts(cassette):              # cassettes/<module>/<test>.har
        assert crm.get("/contacts").replayed == cassette.replaying

A relative path is taken from the test file's folder. The mode is the
marker's ``mode=``, else ``--cassette-mode`` (or the ``apinotebook_cassette_mode``
ini option), else ``"once"``: record when the file is missing, replay
otherwise. In CI pass ``--cassette-mode=replay`` so a missing recording fails
instead of reaching for the network. The marker also takes the matching
options (``ignore_query=``, ``ignore_json=``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apinotebook.cassettes._cassette import MODES, Cassette

__all__ = ["cassette", "pytest_addoption", "pytest_configure"]

MARKER = "apinotebook_cassette"
_UNSAFE = re.compile(r"[^\w.-]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--cassette-mode`` and the ``apinotebook_cassette_mode`` ini option."""
    group = parser.getgroup("apinotebook", "apinotebook cassettes")
    group.addoption(
        "--cassette-mode",
        choices=MODES,
        default=None,
        help="how apinotebook cassettes run: once (default), replay, new_episodes, all",
    )
    parser.addini("apinotebook_cassette_mode", "the default cassette mode", default="once")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker (tests run with ``--strict-markers`` know it)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path=None, *, mode=None, **match): run the test with this apinotebook "
        "cassette installed (record once, then replay)",
    )


def _default_path(request: pytest.FixtureRequest) -> Path:
    module = request.path.stem
    name = _UNSAFE.sub("_", request.node.name).strip("_") or "test"
    return Path("cassettes") / module / f"{name}.har"


def _cassette_for(request: pytest.FixtureRequest) -> Cassette:
    marker = request.node.get_closest_marker(MARKER)
    args: tuple[Any, ...] = marker.args if marker else ()
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if len(args) > 1:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes one path, got {args!r}")
    path = Path(args[0]) if args else _default_path(request)
    if not path.is_absolute():
        path = request.path.parent / path
    mode = (
        options.pop("mode", None)
        or request.config.getoption("--cassette-mode")
        or request.config.getini("apinotebook_cassette_mode")
    )
    return Cassette(path, mode=mode, **options)


@pytest.fixture
def cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """The test's cassette, installed for the whole test (written when it ends)."""
    with _cassette_for(request) as installed:
        yield installed


@pytest.fixture(autouse=True)
def _apinotebook_cassette_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker(MARKER) is None or "cassette" in request.fixturenames:
        yield
        return
    with _cassette_for(request):
        yield
