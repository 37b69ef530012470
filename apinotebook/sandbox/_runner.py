"""Run the sandbox: in a background thread (:class:`Sandbox`) or attach to one.

``with Sandbox() as sb:`` binds a loopback socket, builds every service with
the now-known base URL, and serves them with uvicorn in a daemon thread. The
socket is created with ``IPPROTO_TCP`` so asyncio sets ``TCP_NODELAY`` on each
connection (otherwise Nagle's algorithm adds ~40 ms to small requests).
Leaving the block stops the server and joins the thread: no thread and no
listening port remain.

:func:`get_sandbox` is what course notebooks call first: it attaches to the
sandbox ``apinotebook lab`` started (``SANDBOX_URL`` in the environment) or
starts a private one, and puts the URLs and credentials into ``os.environ``.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import shlex
import socket
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from apinotebook._exceptions import ConfigError, MissingExtraError, SandboxError
from apinotebook.sandbox._app import SandboxApp
from apinotebook.sandbox._context import Mount, SandboxContext, credentials
from apinotebook.sandbox._faults import FaultConfig, FaultState
from apinotebook.sandbox._webhooks import WebhookDispatcher

__all__ = ["SERVICES", "RemoteSandbox", "Sandbox", "get_sandbox"]

#: Every demo service, in the order ``sb.urls`` lists them. Each is a module
#: of this package with ``build(ctx) -> list[Mount]``.
SERVICES: tuple[str, ...] = ("crm", "mail", "fares", "billing", "chat", "calendar", "auth")


#: Services whose module is not named after them.
_MODULES = {"auth": "auth_server"}


def _load_service(name: str) -> Any:
    try:
        return importlib.import_module(f"apinotebook.sandbox.{_MODULES.get(name, name)}")
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("apinotebook"):
            raise MissingExtraError(
                "The sandbox", "sandbox", module=exc.name.partition(".")[0]
            ) from exc
        raise


class _Controls:
    """What a running local and an attached remote sandbox have in common."""

    url: str
    urls: dict[str, Any]
    env: dict[str, str]

    def flat_urls(self) -> dict[str, str]:
        """``sb.urls`` flattened: ``{"crm": ..., "fares.skyhigh": ...}``."""
        out: dict[str, str] = {}
        for name, value in self.urls.items():
            if isinstance(value, Mapping):
                out.update({f"{name}.{k}": v for k, v in value.items()})
            else:
                out[name] = value
        return out

    def env_lines(self) -> list[str]:
        """``export NAME=value`` lines for a shell."""
        return [f"export {k}={shlex.quote(v)}" for k, v in sorted(self.env.items())]

    def approve_device(self, user_code: str, *, approve: bool = True) -> None:
        """Do what the demo user does on their phone: type ``user_code``, log in, decide.

        The device flow's sign-in happens on another device; in a course notebook or a
        test that device is this call: it fills in the sandbox's verification page
        (``/auth/device``) with the demo user's credentials, over HTTP as a browser does.

        Raises:
            SandboxError: the page refused the code (unknown or expired).
        """
        form = {
            "user_code": user_code,
            "username": self.env["AUTH_USERNAME"],
            "password": self.env["AUTH_PASSWORD"],
            "decision": "approve" if approve else "deny",
        }
        page = httpx.post(self.env["AUTH_ISSUER"] + "/device", data=form, timeout=10)
        if page.status_code != 200:
            raise SandboxError(f"The verification page refused the code {user_code!r}.")

    def export_env(self, environ: dict[str, str] | None = None) -> None:
        """Put the URLs and credentials into ``os.environ`` (or ``environ``)."""
        (os.environ if environ is None else environ).update(self.env)


class Sandbox(_Controls):
    """Every demo service on one loopback port, in a background thread.

    Args:
        host: interface to bind; loopback unless you mean otherwise.
        port: TCP port; 0 picks a free one.
        seed: seeds the data, the credentials and the faults.
        contacts: number of CRM contacts (and people behind the other services).
        companies: number of CRM companies.
        faults: ``{"crm": {"error_rate": 0.1}, ...}`` or ``FaultConfig`` values.
        services: a subset of :data:`SERVICES` to serve (default: all).
        options: per-service options, passed to each service's ``build``.
        extra_mounts: more ASGI apps to serve (:class:`Mount`).
        mocks: :class:`apinotebook.mock.Mock` objects (anything with ``mount()``),
            each served at ``/<its name>``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        contacts: int = 1000,
        companies: int = 50,
        faults: Mapping[str, Mapping[str, Any] | FaultConfig] | None = None,
        services: Iterable[str] | None = None,
        options: Mapping[str, Any] | None = None,
        extra_mounts: Iterable[Mount] = (),
        mocks: Iterable[Any] = (),
    ) -> None:
        if contacts < 0 or companies < 1:
            raise ConfigError("contacts must be >= 0 and companies >= 1")
        if not 0 <= port <= 65535:
            raise ConfigError(f"port {port} is outside 0-65535")
        chosen = tuple(services) if services is not None else SERVICES
        for name in chosen:
            if name not in SERVICES:
                raise ConfigError.invalid_choice("service", name, SERVICES)
        self.host = host
        self.port = port
        self.seed = seed
        self.contacts = contacts
        self.companies = companies
        self.services = chosen
        self.options = dict(options or {})
        self.credentials = credentials(seed)
        self._faults = FaultState(seed=seed)
        for name, settings in (faults or {}).items():
            self._faults.update(name, settings)
        self._extra_mounts = list(extra_mounts) + [m.mount() for m in mocks]
        self._app: SandboxApp | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.url = ""
        self.urls = {}
        self.env = {}

    # -- lifecycle --------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Sandbox:
        """Bind, build the services and serve; returns once requests are accepted."""
        if self._thread is not None:
            raise SandboxError(f"this sandbox is already running at {self.url}")
        try:
            import uvicorn
        except ModuleNotFoundError as exc:
            raise MissingExtraError("The sandbox", "sandbox", module="uvicorn") from exc
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise SandboxError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror}. "
                "Pick another --port, or 0 for a free one."
            ) from exc
        port = sock.getsockname()[1]
        host = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        base = f"http://{host}:{port}"
        try:
            app = self._build(base)
        except BaseException:
            sock.close()
            raise
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"apinotebook-sandbox-{port}",
            daemon=True,
        )
        self._socket, self._server, self._thread, self._app = sock, server, thread, app
        self.port, self.url = port, base
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._cleanup()
                raise SandboxError(f"the sandbox did not start on {base} within {timeout}s")
            time.sleep(0.005)
        return self

    def _build(self, base: str) -> SandboxApp:
        webhooks = WebhookDispatcher()
        ctx = SandboxContext(
            base_url=base,
            seed=self.seed,
            contacts=self.contacts,
            companies=self.companies,
            credentials=self.credentials,
            webhooks=webhooks,
            options=self.options,
        )
        mounts: list[Mount] = []
        for name in self.services:
            mounts.extend(_load_service(name).build(ctx))
        mounts.extend(self._extra_mounts)
        app = SandboxApp(mounts, faults=self._faults, webhooks=webhooks, base_url=base)
        self.urls = app.urls = _absolute(base, _merge(m.urls for m in mounts))
        env = {"SANDBOX_URL": base}
        for m in mounts:
            env.update({k: base + v for k, v in m.env.items()})
        env.update(self.credentials)
        self.env = env
        return app

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the thread. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = self._server = self._thread = None

    def wait(self) -> None:
        """Block until the server stops (Ctrl+C raises ``KeyboardInterrupt``)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<Sandbox {where} seed={self.seed} contacts={self.contacts}>"

    # -- controls ---------------------------------------------------------------

    @property
    def app(self) -> SandboxApp:
        """The ASGI app (after :meth:`start`)."""
        if self._app is None:
            raise SandboxError("the sandbox is not running: call start() or use 'with'")
        return self._app

    def state(self, service: str) -> Any:
        """The in-memory data of ``service`` (for tests and teaching)."""
        return self.app.mount(service).state

    def stats(self) -> dict[str, dict[str, int]]:
        """Request counts: ``{service: {status: n, ..., "total": n}}``."""
        return self.app.stats()

    def reset_stats(self) -> None:
        """Forget all request counts."""
        self.app.reset_stats()

    @property
    def faults(self) -> dict[str, Any]:
        """The fault settings per service."""
        return self._faults.to_dict()

    def set_faults(self, service: str | None = None, /, **settings: Any) -> None:
        """Merge fault settings: ``sb.set_faults("crm", error_rate=0.1)``.

        ``sb.set_faults()`` with no arguments clears every fault;
        ``sb.set_faults("crm")`` clears the CRM's.
        """
        if service is None:
            if settings:
                raise ConfigError("name the service: sb.set_faults('crm', error_rate=0.1)")
            for name in list(self._faults.configs):
                self._faults.update(name, None)
            return
        self._faults.update(service, settings or None)


class RemoteSandbox(_Controls):
    """Controls for a sandbox running in another process (``apinotebook lab``)."""

    def __init__(self, url: str, *, env: Mapping[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        index = self._call("GET", "/")
        if not isinstance(index, dict) or "urls" not in index:
            raise SandboxError(f"{self.url} does not look like an apinotebook sandbox")
        self.urls = index["urls"]
        source = os.environ if env is None else env
        self.env = {k: v for k, v in source.items() if k == "SANDBOX_URL" or _is_sandbox_var(k)}

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 (loopback)
                return json.loads(resp.read() or b"null")
        except OSError as exc:
            raise SandboxError(f"cannot reach the sandbox at {self.url}: {exc}") from exc

    def stats(self) -> dict[str, dict[str, int]]:
        """Request counts per service and status."""
        result: dict[str, dict[str, int]] = self._call("GET", "/_admin/stats")
        return result

    def reset_stats(self) -> None:
        """Forget all request counts."""
        self._call("DELETE", "/_admin/stats")

    @property
    def faults(self) -> dict[str, Any]:
        """The fault settings per service."""
        result: dict[str, Any] = self._call("GET", "/_admin/faults")
        return result

    def set_faults(self, service: str | None = None, /, **settings: Any) -> None:
        """Same as :meth:`Sandbox.set_faults`, over HTTP."""
        if service is None:
            self._call("DELETE", "/_admin/faults")
        else:
            self._call("PUT", "/_admin/faults", {service: settings or None})

    def __repr__(self) -> str:
        return f"<RemoteSandbox {self.url}>"


def _is_sandbox_var(name: str) -> bool:
    prefixes = ("CRM_", "MAIL_", "BILLING_", "FARES_", "CHAT_", "CALENDAR_", "AUTH_")
    return name.startswith(prefixes)


_PRIVATE: Sandbox | None = None


def get_sandbox(**kwargs: Any) -> Sandbox | RemoteSandbox:
    """Attach to the sandbox named by ``SANDBOX_URL``, or start a private one.

    A private sandbox lives until the kernel exits. Either way the URLs and
    credentials end up in ``os.environ``, so ``Secret.from_env("CRM_TOKEN")``
    works in the next cell.
    """
    global _PRIVATE
    url = os.environ.get("SANDBOX_URL")
    if url and not kwargs:
        try:
            return RemoteSandbox(url)
        except SandboxError:
            pass  # a stale variable from an earlier session: start our own
    if _PRIVATE is not None and _PRIVATE.running and not kwargs:
        return _PRIVATE
    sb = Sandbox(**kwargs).start()
    sb.export_env()
    atexit.register(sb.stop)
    if not kwargs:
        _PRIVATE = sb
    return sb


def _merge(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key].update(value)
            else:
                out[key] = value
    return out


def _absolute(base: str, urls: dict[str, Any]) -> dict[str, Any]:
    return {k: _absolute(base, v) if isinstance(v, dict) else base + v for k, v in urls.items()}
