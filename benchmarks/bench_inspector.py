"""The Inspector on big JSON bodies beside IPython.display.JSON: build time and bytes synced.

For 1 MB, 10 MB and 100 MB JSON responses (a list of contact records), it
measures in the kernel:

- **Inspector**: the time to build ``Inspector(exchange)`` from a fresh
  exchange (parsing the body included), and the bytes the front end receives
  for the first view: the widget state anywidget sends (``get_state()`` as
  JSON, the widget's own JS and CSS included) plus the reply to the first
  expand (the first 100 children of the records list);
- **IPython.display.JSON**: the time to parse the body, build ``JSON(data)``
  and serialise its ``application/json`` payload, and that payload's size
  (the whole document, which the front end must receive and render).

It also times one kernel-side search that has to walk the whole document.

Run ``python benchmarks/bench_inspector.py``; :func:`run` returns the numbers.
``BENCH_QUICK=1`` measures the 1 MB body only.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

MB = 1_000_000


def body(size: int) -> bytes:
    """A JSON document of about ``size`` bytes: ``{"items": [...records...], "meta": ...}``."""
    record = {
        "id": 0,
        "email": "user0@example.com",
        "name": {"first": "Ada", "last": "Lovelace"},
        "company": "Analytical Engines Ltd",
        "tags": ["vip", "beta"],
        "score": 0.5,
        "active": True,
    }
    one = len(json.dumps(record)) + 12
    count = max(1, size // one)
    items = [
        dict(record, id=i, email=f"user{i}@example.com", score=(i % 100) / 100)
        for i in range(count)
    ]
    return json.dumps({"items": items, "meta": {"count": count}}).encode()


def _exchange(content: bytes) -> Any:
    from apinotebook import Exchange, Request

    return Exchange(
        protocol="rest",
        request=Request("GET", "https://api.example/contacts"),
        status=200,
        headers={"content-type": "application/json"},
        content=content,
    )


def _median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if _ < repeat - 1:
            del result
            result = None
    return statistics.median(times), result


def measure(size: int, *, repeat: int) -> dict[str, Any]:
    """Both sides for one body size."""
    from IPython.display import JSON

    from apinotebook.widgets import Inspector

    content = body(size)

    def ours() -> Any:
        return Inspector(_exchange(content))

    build, widget = _median_time(ours, repeat)
    state = len(json.dumps(widget.get_state(), default=str).encode())
    expand = widget.handle_message(
        {"type": "children", "id": 1, "view": "json", "path": ["items"], "offset": 0, "limit": 100}
    )
    expand_bytes = len(json.dumps(expand).encode())
    t0 = time.perf_counter()
    found = widget.handle_message(
        {"type": "search", "id": 2, "view": "json", "query": "no-such-text", "limit": 200}
    )
    search = time.perf_counter() - t0
    bundle, _ = widget._repr_mimebundle_()
    html = len(bundle["text/html"].encode())
    widget.close()
    del widget

    def theirs() -> int:
        data = json.loads(content)
        payload = JSON(data)._repr_json_()
        return len(json.dumps(payload[0] if isinstance(payload, tuple) else payload).encode())

    raw_build, raw_bytes = _median_time(theirs, repeat)
    return {
        "body_bytes": len(content),
        "inspector_build_s": round(build, 3),
        "inspector_state_bytes": state,
        "inspector_first_expand_bytes": expand_bytes,
        "inspector_synced_bytes": state + expand_bytes,
        "inspector_html_fallback_bytes": html,
        "inspector_full_search_s": round(search, 3),
        "search_complete": bool(found and found.get("complete")),
        "ipython_json_build_s": round(raw_build, 3),
        "ipython_json_payload_bytes": raw_bytes,
        "bytes_ratio": round(raw_bytes / (state + expand_bytes), 1),
    }


def run() -> dict[str, Any]:
    """Measure 1, 10 and 100 MB bodies (1 MB only with ``BENCH_QUICK=1``)."""
    quick = os.environ.get("BENCH_QUICK") == "1"
    sizes = [1 * MB] if quick else [1 * MB, 10 * MB, 100 * MB]
    results: dict[str, Any] = {}
    for size in sizes:
        repeat = 1 if quick or size >= 100 * MB else 3
        results[f"{size // MB}MB"] = measure(size, repeat=repeat)
    return results


def markdown(results: dict[str, Any]) -> str:
    """A table for docs/benchmarks.md."""
    lines = [
        "Synced bytes = widget state (JS and CSS included) + the first expand reply. "
        "IPython.display.JSON sends the whole document.",
        "",
        "| body | Inspector build | Inspector synced | IPython JSON build | IPython JSON payload "
        "| bytes ratio | full search |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in results.items():
        if name.startswith("_"):
            continue
        lines.append(
            f"| {name} | {row['inspector_build_s']} s | {row['inspector_synced_bytes']:,} B | "
            f"{row['ipython_json_build_s']} s | {row['ipython_json_payload_bytes']:,} B | "
            f"{row['bytes_ratio']}x | {row['inspector_full_search_s']} s |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
