"""A REST client built from a ``curl`` command: ``RestClient.from_curl("curl ...")``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import httpx

from apinotebook._core.secrets import Secret, is_sensitive_name, mask_url
from apinotebook._exchange import Exchange
from apinotebook.auth import ApiKey, Basic, Bearer
from apinotebook.curl import DEFAULT_MAX_FILE_SIZE, CurlCommand, parse_curl
from apinotebook.rest._client import RestClient

__all__ = ["CurlClient", "client_from_curl"]


def _auth_from(command: CurlCommand) -> tuple[httpx.Auth | None, str | None]:
    """The auth object for the command, and the header it replaces."""
    value = command.header("authorization")
    if value is not None:
        scheme, _, credential = value.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and credential:
            return Bearer(Secret(credential)), "authorization"
        if scheme.lower() == "token" and credential:
            return Bearer(Secret(credential), scheme=scheme), "authorization"
        if scheme.lower() == "basic" and credential:
            try:
                user, colon, password = base64.b64decode(credential).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            if colon and password:
                return Basic(user, Secret(password)), "authorization"
        return None, None
    if command.user is not None:
        if command.password is None:  # "-u sk_test_...:": the user name is the key (Stripe)
            return httpx.BasicAuth(command.user, ""), None
        return Basic(command.user, command.password), None
    keys = [k for k, _ in command.headers if is_sensitive_name(k) and k.lower() != "cookie"]
    if len(keys) == 1:
        return ApiKey(Secret(command.header(keys[0]) or "-"), header=keys[0]), keys[0].lower()
    return None, None


_PER_REQUEST = frozenset({"content-type", "content-length", "host", "accept-encoding"})


class CurlClient(RestClient, variant="curl"):
    """A :class:`~apinotebook.RestClient` built from a curl command; ``.replay()`` resends it.

    The base URL is the command's origin; its headers become the client's
    default headers and its credentials the client's auth (``-u`` is
    :class:`~apinotebook.Basic`, ``Authorization: Bearer x`` is
    :class:`~apinotebook.Bearer`, a lone ``X-API-Key``-style header is
    :class:`~apinotebook.ApiKey`), so they are masked everywhere.
    """

    def __init__(self, command: CurlCommand, **kwargs: Any) -> None:
        auth, replaced = _auth_from(command)
        headers: dict[str, str] = {}
        for name, value in command.headers:
            if name.lower() in _PER_REQUEST or name.lower() == replaced:
                continue
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        settings: dict[str, Any] = {"auth": auth, "verify": command.verify}
        if command.timeout is not None:
            settings["timeout"] = command.timeout
        settings.update(kwargs)
        settings["headers"] = {**headers, **dict(kwargs.get("headers") or {})}
        super().__init__(command.origin, **settings)
        self.command = command

    def _replay_args(self) -> dict[str, Any]:
        ctype = self.command.header("content-type")
        args: dict[str, Any] = {"headers": {"Content-Type": ctype} if ctype else None}
        if self.command.body:
            args["content"] = self.command.body
        return args

    def replay(self) -> Exchange:
        """Send the captured request again; return its exchange."""
        return self.request(self.command.method, self.command.url, **self._replay_args())

    async def areplay(self) -> Exchange:
        """Async :meth:`replay`."""
        return await self.arequest(self.command.method, self.command.url, **self._replay_args())

    @classmethod
    def from_command(
        cls,
        command: str | CurlCommand,
        *,
        env: Mapping[str, str] | None = None,
        max_file_size: int | None = DEFAULT_MAX_FILE_SIZE,
        **kwargs: Any,
    ) -> CurlClient:
        """The client for a curl command line (what ``RestClient.from_curl`` returns).

        ``max_file_size`` bounds the files ``-d @file`` and the like read (bytes,
        default 10 MB, ``None`` for no limit).
        """
        if isinstance(command, CurlCommand):
            return cls(command, **kwargs)
        return cls(parse_curl(command, env=env, max_file_size=max_file_size), **kwargs)

    def __repr__(self) -> str:
        return f"<CurlClient {self.command.method} {mask_url(self.command.url)}>"


def client_from_curl(
    command: str | CurlCommand, *, env: Mapping[str, str] | None = None, **client_kwargs: Any
) -> CurlClient:
    """A client for the command's API (what ``RestClient.from_curl`` returns).

    ``client_kwargs`` go to :class:`~apinotebook.RestClient` and win over
    what the command says (``transport=``, ``retry=``, ``headers=`` merged).
    ``-k`` turns TLS verification off for the client: do that only for a
    server you trust on a network you trust.
    """
    return CurlClient.from_command(command, env=env, **client_kwargs)
