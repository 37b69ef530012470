"""The user-delegated OAuth 2.0 flows: authorization code with PKCE, and device code.

Both are :class:`~apinotebook.auth._oauth.OAuth2Flow` objects (``httpx.Auth``):
build one, call :meth:`authorize` once (or let the first API call do it), and
pass it as ``auth=`` to any client. See ``docs/auth.md``.
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from apinotebook._core.secrets import Secret, register_secret
from apinotebook._exceptions import (
    ApiNotebookError,
    ConfigError,
    ExpiredTokenError,
    InvalidRequestError,
    LoginRequired,
    OAuth2Error,
)
from apinotebook.auth._loopback import LoopbackReceiver, in_kernel, show_prompt
from apinotebook.auth._oauth import OAuth2Flow
from apinotebook.auth._tokens import TokenSet

__all__ = ["DeviceAuthorization", "OAuth2AuthorizationCode", "OAuth2DeviceCode"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class _Pending:
    state: str
    verifier: Secret
    nonce: str | None
    redirect_uri: str
    url: str
    receiver: LoopbackReceiver | None


class OAuth2AuthorizationCode(OAuth2Flow):
    """Authorization code grant with PKCE (RFC 6749 section 4.1, RFC 7636, RFC 8252).

    ``authorize()`` starts a redirect receiver on ``127.0.0.1`` and an
    ephemeral port, shows the sign-in link (a button too in JupyterLab),
    waits for the browser to come back, checks ``state``, and exchanges the
    code with its PKCE verifier. Without a browser on the kernel's machine,
    ``authorize(wait=False)`` shows the link and returns; paste the address the
    browser ended on into :meth:`complete`.

    Args:
        authorization_url: the authorization endpoint.
        token_url: the token endpoint.
        client_id: the client identifier.
        client_secret: for a confidential client; ``None`` for a public one.
        scope: scopes to ask for (``"openid profile offline_access"``).
        extra_params: more authorization parameters (``audience``, ``prompt``,
            ``access_type="offline"``).
        redirect_uri: a fixed redirect URI; by default
            ``http://127.0.0.1:<ephemeral port>/callback``.
        redirect_port: a fixed port for the receiver (0: any free one).
        redirect_path: the receiver's path.
        open_browser: open the sign-in page with :mod:`webbrowser` (default:
            only outside Jupyter, where there is no link to click).
        interactive: whether an API call without tokens starts ``authorize()``
            (else it raises :class:`~apinotebook.LoginRequired`).
        wait_timeout: seconds ``authorize()`` waits for the redirect.
        **kwargs: see :class:`~apinotebook.auth._oauth.OAuth2Flow` (``name``,
            ``store``, ``leeway``, ``auth_method``, ``revocation_url``, ...).
    """

    def __init__(
        self,
        *,
        authorization_url: str,
        token_url: str,
        client_id: str,
        client_secret: str | Secret | None = None,
        scope: str | Sequence[str] | None = None,
        extra_params: Mapping[str, str] | None = None,
        redirect_uri: str | None = None,
        redirect_port: int = 0,
        redirect_path: str = "/callback",
        open_browser: bool | None = None,
        interactive: bool = True,
        wait_timeout: float = 300.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            **kwargs,
        )
        self.authorization_url = authorization_url
        self.extra_params = dict(extra_params or {})
        self.redirect_uri = redirect_uri
        self.redirect_port = redirect_port
        self.redirect_path = redirect_path
        self.open_browser = open_browser
        self.interactive = interactive
        self.wait_timeout = wait_timeout
        self._pending: _Pending | None = None
        self._pending_lock = threading.Lock()
        self._done = threading.Event()
        self._failure: ApiNotebookError | None = None

    @classmethod
    def _discovered(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**super()._discovered(doc), "authorization_url": doc["authorization_endpoint"]}

    # -- the steps ----------------------------------------------------------------------

    def start(self) -> str:
        """Begin an authorization: fresh ``state``, PKCE verifier and receiver; the URL to open."""
        from authlib.common.security import generate_token
        from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        self.cancel()
        receiver = None
        redirect_uri = self.redirect_uri
        if redirect_uri is None:
            receiver = LoopbackReceiver(
                self._on_redirect, port=self.redirect_port, path=self.redirect_path
            )
            redirect_uri = receiver.redirect_uri
        verifier = Secret(generate_token(64))
        state = generate_token(32)
        scopes = (self.scope or "").split()
        nonce = generate_token(24) if "openid" in scopes else None
        url = prepare_grant_uri(
            self.authorization_url,
            self.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=self.scope,
            state=state,
            code_challenge=create_s256_code_challenge(verifier.reveal()),
            code_challenge_method="S256",
            nonce=nonce,
            **self.extra_params,
        )
        with self._pending_lock:
            self._pending = _Pending(state, verifier, nonce, redirect_uri, url, receiver)
            self._done.clear()
            self._failure = None
        return str(url)

    def complete(self, redirected_url: str) -> TokenSet:
        """Finish with the address the browser was redirected to (``...?code=&state=``).

        Raises:
            AccessDeniedError: the user declined (``error=access_denied``).
            InvalidRequestError: ``state`` does not match (a forged or stale
                redirect), or no authorization is in progress.
            OAuth2Error: any other error the server sent back, or one from the
                code exchange (``invalid_grant`` for a used or expired code).
        """
        params = dict(parse_qsl(urlsplit(redirected_url).query, keep_blank_values=True))
        with self._pending_lock:
            pending = self._pending
            if pending is None:
                raise InvalidRequestError(
                    "No authorization is in progress: call start() or authorize() first.",
                    error="invalid_request",
                )
            if params.get("state") != pending.state:
                raise InvalidRequestError(
                    "The redirect's state does not match this authorization: it is stale or "
                    "forged. Start again with authorize().",
                    error="invalid_request",
                    description="state mismatch",
                )
            self._pending = None  # one redirect per authorization
        try:
            if pending.receiver is not None:
                pending.receiver.close()
            if "error" in params:
                raise OAuth2Error.from_code(
                    params["error"],
                    params.get("error_description"),
                    where="The authorization server",
                )
            issuer = params.get("iss")
            if issuer and self.issuer and issuer.rstrip("/") != self.issuer.rstrip("/"):
                raise InvalidRequestError(
                    f"The redirect came from issuer {issuer!r}, not {self.issuer!r} (RFC 9207).",
                    error="invalid_request",
                )
            code = params.get("code")
            if not code:
                raise InvalidRequestError("The redirect has no code.", error="invalid_request")
            register_secret(code)
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.verifier.reveal(),
            }
            tokens = self._accept(self._token_request(form), nonce=pending.nonce)
        except ApiNotebookError as exc:
            self._failure = exc
            raise
        finally:
            self._done.set()
        return tokens

    def wait(self, timeout: float | None = None) -> TokenSet:
        """Wait for the redirect to arrive and the code to be exchanged."""
        limit = self.wait_timeout if timeout is None else timeout
        if not self._done.wait(limit):
            raise LoginRequired(
                f"No redirect arrived within {limit:g} s. If the browser runs on another "
                "machine, paste the address it ended on: flow.complete(url).",
                error="login_required",
            )
        if self._failure is not None:
            raise self._failure
        tokens = self.tokens
        if tokens is None:
            raise LoginRequired("The authorization did not produce tokens.")
        return tokens

    def authorize(
        self, *, wait: bool = True, open_browser: bool | None = None, timeout: float | None = None
    ) -> TokenSet | None:
        """Show the sign-in link, then (by default) wait for the redirect and get tokens."""
        url = self.start()
        show_prompt(url, title="Sign in")
        should_open = self.open_browser if open_browser is None else open_browser
        if should_open or (should_open is None and not in_kernel()):
            webbrowser.open(url)
        return self.wait(timeout) if wait else None

    def cancel(self) -> None:
        """Abandon an authorization in progress (stops its receiver)."""
        with self._pending_lock:
            pending, self._pending = self._pending, None
        if pending is not None and pending.receiver is not None:
            pending.receiver.close()

    def _on_redirect(self, url: str) -> tuple[bool, str, bool]:
        try:
            self.complete(url)
        except ApiNotebookError as exc:
            # a wrong state leaves the authorization pending: keep waiting for the real one
            return False, str(exc), self._done.is_set()
        return True, "You are signed in. You can close this tab and go back to the notebook.", True

    def _obtain(self) -> TokenSet:
        if not self.interactive:
            return super()._obtain()
        with self._pending_lock:
            pending = self._pending is not None
        if not pending:  # else authorize(wait=False) ran: wait for that one
            self.authorize(wait=False)
        return self.wait()


@dataclass(frozen=True)
class DeviceAuthorization:
    """What the device authorization endpoint answered (RFC 8628 section 3.2)."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_at: float
    interval: float
    device_code: Secret


