"""Run the collections corpus: every file imports, every notebook is ruff-clean, a sample runs.

For each file of ``tests/collections/sources.toml`` (fetched and cached by
``tests/corpus/fetch.py``):

1. ``apinotebook.collections.load`` -> ``ok`` or ``typed`` (a ``CollectionError``
   naming the file); anything else is a ``crash`` and fails the run;
2. the notebook is written and ``ruff check`` runs on all of them at once (the
   project's rules); any finding fails the run;
3. the collection is exported as Postman v2.1, validated against the real v2.1
   JSON schema (shipped by npm's ``postman-collection``), and round-tripped:
   notebook -> ``to_postman`` -> ``load`` keeps each request's method, URL,
   header names, body kind and auth type;
4. a sample of notebooks runs with nbclient (one shared kernel, reset between
   notebooks) against a local echo server, the
   requests' hosts rewritten to it: a cell may fail only on a translated check
   (``AssertionError``/``KeyError``/``IndexError``: the echo is not the real API)
   or on an OAuth 2.0 error from the token endpoint (the echo is not one).

Usage: ``python tests/collections/corpus_run.py [--match TEXT] [--execute N]``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbrun import SharedKernel, error_names  # noqa: E402

from apinotebook.collections import (  # noqa: E402
    Collection,
    CollectionError,
    Environment,
    Folder,
    Variable,
    collection_to_postman,
    load,
    load_environment,
    to_postman,
    write_notebook,
)
from tests.corpus.fetch import CorpusFile, corpus_files, load_sources  # noqa: E402

SOURCES = Path(__file__).resolve().parent / "sources.toml"
FORMATS = ("postman", "postman-environment", "insomnia", "bruno", "har", "openapi", "schema")
ALLOWED = {"AssertionError", "KeyError", "IndexError"}
_TEMPLATE_HEAD = "{{"


# -- the echo server -------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": body.decode("utf-8", "replace"),
            }  # fmt: skip
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._echo
        raise AttributeError(name)

    def log_message(self, *args: Any) -> None:
        pass


def echo_server() -> tuple[ThreadingHTTPServer, str]:
    """A loopback server answering every request with a JSON echo of it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# -- the Postman v2.1 schema -----------------------------------------------------------


def postman_schema(files: list[CorpusFile]) -> dict[str, Any]:
    """collection.json with every other file of the schema folder as a definition."""
    import re

    def parse(text: str) -> Any:  # the files carry // comments
        return json.loads(re.sub(r'("(?:[^"\\]|\\.)*")|//[^\n]*', lambda m: m.group(1) or "", text))

    parts = {f.path.stem: parse(f.path.read_text()) for f in files}
    root = dict(parts.pop("collection"))
    definitions = dict(root.get("definitions", {}))
    for name, part in parts.items():
        ident = str(part.get("id", "")).rsplit("/", 1)[-1] or name
        part = {k: v for k, v in part.items() if k not in ("$schema", "id")}
        definitions.setdefault(ident, part)
    # The newest schema an npm package ships (postman-collection 3.6.11) predates some of
    # Postman's own additions; extended here, and only here, with exactly those:
    # it references "variable-list" without shipping it,
    definitions.setdefault(
        "variable-list", {"type": "array", "items": {"$ref": "#/definitions/variable"}}
    )
    # it knows the body modes raw/urlencoded/formdata (file and graphql came later),
    body = definitions["request"]["oneOf"][0]["properties"]["body"]["properties"]
    body["mode"]["enum"] = [*body["mode"]["enum"], "file", "graphql"]
    # the auth types without apikey (added later), each type with a closed list of
    # attribute names where the published v2.1.0 schema takes any "auth-attribute"
    # (key, value, type);
    auth = definitions["auth"]["properties"]
    auth["type"]["enum"] = [*auth["type"]["enum"], "apikey"]
    attribute = {"type": "object", "properties": {"key": {"type": "string"}, "value": {},
                                                  "type": {"type": "string"}},
                 "required": ["key"]}  # fmt: skip
    for name, spec in auth.items():
        if name != "type" and isinstance(spec, dict):
            auth[name] = {"type": "array", "items": attribute}
    auth["apikey"] = {"type": "array", "items": attribute}
    # and a closed list of methods where Postman sends any method name (custom ones too).
    method = definitions["request"]["oneOf"][0]["properties"]["method"]
    method.pop("enum", None)
    root["definitions"] = definitions
    root.pop("id", None)
    return root


