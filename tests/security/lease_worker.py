"""One run of a 300-record integration, as an exported script would do it.

``python lease_worker.py STATE DELIVERIES GO [--slow SECONDS] [--wait SECONDS]``:
touches ``GO.ready.<pid>``, waits until the file ``GO`` exists (so two
workers start at once), then runs through
:func:`apinotebook.export.runtime.main` and exits with its code. Every
delivered key is appended to ``DELIVERIES`` with this process's id; with
``--slow`` each batch takes that long (and ``DELIVERIES.started`` appears
once the first batch is being written).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from apinotebook.export.runtime import main
from apinotebook.integration import Integration


def run(argv: list[str]) -> int:
    state, deliveries, go = argv[:3]
    slow = float(argv[argv.index("--slow") + 1]) if "--slow" in argv else 0.02
    extra = ["--wait", argv[argv.index("--wait") + 1]] if "--wait" in argv else []
    sync = Integration("lease-test", state=state, progress=None, read_ahead=0)

    @sync.source(key="id")
    def records(since: object) -> object:
        return iter([{"id": f"r{i:03d}"} for i in range(300)])

    @sync.destination(batch_size=25)
    def deliver(batch: list[dict[str, str]]) -> None:
        started = Path(deliveries + ".started")
        if not started.exists():
            started.write_text(str(os.getpid()))
        time.sleep(slow)
        with open(deliveries, "a", encoding="utf-8") as out:
            out.write("".join(f"{os.getpid()} {r['id']}\n" for r in batch))

    Path(f"{go}.ready.{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    return main(sync, argv=["run", *extra])


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
