"""apinotebook: explore APIs in Jupyter and prototype integrations you can ship.

The names below are the whole public API of the top-level package; the list
is pinned by ``tests/test_public_api.py``. Importing the package does no I/O
and never imports Jupyter, so exported scripts run on a bare server.
"""

from typing import Any

from apinotebook.__about__ import __version__
from apinotebook._exceptions import (
    AccessDeniedError,
    ApiNotebookError,
    ConfigError,
    ConnectError,
    DecodeError,
    DeliveryError,
    ExpiredTokenError,
    ExportError,
    FatalIntegrationError,
    GraphQLError,
    HTTPStatusError,
    IntegrationError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    LiteralSecretError,
    LoginRequired,
    MissingExtraError,
    MissingSecretError,
    OAuth2Error,
    ProtocolError,
    QueryValidationError,
    RefreshTokenRevoked,
    RequestTimeout,
    ResponseError,
    ResponseTooLarge,
    SandboxError,
    SchemaError,
    SoapFault,
    SpecError,
    TransportError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from apinotebook._exchange import Attempt, Exchange, Request
from apinotebook._history import History, history
from apinotebook._inspect import inspect
from apinotebook._secrets import Secret
from apinotebook.auth import (
    ApiKey,
    Basic,
    Bearer,
    OAuth2AuthorizationCode,
    OAuth2ClientCredentials,
    OAuth2DeviceCode,
    WsseUsernameToken,
)
from apinotebook.graphql import GraphQLClient
from apinotebook.rest import RestClient
from apinotebook.retry import Retry
from apinotebook.soap import SoapClient

__all__ = [
    "ApiKey",
    "ApiNotebookError",
    "Attempt",
    "Basic",
    "Bearer",
    "ConfigError",
    "ConnectError",
    "DecodeError",
    "DeliveryError",
    "Exchange",
    "ExportError",
    "FatalIntegrationError",
    "GraphQLClient",
    "GraphQLError",
    "HTTPStatusError",
    "History",
    "IntegrationError",
    "LiteralSecretError",
    "MissingExtraError",
    "MissingSecretError",
    "OAuth2ClientCredentials",
    "ProtocolError",
    "QueryValidationError",
    "RequestTimeout",
    "ResponseError",
    "Request",
    "ResponseTooLarge",
    "RestClient",
    "Retry",
    "SandboxError",
    "SchemaError",
    "Secret",
    "SoapClient",
    "SoapFault",
    "SpecError",
    "TransportError",
    "AccessDeniedError",
    "ExpiredTokenError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestError",
    "InvalidScopeError",
    "LoginRequired",
    "OAuth2Error",
    "RefreshTokenRevoked",
    "UnauthorizedClientError",
    "UnsupportedGrantTypeError",
    "OAuth2AuthorizationCode",
    "OAuth2DeviceCode",
    "WsseUsernameToken",
    "__version__",
    "history",
    "inspect",
    "load_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext apinotebook``: register the %%rest, %%graphql and %%soap magics."""
    from apinotebook.magics import load_ipython_extension as load

    load(ipython)