# -- round trip ------------------------------------------------------------------------

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_UNSUPPORTED_AUTH = {"awsv4", "hawk", "ntlm", "oauth1", "edgegrid", "jwt", "asap", "akamai",
                     "other", "netrc"}  # fmt: skip


def _family(mode: str) -> str:
    return "text" if mode in ("raw", "json", "xml") else mode


def signature(c: Collection, *, exported: bool = False) -> list[tuple[str, ...]]:
    # OpenAPI calls: the method and the path are what the notebook keeps (the spec does the rest)
    """What the round trip must keep, per request."""
    from apinotebook.collections._codegen import oauth2_flow
    from apinotebook.collections._pysource import identifier

    out = []
    for parents, req in c.walk():
        auth = c.effective_auth(parents, req)
        kind = auth.type if auth else "none"
        if kind == "oauth2" and not exported and auth and oauth2_flow(auth.params) is None:
            kind = "bearer"  # a grant apinotebook does not run: the token comes from env
        if kind in _UNSUPPORTED_AUTH:
            kind = "none"  # warned: the notebook sends it without auth
        url = req.url
        if not exported:
            import re

            url = re.sub(
                r"\{\{\s*([^{}]+?)\s*\}\}", lambda m: "{{" + identifier(m.group(1)) + "}}", url
            )
        inherited = [h for f in parents for h in f.headers]
        headers = sorted(
            {h.name.lower() for h in [*inherited, *req.headers] if not h.disabled
             and _HEADER_NAME.match(h.name)}  # invalid names are warned about, not sent
        )  # fmt: skip
        body = _family(req.body.mode)
        if req.body.mode == "form-data" and not [p for p in req.body.form if not p.disabled]:
            body = "none"
        if req.body.mode == "urlencoded" and not [p for p in req.body.fields if not p.disabled]:
            body = "none"
        out.append((req.method, url, ",".join(headers), body, kind))
    return out


def _added_headers(sig: list[tuple[str, ...]], again: list[tuple[str, ...]]) -> bool:
    """Only Content-Type may appear on the way back (the notebook declares a text body's type)."""
    for a, b in zip(sig, again, strict=True):
        extra = set(b[2].split(",")) - set(a[2].split(","))
        if (
            a[:2] != b[:2]
            or a[3:] != b[3:]
            or (extra - {"content-type"})
            or (set(a[2].split(",")) - set(b[2].split(",")))
        ):
            return False
    return True


# -- one file --------------------------------------------------------------------------


def import_one(f: CorpusFile, out: Path) -> dict[str, Any]:
    """Load and write one corpus file; the entry of the report."""
    entry: dict[str, Any] = {"id": f.id, "format": f.protocol}
    try:
        if f.protocol == "postman-environment":
            env = load_environment(f.path)
            entry.update(outcome="ok", variables=len(env.variables))
            return entry
        c = load(f.path)
    except CollectionError as exc:
        entry.update(outcome="typed", error=str(exc)[:300])
        return entry
    except Exception as exc:  # noqa: BLE001 - a crash is what this run looks for
        entry.update(outcome="crash", error=f"{type(exc).__name__}: {exc}"[:300])
        return entry
    notebook = out / (f.id.replace("/", "_").replace(":", "__") + ".ipynb")
    try:
        result = write_notebook(c, notebook)
    except Exception as exc:  # noqa: BLE001
        entry.update(outcome="crash", error=f"writing: {type(exc).__name__}: {exc}"[:300])
        return entry
    entry.update(
        outcome="ok", requests=len(c.requests), notebook=str(notebook),
        warnings=len(result.warnings), collection=c, env=sorted(result.env_vars),
    )  # fmt: skip
    return entry


def ruff_findings(notebooks: list[str]) -> dict[str, list[str]]:
    """``ruff check`` on every notebook at once: findings by notebook."""
    if not notebooks:
        return {}
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--line-length",
         "100", "--select", "E,F,I,B,PIE,UP", "--target-version", "py311",
         "--output-format", "json", *notebooks],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found: dict[str, list[str]] = {}
    for item in json.loads(result.stdout or "[]"):
        found.setdefault(item["filename"], []).append(f"{item['code']} {item['message']}")
    return found