class OAuth2DeviceCode(OAuth2Flow):
    """Device authorization grant (RFC 8628): for remote kernels and headless scripts.

    ``authorize()`` asks for a device code, shows the verification URL and the
    user code, and polls the token endpoint every ``interval`` seconds (more
    after each ``slow_down``) until the user approves.

    Args:
        device_authorization_url: the device authorization endpoint.
        token_url: the token endpoint.
        client_id: the client identifier.
        client_secret: for a confidential client; ``None`` for a public one.
        scope: scopes to ask for.
        extra_params: more device authorization parameters (``audience``).
        interactive: whether an API call without tokens starts ``authorize()``.
        **kwargs: see :class:`~apinotebook.auth._oauth.OAuth2Flow`.

    Raises (from :meth:`authorize` and :meth:`poll`):
        ExpiredTokenError: the code expired before the user approved.
        AccessDeniedError: the user denied.
    """

    #: seconds added to the interval on ``slow_down`` (RFC 8628 section 3.5 says 5)
    slow_down_step = 5.0

    def __init__(
        self,
        *,
        device_authorization_url: str,
        token_url: str,
        client_id: str,
        client_secret: str | Secret | None = None,
        scope: str | Sequence[str] | None = None,
        extra_params: Mapping[str, str] | None = None,
        interactive: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            **kwargs,
        )
        self.device_authorization_url = device_authorization_url
        self.extra_params = dict(extra_params or {})
        self.interactive = interactive
        self.pending: DeviceAuthorization | None = None
        self._stop = threading.Event()
        #: ``slow_down`` answers seen by the last :meth:`poll`
        self.slow_downs = 0

    @classmethod
    def _discovered(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        url = doc.get("device_authorization_endpoint")
        if not url:
            raise ConfigError(f"{doc.get('issuer')} publishes no device_authorization_endpoint")
        return {**super()._discovered(doc), "device_authorization_url": url}

    def start(self) -> DeviceAuthorization:
        """Ask for a device code and a user code."""
        form = {**self.extra_params}
        if self.scope:
            form["scope"] = self.scope
        answer = self._post(self.device_authorization_url, form)
        try:
            pending = DeviceAuthorization(
                user_code=str(answer["user_code"]),
                verification_uri=str(answer.get("verification_uri") or answer["verification_url"]),
                verification_uri_complete=answer.get("verification_uri_complete"),
                expires_at=time.monotonic() + float(answer.get("expires_in", 600)),
                interval=float(answer.get("interval", 5)),
                device_code=Secret(str(answer["device_code"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRequestError(
                f"The device authorization response lacks {exc}", error="invalid_request"
            ) from exc
        self.pending = pending
        self._stop.clear()
        return pending

    def poll(self, pending: DeviceAuthorization | None = None) -> TokenSet:
        """Poll until the user decides, honouring ``interval`` and ``slow_down``."""
        pending = pending or self.pending
        if pending is None:
            raise InvalidRequestError("Call start() before poll().", error="invalid_request")
        interval = pending.interval
        self.slow_downs = 0
        form = {"grant_type": DEVICE_GRANT, "device_code": pending.device_code.reveal()}
        while True:
            if time.monotonic() > pending.expires_at:
                raise ExpiredTokenError(
                    "The device code expired before it was approved; authorize() again.",
                    error="expired_token",
                )
            if self._stop.wait(interval):
                raise LoginRequired("The device authorization was cancelled.")
            try:
                payload = self._token_request(form)
            except OAuth2Error as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    self.slow_downs += 1
                    interval += self.slow_down_step
                    continue
                raise
            self.pending = None
            return self._accept(payload)

    def cancel(self) -> None:
        """Stop a :meth:`poll` running in another thread."""
        self._stop.set()

    def authorize(self) -> TokenSet:
        """Show the verification URL and user code, then poll until the user decides."""
        pending = self.start()
        show_prompt(
            pending.verification_uri_complete or pending.verification_uri,
            title="Connect this device",
            user_code=pending.user_code,
        )
        return self.poll(pending)

    def _obtain(self) -> TokenSet:
        if not self.interactive:
            return super()._obtain()
        return self.authorize()
