"""The notebook side of user sign-in: a loopback redirect receiver and a prompt.

:class:`LoopbackReceiver` is the redirect URI of a native app (RFC 8252
section 7.3): a tiny HTTP server on ``127.0.0.1`` and an ephemeral port that
waits for the browser to come back with ``?code=...&state=...``, hands the URL
to a callback and answers the browser with a short page. It serves only its
own path, only ``GET``, and stops once a redirect has been handled.

:func:`show_prompt` tells the user where to go: an HTML link (and, when
ipywidgets is installed, a button that opens it) in a Jupyter kernel, plain
text elsewhere. Jupyter is imported only here and only when a kernel runs.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from apinotebook._core.views import in_kernel

__all__ = ["LoopbackReceiver", "in_kernel", "show_prompt"]

#: ``on_redirect(url)`` returns ``(ok, message, done)``: the browser's page, and whether
#: this was the redirect (a stray or forged request leaves the receiver listening).
OnRedirect = Callable[[str], tuple[bool, str, bool]]


class LoopbackReceiver:
    """Receive one OAuth redirect on ``http://127.0.0.1:<port><path>``."""

    def __init__(
        self, on_redirect: OnRedirect, *, host: str = "127.0.0.1", port: int = 0, path: str = "/"
    ) -> None:
        self.path = path if path.startswith("/") else "/" + path
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if urlsplit(self.path).path != receiver.path:
                    self._answer(404, "Not found", "This address only receives sign-in redirects.")
                    return
                ok, message, done = on_redirect(receiver.base + self.path)
                self._answer(200 if ok else 400, "Signed in" if ok else "Sign-in failed", message)
                if done:
                    receiver._finished.set()

            def _answer(self, status: int, title: str, text: str) -> None:
                body = (
                    f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>"
                    f"<h1>{escape(title)}</h1><p>{escape(text)}</p>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the URL carries the code."""

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._finished = threading.Event()
        bound_host, bound_port = self._server.server_address[:2]
        host_text = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
        if ":" in host_text:
            host_text = f"[{host_text}]"
        self.base = f"http://{host_text}:{bound_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"apinotebook-oauth-redirect-{bound_port}",
            daemon=True,
        )
        self._thread.start()
        self._watch = threading.Thread(target=self._stop_when_done, daemon=True)
        self._watch.start()

    @property
    def redirect_uri(self) -> str:
        """The URI to register and send in the authorization request."""
        return self.base + self.path

    def _stop_when_done(self) -> None:
        self._finished.wait()
        self.close()

    def close(self) -> None:
        """Stop listening (idempotent)."""
        self._finished.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._server.shutdown()
        self._server.server_close()


def show_prompt(
    url: str, *, title: str, user_code: str | None = None, output: Callable[[str], None] = print
) -> None:
    """Tell the user to open ``url`` (and type ``user_code``): link and button, or text."""
    if in_kernel():
        from IPython.display import HTML, display

        code = (
            f" and enter the code <code style='font-size:1.2em'>{escape(user_code)}</code>"
            if user_code
            else ""
        )
        link = f"<a href='{escape(url)}' target='_blank' rel='noopener'>{escape(url)}</a>"
        text = f"<p><strong>{escape(title)}</strong>: open {link}{code}.</p>"
        display(HTML(text))  # type: ignore[no-untyped-call]
        try:
            import ipywidgets
        except ModuleNotFoundError:
            return
        button = ipywidgets.Button(description="Open sign-in page", icon="external-link")
        button.on_click(lambda _: webbrowser.open(url))
        display(button)  # type: ignore[no-untyped-call]
        return
    code = f" and enter the code {user_code}" if user_code else ""
    output(f"{title}: open {url}{code}")
