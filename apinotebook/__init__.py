"""apinotebook: explore APIs in Jupyter and prototype integrations you can ship.

The names below are the whole public API of the top-level package; the list
is pinned by ``tests/test_public_api.py``. Importing the package does no I/O
and never imports Jupyter, so exported scripts run on a bare server.
"""

from apinotebook.__about__ import __version__
from apinotebook._exceptions import (
    ApiNotebookError,
    ConfigError,
    ConnectError,
    DecodeError,
    DeliveryError,
    ExportError,
    FatalIntegrationError,
    GraphQLError,
    HTTPStatusError,
    IntegrationError,
    LiteralSecretError,
    MissingExtraError,
    MissingSecretError,
    ProtocolError,
    QueryValidationError,
    RequestTimeout,
    ResponseError,
    ResponseTooLarge,
    SandboxError,
    SchemaError,
    SoapFault,
    SpecError,
    TransportError,
)

__all__ = [
    "ApiNotebookError",
    "ConfigError",
    "ConnectError",
    "DecodeError",
    "DeliveryError",
    "ExportError",
    "FatalIntegrationError",
    "GraphQLError",
    "HTTPStatusError",
    "IntegrationError",
    "LiteralSecretError",
    "MissingExtraError",
    "MissingSecretError",
    "ProtocolError",
    "QueryValidationError",
    "RequestTimeout",
    "ResponseError",
    "ResponseTooLarge",
    "SandboxError",
    "SchemaError",
    "SoapFault",
    "SpecError",
    "TransportError",
    "__version__",
]
