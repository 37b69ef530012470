"""Run in a subprocess: serve a gzip bomb on loopback, fetch it, print the peak RSS growth.

Usage: python bomb_worker.py rest|openapi LIMIT_BYTES INFLATED_BYTES
"""

from __future__ import annotations

import resource
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def bomb(inflated: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(inflated >> 20)]
    return b"".join(parts) + packer.flush()


def main() -> None:
    kind, limit, inflated = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    body = bomb(inflated)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/spec.json"

    from apinotebook import ApiNotebookError, RestClient

    RestClient("http://127.0.0.1:9")  # imports done before measuring
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    outcome = "accepted"
    try:
        if kind == "rest":
            RestClient(url, max_response_size=limit, history=None).get("")
        else:
            RestClient.from_openapi(url, max_response_size=limit)
    except ApiNotebookError as exc:
        outcome = type(exc).__name__
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    server.shutdown()
    print(outcome, after - before, len(body))


if __name__ == "__main__":
    main()
