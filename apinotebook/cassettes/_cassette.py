"""The Cassette: record every exchange into a HAR file, answer from it with no network.

::

    with apinotebook.record("cassettes/crm.har"):     # records if the file is missing
        crm.get("/contacts")                          # ... else answers from it
    with apinotebook.replay("cassettes/crm.har"):     # never touches the network
        ex = crm.get("/contacts")
        ex.replayed                                   # True

Modes (``mode=``):

``"once"``          record when the file is missing, else replay only (the default of
                    :func:`record`);
``"replay"``        answer from the file only; a request it has no answer for raises
                    :class:`~apinotebook.UnmatchedRequestError` naming the closest
                    recorded request and why it did not match (:func:`replay`);
``"new_episodes"``  answer what the file has, send and record the rest;
``"all"``           send everything and record it afresh (the file is rewritten).

Each recorded answer is played once, in order (a retried 503 then its 200 replay as
they happened); once every answer to a request has been played, replay-only modes
repeat the last one (a notebook cell run twice) and ``new_episodes`` records anew.
The file is written when the ``with`` block ends, only if something was recorded.
"""

from __future__ import annotations

import threading
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, cast

import httpx

from apinotebook._core import cassette as _hook
from apinotebook._core.cassette import Raw
from apinotebook._exceptions import CassetteError, ConfigError, UnmatchedRequestError
from apinotebook._exchange import ProtocolName
from apinotebook.cassettes._har import Entry, body_text, new_entry, read_har, write_har
from apinotebook.cassettes._match import Matcher, Shape

__all__ = ["MODES", "Cassette", "Mode", "record", "replay"]

Mode = Literal["once", "replay", "new_episodes", "all"]
MODES: tuple[Mode, ...] = ("once", "replay", "new_episodes", "all")
_BODY_HEADERS = ("content-type", "soapaction")
_CLOSEST = 20  # nearest recorded requests compared in detail when explaining a miss


