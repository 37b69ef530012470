"""The top-level public API is pinned: adding or removing a name is a decision."""

import apinotebook

PUBLIC = {
    # clients and the model
    "Exchange", "Request", "Attempt", "History", "history", "inspect",
    "RestClient", "GraphQLClient", "SoapClient", "Retry",
    # auth
    "ApiKey", "Basic", "Bearer", "OAuth2ClientCredentials", "WsseUsernameToken", "Secret",
    "OAuth2AuthorizationCode", "OAuth2DeviceCode",
    # errors
    "ApiNotebookError", "ConfigError", "MissingSecretError", "MissingExtraError",
    "TransportError", "ConnectError", "RequestTimeout", "ProtocolError", "ResponseTooLarge",
    "ResponseError", "HTTPStatusError", "DecodeError", "GraphQLError", "SoapFault",
    "SchemaError", "SpecError", "QueryValidationError", "IntegrationError",
    "FatalIntegrationError", "DeliveryError", "ExportError", "LiteralSecretError",
    "SandboxError",
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
