"""apinotebook: explore APIs in Jupyter and prototype integrations you can ship.

The names below are the whole public API of the top-level package; the list
is pinned by ``tests/test_public_api.py``. Importing the package does no I/O
and never imports Jupyter, so exported scripts run on a bare server.
"""

from typing import Any

from apinotebook.__about__ import __version__
from apinotebook._core import compat as _compat
from apinotebook._core import contracts as _contracts
from apinotebook._core import converters as _converters
from apinotebook._core import views as _views
from apinotebook._core.ratelimit import ApiDeprecationWarning
from apinotebook._core.secrets import Secret
from apinotebook._core.views import show
from apinotebook._exceptions import (
    AccessDeniedError,
    AlreadyRunningError,
    ApiNotebookError,
    CassetteError,
    ConfigError,
    ConnectError,
    ContractViolationError,
    DecodeError,
    DeliveryError,
    ExpiredTokenError,
    ExportError,
    FatalIntegrationError,
    GraphQLResponseError,
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
    SchemaDriftError,
    SchemaError,
    SnapshotMismatchError,
    SoapFault,
    SpecError,
    TransportError,
    UnauthorizedClientError,
    UnmatchedRequestError,
    UnsupportedGrantTypeError,
)
from apinotebook._exchange import Attempt, Exchange, Request
from apinotebook._history import History, history
from apinotebook.auth import (
    ApiKey,
    Basic,
    Bearer,
    OAuth2AuthorizationCode,
    OAuth2ClientCredentials,
    OAuth2DeviceCode,
    WsseUsernameToken,
)
from apinotebook.cassettes import Cassette, record, replay
from apinotebook.graphql import GraphQLClient
from apinotebook.rest import CurlClient, OpenAPIClient, RestClient, client_from_curl
from apinotebook.retry import Retry
from apinotebook.soap import SoapClient
from apinotebook.streams import WebSocketClient

__all__ = [
    "AccessDeniedError",
    "AlreadyRunningError",
    "ApiDeprecationWarning",
    "ApiKey",
    "ApiNotebookError",
    "Attempt",
    "Basic",
    "Bearer",
    "Cassette",
    "CassetteError",
    "ConfigError",
    "ConnectError",
    "ContractViolationError",
    "CurlClient",
    "DecodeError",
    "DeliveryError",
    "Exchange",
    "ExpiredTokenError",
    "ExportError",
    "FatalIntegrationError",
    "GraphQLClient",
    "GraphQLResponseError",
    "HTTPStatusError",
    "History",
    "IntegrationError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestError",
    "InvalidScopeError",
    "LiteralSecretError",
    "LoginRequired",
    "MissingExtraError",
    "MissingSecretError",
    "OAuth2AuthorizationCode",
    "OAuth2ClientCredentials",
    "OAuth2DeviceCode",
    "OAuth2Error",
    "OpenAPIClient",
    "ProtocolError",
    "QueryValidationError",
    "RefreshTokenRevoked",
    "Request",
    "RequestTimeout",
    "ResponseError",
    "ResponseTooLarge",
    "RestClient",
    "Retry",
    "SandboxError",
    "SchemaDriftError",
    "SchemaError",
    "Secret",
    "SoapClient",
    "SnapshotMismatchError",
    "SoapFault",
    "SpecError",
    "TransportError",
    "UnauthorizedClientError",
    "UnmatchedRequestError",
    "UnsupportedGrantTypeError",
    "WebSocketClient",
    "WsseUsernameToken",
    "history",
    "load_ipython_extension",
    "record",
    "replay",
    "show",
    "__version__",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext apinotebook``: register the %%rest, %%graphql and %%soap magics."""
    from apinotebook.magics import load_ipython_extension as load

    load(ipython)


def _load_views() -> None:
    """Register the widgets' views the first time a model asks for one (no Jupyter import)."""
    from apinotebook.widgets import register_builtin_views

    register_builtin_views()


_views.set_loader(_load_views)


def _load_contracts() -> None:
    """Register the contract checks and diffs the first time an exchange asks for one."""
    import apinotebook.contract  # noqa: F401


_contracts.set_loader(_load_contracts)


def _load_converters() -> None:
    """Register ``History.to_postman``'s converter the first time it is asked for."""
    import apinotebook.collections  # noqa: F401  (registers itself)


_converters.set_loader(_load_converters)

# names that moved in 0.2; the old paths warn and keep working
_RENAMED: dict[str, tuple[str, Any]] = {
    "GraphQLError": ("apinotebook.GraphQLResponseError", GraphQLResponseError),
    "inspect": ("apinotebook.show", show),
}
_compat.MOVED.update(
    {
        ("apinotebook.openapi", "OpenAPIClient"): ("apinotebook.rest.OpenAPIClient", OpenAPIClient),
        ("apinotebook.curl", "CurlClient"): ("apinotebook.rest.CurlClient", CurlClient),
        ("apinotebook.curl", "client_from_curl"): (
            "apinotebook.rest.client_from_curl",
            client_from_curl,
        ),
        ("apinotebook", "GraphQLError"): _RENAMED["GraphQLError"],
        ("apinotebook", "inspect"): _RENAMED["inspect"],
    }
)


def __getattr__(name: str) -> Any:
    return _compat.moved_attribute(__name__, name)