def export_checks(entry: dict[str, Any], schema: dict[str, Any], out: Path) -> list[str]:
    """Schema validation and the round trip for one imported collection; the problems."""
    import jsonschema

    c: Collection = entry["collection"]
    problems = []
    try:
        jsonschema.validate(collection_to_postman(c), schema)
    except jsonschema.ValidationError as exc:
        problems.append(f"export is not valid Postman v2.1: {exc.message[:200]}")
    exported = to_postman(Path(entry["notebook"]), out / (Path(entry["notebook"]).stem + ".json"))
    try:
        jsonschema.validate(exported["document"], schema)
    except jsonschema.ValidationError as exc:
        problems.append(f"notebook export is not valid Postman v2.1: {exc.message[:200]}")
    again = load(exported["collection"])
    a, b = signature(c), signature(again, exported=True)
    if len(a) != len(b):
        problems.append(f"round trip: {len(a)} requests became {len(b)}")
    elif not _added_headers(a, b):
        diff = next((x, y) for x, y in zip(a, b, strict=True) if x != y)
        problems.append(f"round trip changed a request: {diff[0]} -> {diff[1]}")
    return problems


# -- execution -------------------------------------------------------------------------


def _retarget(c: Collection, echo: str) -> Collection:
    """Point every request (and token URL) at the echo server."""
    import re

    echo_vars: dict[str, str] = {}
    for _parents, req in c.walk():
        m = re.match(r"^\s*\{\{\s*([^{}]+?)\s*\}\}", req.url)
        if m:
            echo_vars[m.group(1)] = echo
        else:
            req.url = re.sub(r"^[a-zA-Z]+://[^/]+", echo, req.url)
            if not req.url.startswith(echo):
                req.url = echo + "/" + req.url.lstrip("/")
    if c.spec is not None:
        echo_vars["baseUrl"] = echo
    # URLs in variable values and scripts (a pre-request script may set the next URL)
    origin = re.compile(r"https?://[^/\s'\"?#]+")
    folders: list[Folder] = [c]
    while folders:
        folder = folders.pop()
        for var in folder.variables:
            var.value = origin.sub(echo, var.value) if var.value else var.value
        for script in folder.scripts:
            script.source = origin.sub(echo, script.source)
        for item in folder.items:
            if isinstance(item, Folder):
                folders.append(item)
            else:
                for script in item.scripts:
                    script.source = origin.sub(echo, script.source)
                for var in item.variables:
                    var.value = origin.sub(echo, var.value) if var.value else var.value
    for env in c.environments:
        for var in env.variables:
            var.value = origin.sub(echo, var.value) if var.value else var.value
    c.environments.append(Environment("echo", [Variable(k, v) for k, v in echo_vars.items()]))
    c.active = "echo"
    return c


def execute_one(
    entry: dict[str, Any], echo: str, out: Path, kernel: SharedKernel
) -> dict[str, Any]:
    """Run a retargeted copy of the notebook; the cells' error names."""
    c = load(entry["collection"].path)
    nb_path = out / ("run-" + Path(entry["notebook"]).name)
    write_notebook(_retarget(c, echo), nb_path)
    errors = error_names(kernel.run(nb_path))
    bad = [e for e in errors if e not in ALLOWED and not _oauth(e)]
    cells = sum(1 for cell in nbformat_cells(nb_path))
    return {"id": entry["id"], "cells": cells, "errors": errors, "bad": bad}


def nbformat_cells(path: Path) -> list[Any]:
    """The code cells of a notebook file."""
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def _oauth(name: str) -> bool:
    import apinotebook

    cls = getattr(apinotebook, name, None)
    return isinstance(cls, type) and issubclass(cls, apinotebook.OAuth2Error)


