"""The corpus tools themselves: sources.toml, checksums, safe extraction, selection.

No network: every archive is built here in ``tmp_path`` and placed where
``fetch.download`` looks for it, as a cached download would be.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from . import fetch
from .fetch import Archive, CorpusError, Include


def _tgz(path: Path, members: dict[str, bytes], *, links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _cached(root: Path, archive_id: str, url: str, built: Path) -> None:
    """Put ``built`` where download() finds a cached copy of ``url``."""
    downloads = root / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    built.replace(downloads / f"{archive_id}--{url.rsplit('/', 1)[1]}")


def _archive(built: Path, *, sha256: str | None = None, fmt: str = "npm",
             includes: tuple[Include, ...] = ()) -> Archive:  # fmt: skip
    digest = sha256 or hashlib.sha256(built.read_bytes()).hexdigest()
    return Archive(
        id="demo-1.0",
        url=f"https://registry.example/demo/-/{built.name}",
        sha256=digest,
        format=fmt,
        licence="MIT",
        includes=includes or (Include(globs=("package/*.wsdl",), protocol="wsdl"),),
    )


MEMBERS = {
    "package/service.wsdl": b"<definitions/>",
    "package/types/common.xsd": b"<schema/>",
    "package/nested/other.wsdl": b"<definitions/>",
    "package/README.md": b"# demo",
}


def test_a_checksum_mismatch_is_refused_and_nothing_is_extracted(tmp_path):
    root = tmp_path / "cache"
    built = _tgz(tmp_path / "demo-1.0.tgz", MEMBERS)
    archive = _archive(built, sha256="0" * 64)
    _cached(root, archive.id, archive.url, built)
    with pytest.raises(CorpusError, match="sha256 mismatch"):
        list(fetch.corpus_files(archives=[archive], root=root, log=None))
    assert not (root / "extracted" / archive.id).exists()
    rejected = list((root / "downloads").glob("*.rejected"))
    assert len(rejected) == 1  # moved aside: the next run downloads afresh


def test_a_cached_archive_is_checked_extracted_and_selected_offline(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    built = _tgz(tmp_path / "demo-1.0.tgz", MEMBERS)
    archive = _archive(built, includes=(
        Include(globs=("package/*.wsdl",), protocol="wsdl", exclude=("*/nested/*",)),
        Include(globs=("package/*.md",), protocol="openapi"),
    ))  # fmt: skip
    _cached(root, archive.id, archive.url, built)

    def no_network(*args, **kwargs):
        raise AssertionError("a cached archive must not be downloaded again")

    monkeypatch.setattr(fetch, "_download", no_network)
    for _ in range(2):  # the second run reuses the extracted folder
        files = list(fetch.corpus_files(archives=[archive], root=root, log=None))
        assert [(f.id, f.protocol, f.member) for f in files] == [
            ("demo-1.0:package/README.md", "openapi", "package/README.md"),
            ("demo-1.0:package/service.wsdl", "wsdl", "package/service.wsdl"),
        ]
        assert files[1].path.read_bytes() == b"<definitions/>"
        # fragments are extracted beside the entries, so relative imports resolve
        assert (files[1].path.parent / "types" / "common.xsd").is_file()
    only = list(fetch.corpus_files(archives=[archive], root=root, log=None, protocols=["wsdl"]))
    assert [f.protocol for f in only] == ["wsdl"]


@pytest.mark.parametrize(
    ("members", "links", "message"),
    [
        ({"package/../../evil.txt": b"x"}, None, "leaves the archive"),
        ({"/etc/evil.txt": b"x"}, None, "absolute member path"),
        ({"package/ok.wsdl": b"x"}, {"package/link.wsdl": "/etc/passwd"}, "link member"),
    ],
)
def test_unsafe_tar_members_are_refused(tmp_path, members, links, message):
    root = tmp_path / "cache"
    built = _tgz(tmp_path / "demo-1.0.tgz", members, links=links)
    archive = _archive(built)
    _cached(root, archive.id, archive.url, built)
    with pytest.raises(CorpusError, match=message):
        list(fetch.corpus_files(archives=[archive], root=root, log=None))
    assert not (tmp_path / "evil.txt").exists() and not (root / "evil.txt").exists()
    extracted = root / "extracted"
    assert not any(extracted.iterdir())  # the half-done folder is removed


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_unsafe_zip_members_are_refused(tmp_path, name):
    root = tmp_path / "cache"
    built = _zip(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/ok.wsdl": b"x", name: b"x"})
    archive = _archive(built, fmt="wheel", includes=(Include(("demo/*",), "wsdl"),))
    _cached(root, archive.id, archive.url, built)
    with pytest.raises(CorpusError, match="leaves the archive|absolute"):
        list(fetch.corpus_files(archives=[archive], root=root, log=None))
    assert not (tmp_path / "evil.txt").exists()


def test_a_wheel_is_extracted(tmp_path):
    root = tmp_path / "cache"
    built = _zip(tmp_path / "demo-1.0-py3-none-any.whl", {"demo/wsdl/a.wsdl": b"<a/>"})
    archive = _archive(built, fmt="wheel", includes=(Include(("demo/*.wsdl",), "wsdl"),))
    _cached(root, archive.id, archive.url, built)
    (entry,) = fetch.corpus_files(archives=[archive], root=root, log=None)
    assert entry.member == "demo/wsdl/a.wsdl" and entry.path.read_bytes() == b"<a/>"


def test_largest_and_every_pick_a_deterministic_subset():
    members = {f"api/{i:02}.json": size for i, size in enumerate([5, 90, 1, 70, 3, 2, 80])}
    inc = Include(("api/*.json",), "openapi", largest=2, every=3)
    # the two largest (01, 06) and every third in path order (00, 03, 06)
    assert inc.select(members) == ["api/00.json", "api/01.json", "api/03.json", "api/06.json"]
    assert Include(("api/*.json",), "openapi").select(members) == sorted(members)


def test_the_corpus_sources_are_well_formed():
    archives = fetch.load_sources()
    protocols = {inc.protocol for a in archives for inc in a.includes}
    assert protocols == set(fetch.PROTOCOLS)
    assert all(a.url.startswith("https://") for a in archives)
    wsdl_packages = {a.id.rsplit("-", 1)[0] for a in archives
                     if any(i.protocol == "wsdl" for i in a.includes)}  # fmt: skip
    assert len(wsdl_packages) >= 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[archive]]\nid = "a"\nurl = "u"\nsha256 = "x"\nformat = "npm"\nlicence = "MIT"\n'
         '[[archive.include]]\nglob = "*"\nprotocol = "wsdl"\n', "64 hex digits"),
        ('[[archive]]\nid = "a"\nurl = "u"\nsha256 = "' + "a" * 64 + '"\nformat = "npm"\n'
         'licence = "MIT"\n[[archive.include]]\nglob = "*"\nprotocol = "soap"\n', "not one of"),
        ('[[archive]]\nid = "a"\nurl = "u"\nsha256 = "' + "a" * 64 + '"\nformat = "rpm"\n'
         'licence = "MIT"\n[[archive.include]]\nglob = "*"\nprotocol = "wsdl"\n', "format"),
        ('[[archive]]\nid = "a"\nurl = "u"\nformat = "npm"\nlicence = "MIT"\n', "lacks sha256"),
    ],
)  # fmt: skip
def test_malformed_sources_are_refused(tmp_path, text, message):
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(CorpusError, match=message):
        fetch.load_sources(path)
