"""Record and replay: every exchange of every client into a HAR cassette, and back.

``apinotebook.record(path)`` and ``apinotebook.replay(path)`` build a
:class:`Cassette`; :class:`Matcher` says when a request is the recorded one.
The pytest plugin (:mod:`apinotebook.cassettes.pytest_plugin`, registered
under the ``pytest11`` entry point) runs tests from cassettes.
"""

from apinotebook.cassettes._cassette import MODES, Cassette, Mode, record, replay
from apinotebook.cassettes._match import Matcher

__all__ = ["MODES", "Cassette", "Matcher", "Mode", "record", "replay"]