def _sample(entries: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Up to ``n`` notebooks, spread over the formats, without interactive OAuth flows."""
    runnable = [
        e for e in entries
        if e["outcome"] == "ok" and e.get("requests") and e["format"] != "postman-environment"
        and "OAuth2AuthorizationCode(" not in Path(e["notebook"]).read_text()
    ]  # fmt: skip
    by: dict[str, list[dict[str, Any]]] = {}
    for e in runnable:
        by.setdefault(e["format"], []).append(e)
    for group in by.values():  # the ones with the most translated script lines and auth first
        group.sort(key=lambda e: -_richness(Path(e["notebook"]).read_text()))
    picked: list[dict[str, Any]] = []
    while len(picked) < n and any(by.values()):
        for fmt in sorted(by):
            if by[fmt] and len(picked) < n:
                picked.append(by[fmt].pop(0))
    return picked


def _richness(text: str) -> int:
    words = ("assert ", "ex.json()[", "Secret.from_env", "Bearer(", "Basic(", "ApiKey(",
             "gql.execute", "attach(", "OAuth2ClientCredentials(")  # fmt: skip
    return sum(text.count(w) for w in words)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--match", default=None, help="only ids containing this text")
    parser.add_argument("--execute", type=int, default=20, help="notebooks to run (sample)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    files = list(corpus_files(archives=load_sources(SOURCES, FORMATS)))
    schema = postman_schema([f for f in files if f.protocol == "schema"])
    files = [f for f in files if f.protocol != "schema"]
    if args.match:
        files = [f for f in files if args.match in f.id]
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="collections-corpus-") as tmp:
        out = Path(tmp)
        phase = time.perf_counter()
        entries = [import_one(f, out) for f in files]
        timings = {"import + write": time.perf_counter() - phase}
        failures += [f"{e['id']}: crash: {e['error']}" for e in entries if e["outcome"] == "crash"]
        notebooks = [e["notebook"] for e in entries if e.get("notebook")]
        phase = time.perf_counter()
        for path, found in ruff_findings(notebooks).items():
            failures.append(f"{Path(path).name}: ruff: {'; '.join(found[:3])}")
        timings["ruff"] = time.perf_counter() - phase
        phase = time.perf_counter()
        exported = 0
        for e in entries:
            if e.get("collection") is not None:
                problems = export_checks(e, schema, out)
                exported += 1
                failures += [f"{e['id']}: {p}" for p in problems]
        timings["export + schema + round trip"] = time.perf_counter() - phase
        phase = time.perf_counter()
        server, echo = echo_server()
        sample = _sample(entries, args.execute)
        # every credential the sample reads, with a dummy value (the echo checks nothing)
        env = {name: "corpus-dummy-credential" for e in sample for name in e["env"]}
        kernel = SharedKernel(out, env) if sample else None
        try:
            runs = [execute_one(e, echo, out, kernel) for e in sample if kernel]
        finally:
            server.shutdown()
            if kernel is not None:
                kernel.close()
        timings["execution"] = time.perf_counter() - phase
        failures += [f"{r['id']}: execution: {', '.join(r['bad'])}" for r in runs if r["bad"]]
        for r in runs:
            print(
                f"    ran {r['id']}: {r['cells']} cells, errors: {', '.join(r['errors']) or 'none'}"
            )
    print_summary(entries, runs, exported, len(notebooks))
    for line in failures:
        print("FAIL", line)
    print("  " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    return 1 if failures else 0


def print_summary(
    entries: list[dict[str, Any]], runs: list[dict[str, Any]], exported: int, notebooks: int
) -> None:
    """One line per format, then totals."""
    by: dict[str, Counter[str]] = {}
    for e in entries:
        by.setdefault(e["format"], Counter())[e["outcome"]] += 1
    print(f"collections corpus: {len(entries)} files")
    for fmt, counts in sorted(by.items()):
        print(f"  {fmt:20} {sum(counts.values()):>4} files: "
              + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))  # fmt: skip
    requests = sum(e.get("requests", 0) for e in entries)
    print(f"  {notebooks} notebooks written ({requests} request cells), ruff-checked; "
          f"{exported} exported as Postman v2.1, schema-validated and round-tripped")  # fmt: skip
    cells = sum(r["cells"] for r in runs)
    checks = sum(len(r["errors"]) - len(r["bad"]) for r in runs)
    print(
        f"  executed {len(runs)} notebooks ({cells} code cells) against a local echo server; "
        f"{checks} translated check(s) or token request(s) failed against the echo, as expected"
    )
    for e in entries:
        if e["outcome"] == "typed":
            print(f"    typed: {e['id']}: {e['error'][:140]}")


if __name__ == "__main__":
    sys.exit(main())
