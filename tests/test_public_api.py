"""The top-level public API is pinned: adding or removing a name is a decision."""

import pytest

import apinotebook
import apinotebook.rest

PUBLIC = {
    # clients and the model
    "Exchange", "Request", "Attempt", "History", "history", "show",
    "RestClient", "OpenAPIClient", "CurlClient", "GraphQLClient", "SoapClient", "Retry",
    "ApiDeprecationWarning",
    # streams (SSE and subscriptions are methods of the clients)
    "WebSocketClient",
    # record and replay
    "record", "replay", "Cassette", "CassetteError", "UnmatchedRequestError",
    # auth
    "ApiKey", "Basic", "Bearer", "OAuth2ClientCredentials", "WsseUsernameToken", "Secret",
    "OAuth2AuthorizationCode", "OAuth2DeviceCode",
    # errors
    "ApiNotebookError", "ConfigError", "MissingSecretError", "MissingExtraError",
    "TransportError", "ConnectError", "RequestTimeout", "ProtocolError", "ResponseTooLarge",
    "ResponseError", "HTTPStatusError", "DecodeError", "GraphQLResponseError", "SoapFault",
    "SchemaError", "SpecError", "QueryValidationError", "IntegrationError",
    "FatalIntegrationError", "AlreadyRunningError", "DeliveryError", "ExportError",
    "LiteralSecretError",
    "SandboxError",
    # contracts, snapshots, drift (apinotebook.contract)
    "ContractViolationError", "SnapshotMismatchError", "SchemaDriftError",
    # OAuth 2.0 errors (RFC 6749 section 5.2, RFC 8628 section 3.5)
    "OAuth2Error", "InvalidRequestError", "InvalidClientError", "UnauthorizedClientError",
    "UnsupportedGrantTypeError", "InvalidScopeError", "InvalidGrantError", "RefreshTokenRevoked",
    "AccessDeniedError", "ExpiredTokenError", "LoginRequired",
    # Jupyter
    "load_ipython_extension",
    "__version__",
}  # fmt: skip


def test_all_is_pinned():
    assert set(apinotebook.__all__) == PUBLIC
    assert len(apinotebook.__all__) == len(set(apinotebook.__all__))


def test_every_name_exists():
    for name in apinotebook.__all__:
        assert getattr(apinotebook, name) is not None


def test_every_error_has_one_root():
    errors = [
        getattr(apinotebook, n)
        for n in PUBLIC
        if n.endswith(("Error", "Fault", "Large", "Timeout", "Revoked", "Required"))
    ]
    assert errors and all(issubclass(e, apinotebook.ApiNotebookError) for e in errors)


@pytest.mark.parametrize(
    ("module", "name", "new"),
    [
        ("apinotebook", "GraphQLError", "GraphQLResponseError"),
        ("apinotebook", "inspect", "show"),
        ("apinotebook.openapi", "OpenAPIClient", "OpenAPIClient"),
        ("apinotebook.curl", "CurlClient", "CurlClient"),
        ("apinotebook.curl", "client_from_curl", "client_from_curl"),
    ],
)
def test_renamed_and_moved_names_still_import_with_a_warning(module, name, new):
    import importlib

    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{module}.{name} moved to"):
        old = getattr(mod, name)
    target = getattr(apinotebook, new, None) or getattr(apinotebook.rest, new)
    assert old is target


def test_an_unknown_name_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        apinotebook.nope  # noqa: B018
