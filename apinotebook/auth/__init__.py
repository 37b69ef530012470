"""Authentication for every client: httpx auth flows plus WS-Security for SOAP.

``Bearer``, ``Basic``, ``ApiKey`` and ``OAuth2ClientCredentials`` are
``httpx.Auth`` flows, and so are the user-delegated OAuth 2.0 flows
``OAuth2AuthorizationCode`` (PKCE, loopback redirect) and ``OAuth2DeviceCode``
(RFC 8628), implemented in :mod:`apinotebook.auth._flows` with their token
stores (``TokenSet``, ``MemoryTokenStore``, ``FileTokenStore``,
``KeyringTokenStore``); see ``docs/auth.md``. They all work with the REST,
GraphQL and SOAP clients alike (and with a plain ``httpx.Client``).
``WsseUsernameToken`` adds a WS-Security header to SOAP envelopes through
zeep's own implementation.

Every credential is held as a :class:`Secret`: reprs are masked and the
values are masked in every rendering the package produces.

The clients never send credentials to another origin: a redirect to a
different scheme, host or port is followed without the auth flow and without
sensitive headers.
"""

from apinotebook._core.secrets import Secret
from apinotebook.auth._flows import DeviceAuthorization, OAuth2AuthorizationCode, OAuth2DeviceCode
from apinotebook.auth._simple import (
    ApiKey,
    Basic,
    Bearer,
    OAuth2ClientCredentials,
    WsseUsernameToken,
)
from apinotebook.auth._tokens import (
    FileTokenStore,
    KeyringTokenStore,
    MemoryTokenStore,
    TokenSet,
    TokenStore,
)

__all__ = [
    "ApiKey",
    "Basic",
    "Bearer",
    "DeviceAuthorization",
    "FileTokenStore",
    "KeyringTokenStore",
    "MemoryTokenStore",
    "OAuth2AuthorizationCode",
    "OAuth2ClientCredentials",
    "OAuth2DeviceCode",
    "Secret",
    "TokenSet",
    "TokenStore",
    "WsseUsernameToken",
]
