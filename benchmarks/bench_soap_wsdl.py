"""WSDL parse time: SoapClient (cold and cached) side by side with a raw zeep.Client.

The subject is the large multi-file fixture (``tests/fixtures/soap/large``: a
root WSDL with three ``wsdl:import``\\ ed WSDLs and seven XSDs tied together by
``xsd:import`` and ``xsd:include``, 80 binding operations) and the small
two-file shop WSDL, each loaded

- from local files (zeep reads them itself; SoapClient through its loader), and
- over HTTP from an in-process ``httpx.MockTransport`` (zeep gets an in-memory
  transport, so neither side pays for a network).

Every figure is the median of ``repeat`` runs in one warmed-up process (zeep is
imported and has parsed once before timing starts); ``zeep_import_s`` is the
one-off cost of importing zeep in a fresh interpreter, which the first
SoapClient of a process pays on top.

    python benchmarks/bench_soap_wsdl.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "soap"
SUBJECTS = {
    "large": (FIXTURES / "large", "enterprise.wsdl"),
    "shop": (FIXTURES, "shop.wsdl"),
}
BASE = "http://bench.test/"


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.[wx]s*")}


class _MemoryTransport:
    """A zeep transport serving files from memory (zeep only calls ``load``)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def load(self, url: str) -> bytes:
        return self.files[url.removeprefix(BASE)]


def _zeep_import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import zeep; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run(repeat: int = 7) -> dict[str, Any]:
    """Measure and return the numbers (seconds) as a dict."""
    import zeep

    from apinotebook.soap import SoapClient, clear_wsdl_cache

    results: dict[str, Any] = {"repeat": repeat, "zeep_import_s": _zeep_import_seconds()}
    for name, (folder, entry) in SUBJECTS.items():
        path = folder / entry
        files = _files(folder)

        def serve(request: httpx.Request, files: dict[str, bytes] = files) -> httpx.Response:
            return httpx.Response(200, content=files[request.url.path.lstrip("/")])

        mock = httpx.MockTransport(serve)
        url = BASE + entry

        def ours_cold_file(path: Path = path) -> SoapClient:
            clear_wsdl_cache()
            return SoapClient(path, history=None)

        def ours_cold_http(url: str = url, mock: httpx.MockTransport = mock) -> SoapClient:
            clear_wsdl_cache()
            return SoapClient(url, transport=mock, history=None)

        def zeep_http(url: str = url, files: dict[str, bytes] = files) -> Any:
            return zeep.Client(url, transport=_MemoryTransport(files))

        zeep.Client(str(path))  # warm-up: imports, lazily built tables
        ours_cold_http()
        client = ours_cold_file()
        results[name] = {
            "documents": len(client.wsdl_documents),
            "operations": sum(
                len(SoapClient(path, service=s, port=p, history=None).operations)
                for s, ports in client.services.items()
                for p in ports
            ),
            "file": {
                "zeep_client_s": _median(lambda p=str(path): zeep.Client(p), repeat),
                "soapclient_cold_s": _median(ours_cold_file, repeat),
                "soapclient_cached_s": _median(lambda p=path: SoapClient(p, history=None), repeat),
            },
            "http": {
                "zeep_client_s": _median(zeep_http, repeat),
                "soapclient_cold_s": _median(ours_cold_http, repeat),
                "soapclient_cached_s": _median(
                    lambda u=url, m=mock: SoapClient(u, transport=m, history=None), repeat
                ),
            },
            # the hardened pre-pass + zeep's parse, as recorded by the cold client
            "parse_only_s": ours_cold_file().parse_seconds,
        }
        clear_wsdl_cache()
    return results


def markdown(results: dict[str, Any]) -> str:
    """A table per subject: cold and cached SoapClient loads beside zeep.Client."""
    rows = [
        f"Median of {results['repeat']} runs; importing zeep costs "
        f"{results['zeep_import_s'] * 1000:.0f} ms once per process on top.",
        "",
        "| WSDL | source | zeep.Client | SoapClient cold | ratio | SoapClient cached |",
        "|---|---|---|---|---|---|",
    ]
    for name in SUBJECTS:
        subject = results[name]
        label = f"{name} ({subject['documents']} documents, {subject['operations']} operations)"
        for source in ("file", "http"):
            r = subject[source]
            rows.append(
                f"| {label} | {source} | {r['zeep_client_s'] * 1000:.1f} ms | "
                f"{r['soapclient_cold_s'] * 1000:.1f} ms | "
                f"{r['soapclient_cold_s'] / r['zeep_client_s']:.2f} | "
                f"{r['soapclient_cached_s'] * 1000:.2f} ms |"
            )
    rows += [
        "",
        "A cold SoapClient parses with zeep, fetching every document through "
        "apinotebook's own HTTP client (size limit, allowed locations), and keeps the "
        "parsed WSDL in a process-wide cache: re-running a notebook cell is nearly free.",
    ]
    return "\n".join(rows)


def main() -> None:
    results = run()
    print(json.dumps(results, indent=2))
    print()
    print(f"zeep import (once per process): {results['zeep_import_s'] * 1000:.0f} ms")
    header = f"{'subject':<8} {'via':<5} {'zeep.Client':>12} {'cold':>10} {'cached':>10}"
    print(header)
    for name in SUBJECTS:
        for via in ("file", "http"):
            row = results[name][via]
            zeep_ms, cold_ms, cached_ms = (
                row[k] * 1000 for k in ("zeep_client_s", "soapclient_cold_s", "soapclient_cached_s")
            )
            print(f"{name:<8} {via:<5} {zeep_ms:>9.1f} ms {cold_ms:>7.1f} ms {cached_ms:>7.2f} ms")


if __name__ == "__main__":
    main()