class Cassette:
    """A HAR file of recorded exchanges that answers requests while it is installed.

    Use it as a context manager (``with Cassette(path):``), or :meth:`install`
    and :meth:`eject` it. :func:`record` and :func:`replay` build one.

    Args:
        path: the HAR file.
        mode: ``"once"``, ``"replay"``, ``"new_episodes"`` or ``"all"`` (see the
            module's docstring).
        matcher: how requests are matched; or pass its options below.
        repeat: in replay-only modes, answer a request again with its last
            recorded answer once every answer has been played (default on).
        **match: options of :class:`Matcher` (``ignore_query``, ``ignore_headers``,
            ``ignore_json``, ``ignore_xml``, ``match_headers``).
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        mode: Mode = "once",
        matcher: Matcher | None = None,
        repeat: bool = True,
        **match: Any,
    ) -> None:
        if mode not in MODES:
            raise ConfigError.invalid_choice("cassette mode", mode, MODES)
        if matcher is not None and match:
            raise ConfigError("pass either matcher= or the matching options, not both")
        try:
            self.matcher = matcher or Matcher(**match)
        except TypeError as exc:
            raise ConfigError(f"Cassette(): {exc}") from exc
        self.path = Path(path)
        self.mode: Mode = mode
        self.repeat = repeat
        self.entries: list[Entry] = []
        #: how many requests were answered from the file, and how many recorded
        self.played = 0
        self.recorded = 0
        self._index: dict[Any, list[Entry]] = {}
        self._lock = threading.Lock()
        self._replaying = False
        self._recording = False
        self._loaded = False

    # -- state ----------------------------------------------------------------------

    def load(self) -> Self:
        """Read the file according to the mode (installing does it)."""
        exists = self.path.exists()
        if self.mode == "replay" and not exists:
            raise CassetteError(
                f"no cassette at {self.path}: record it first with "
                f"apinotebook.record({str(self.path)!r}) against the real service"
            )
        self.entries, self._index = [], {}
        self.played = self.recorded = 0
        if exists and self.mode != "all":
            for entry in read_har(self.path, self.matcher):
                self._add(entry)
        self._replaying = self.mode in ("replay", "new_episodes") or (
            self.mode == "once" and exists
        )
        self._recording = not self._replaying or self.mode == "new_episodes"
        self._loaded = True
        return self

    def _add(self, entry: Entry) -> None:
        self.entries.append(entry)
        self._index.setdefault(entry.shape.key, []).append(entry)

    @property
    def replaying(self) -> bool:
        """Whether requests are answered from the file."""
        return self._replaying

    @property
    def recording(self) -> bool:
        """Whether requests that reach the network are recorded."""
        return self._recording

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return (
            f"<Cassette {str(self.path)!r} mode={self.mode!r} {len(self)} entries, "
            f"{self.played} played, {self.recorded} recorded>"
        )

    # -- the hook's side ---------------------------------------------------------------

    def _shape(self, request: httpx.Request, protocol: str | None) -> Shape:
        try:
            content = request.content
        except httpx.RequestNotRead:
            content = b""
        if self.matcher.match_headers:
            headers = list(request.headers.multi_items())
        else:  # all that matching reads of the headers without match_headers
            headers = [(k, v) for k in _BODY_HEADERS if (v := request.headers.get(k)) is not None]
        return self.matcher.shape(
            request.method, str(request.url), headers, body_text(content)[0], protocol
        )

    def answer(self, request: httpx.Request, protocol: str, operation: str | None) -> Raw | None:
        """The recorded answer to ``request``; ``None`` to send it (recording modes).

        Raises:
            UnmatchedRequestError: replay only, and nothing recorded matches.
        """
        if not self._replaying:
            return None
        shape = self._shape(request, protocol)
        with self._lock:
            found = self._index.get(shape.key)
            if found is None:  # a masked *** in the recording matches any value
                found = [e for e in self.entries if self.matcher.matches(e.shape, shape)]
                if found:
                    self._index[shape.key] = found
            entry = next((e for e in found or () if not e.played), None)
            if entry is None and found and self.repeat and not self._recording:
                entry = found[-1]
            if entry is None:
                if self._recording:
                    return None
                raise self._unmatched(shape, protocol)
            entry.played = True
            self.played += 1
            return entry.raw

    def keep(
        self, request: httpx.Request, outcome: Raw, protocol: str, operation: str | None
    ) -> None:
        """Record a round trip that went on the wire (masked before it is kept)."""
        if not self._recording:
            return
        entry = new_entry(request, outcome, cast(ProtocolName, protocol), operation, self.matcher)
        entry.played = True
        with self._lock:  # numbered here: threads of an integration record side by side
            entry.number = len(self.entries) + 1
            self._add(entry)
            self.recorded += 1

    def _unmatched(self, shape: Shape, protocol: str) -> UnmatchedRequestError:
        where = f"the cassette {self.path}"
        if not self.entries:
            return UnmatchedRequestError(
                f"No recorded answer for {shape.target} ({protocol}): {where} is empty. "
                "Record it with apinotebook.record(..., mode='new_episodes').",
                path=str(self.path),
                request=shape.target,
            )
        nearest = sorted(self.entries, key=lambda e: _weight(e.shape, shape))[:_CLOSEST]
        best: tuple[int, int, Entry, list[str]] | None = None
        for entry in nearest:
            reasons = self.matcher.differences(entry.shape, shape)
            if not reasons:  # every answer to it was played and repeat is off
                reasons = ["its recorded answers were all played (pass repeat=True)"]
            rank = (_weight(entry.shape, shape), len(reasons))
            if best is None or rank < best[:2]:
                best = (*rank, entry, reasons)
        assert best is not None
        entry, reasons = best[2], best[3]
        because = "; ".join(reasons)
        return UnmatchedRequestError(
            f"No recorded answer for {shape.target} ({protocol}) in {where}. "
            f"The closest recorded request is #{entry.number} {entry.shape.target}: {because}. "
            "Record the new request with mode='new_episodes', or ignore a part that changes "
            "on every call (ignore_query=, ignore_json=, ignore_headers=).",
            path=str(self.path),
            request=shape.target,
            closest=entry.shape.target,
            differences=reasons,
        )

    # -- installing ----------------------------------------------------------------

    def install(self) -> Self:
        """Load the file and answer every request of the process until :meth:`eject`."""
        self.load()
        _hook.install(self)
        return self

    def eject(self) -> None:
        """Stop answering, and write the file if anything was recorded."""
        _hook.uninstall(self)
        self.save()

    def save(self) -> bool:
        """Write the file if anything was recorded (or ``mode="all"``); whether it wrote."""
        if not self._loaded or not (self.recorded or (self.mode == "all" and self.entries)):
            return False
        with self._lock:
            hars = [e.har for e in self.entries]
        write_har(self.path, hars)
        return True

    def __enter__(self) -> Self:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.eject()


def _weight(recorded: Shape, live: Shape) -> int:
    """How far apart two requests are: another path or method counts most."""
    score = 0
    if recorded.method != live.method:
        score += 4
    if recorded.origin != live.origin:
        score += 2
    if recorded.path != live.path:
        score += 8
    if recorded.kind != live.kind:
        score += 1
    return score


def record(
    path: str | PathLike[str], *, mode: Mode = "once", repeat: bool = True, **match: Any
) -> Cassette:
    """A cassette that records every exchange of every client into the HAR file ``path``.

    By default (``mode="once"``) it records when the file is missing and replays
    from it otherwise; see :class:`Cassette` for the other modes and the
    matching options.
    """
    return Cassette(path, mode=mode, repeat=repeat, **match)


def replay(path: str | PathLike[str], *, repeat: bool = True, **match: Any) -> Cassette:
    """A cassette that answers every request from the HAR file ``path``, with no network.

    A request it has no answer for raises :class:`~apinotebook.UnmatchedRequestError`.
    """
    return Cassette(path, mode="replay", repeat=repeat, **match)
