"""The exceptions apinotebook raises: one tree, one root.

Every error the package raises on purpose is an ``ApiNotebookError``. Errors
from the libraries underneath (httpx, gql, graphql-core, zeep, lxml, sqlite3)
are mapped at the boundary with ``raise ... from exc``, so callers never need
to catch a backend's exception type. Every message says what was wrong and
what to do about it, and never contains a secret.

```
ApiNotebookError
├── ConfigError                 bad arguments or configuration; lists valid options
│   ├── MissingSecretError      an environment variable holding a secret is unset
│   └── MissingExtraError       an optional extra is not installed
├── TransportError              no usable response arrived
│   ├── ConnectError
│   ├── RequestTimeout
│   ├── ProtocolError           dropped connection, truncated body
│   └── ResponseTooLarge        the body exceeded the configured size limit
├── ResponseError               a response arrived but is an error or unreadable
│   ├── HTTPStatusError         4xx/5xx; carries the Exchange
│   ├── DecodeError             malformed JSON/XML, wrong content type, bad bytes
│   ├── GraphQLResponseError    GraphQL ``errors``; carries errors, data, extensions
│   ├── SoapFault               SOAP Fault; carries code, message, detail
│   ├── ContractViolationError  the response breaks its API description; carries result
│   └── OAuth2Error             an authorization server refused; carries error, description
│       ├── InvalidRequestError       invalid_request (and a mismatching ``state``)
│       ├── InvalidClientError        invalid_client: unknown client or wrong secret
│       ├── UnauthorizedClientError   unauthorized_client: the client may not use this grant
│       ├── UnsupportedGrantTypeError unsupported_grant_type
│       ├── InvalidScopeError         invalid_scope
│       ├── InvalidGrantError         invalid_grant: code used/expired, PKCE or redirect mismatch
│       │   └── RefreshTokenRevoked   the refresh token is revoked or expired: authorize again
│       ├── AccessDeniedError         access_denied: the user said no
│       ├── ExpiredTokenError         expired_token: the device code expired before approval
│       └── LoginRequired             no usable token and no way to get one without the user
├── SchemaError                 a contract is broken or cannot be read
│   ├── SpecError               invalid OpenAPI document, WSDL or SDL
│   └── QueryValidationError    a GraphQL query does not match the schema
├── IntegrationError            an integration could not run
│   ├── FatalIntegrationError   the run stopped; no checkpoint advanced
│   │   ├── AlreadyRunningError another run of the integration holds its lease
│   │   └── SchemaDriftError    the source's shape drifted and the policy is "stop"
│   └── DeliveryError           a destination rejected a batch (retried, then dead-lettered)
├── SnapshotMismatchError       a response differs from its snapshot (also an AssertionError)
├── ExportError                 a notebook cannot be exported
│   └── LiteralSecretError      a cell holds a literal secret; points at cell and line
├── SandboxError                the demo services could not start or be controlled
└── CassetteError               a cassette cannot be read, written or used
    └── UnmatchedRequestError   replay only: nothing recorded matches; names the closest and why
```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from apinotebook._exchange import Exchange

__all__ = [
    "AlreadyRunningError",
    "ApiNotebookError",
    "CassetteError",
    "ConfigError",
    "ConnectError",
    "ContractViolationError",
    "DecodeError",
    "DeliveryError",
    "ExportError",
    "FatalIntegrationError",
    "GraphQLResponseError",
    "HTTPStatusError",
    "IntegrationError",
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
    "LiteralSecretError",
    "MissingExtraError",
    "MissingSecretError",
    "ProtocolError",
    "QueryValidationError",
    "RequestTimeout",
    "ResponseError",
    "ResponseTooLarge",
    "SandboxError",
    "SchemaDriftError",
    "SchemaError",
    "SnapshotMismatchError",
    "SoapFault",
    "SpecError",
    "TransportError",
    "UnmatchedRequestError",
]


class ApiNotebookError(Exception):
    """Root of every error apinotebook raises on purpose."""


# -- configuration -----------------------------------------------------------


class ConfigError(ApiNotebookError, ValueError):
    """An argument or a configuration value is not valid.

    Build it with :meth:`invalid_choice` when the value must be one of a known
    set: the message then lists the valid options and the closest match.
    """

    @classmethod
    def invalid_choice(cls, what: str, value: object, valid: Iterable[str]) -> ConfigError:
        """Build an error for ``value`` not being one of ``valid``."""
        options = sorted(valid)
        hint = ""
        if isinstance(value, str):
            close = get_close_matches(value, options, n=1)
            if close:
                hint = f" Did you mean {close[0]!r}?"
        return cls(
            f"Unknown {what} {value!r}. Valid {what}s: {', '.join(map(repr, options))}.{hint}"
        )


class MissingSecretError(ConfigError, KeyError):
    """A secret was read from an environment variable that is not set."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"Environment variable {name!r} is not set. Set it in your shell "
            f"(export {name}=...) or in the kernel's environment before reading it "
            f"with Secret.from_env({name!r})."
        )

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class MissingExtraError(ConfigError, ImportError):
    """A feature needs an optional extra that is not installed."""

    def __init__(self, feature: str, extra: str, *, module: str | None = None) -> None:
        self.feature = feature
        self.extra = extra
        missing = f" (module {module!r} is missing)" if module else ""
        super().__init__(
            f"{feature} needs the optional dependencies of apinotebook[{extra}]{missing}. "
            f"Install them with: pip install 'apinotebook[{extra}]'"
        )


# -- transport ----------------------------------------------------------------


class TransportError(ApiNotebookError):
    """No usable response arrived: the request failed on the wire."""

    def __init__(self, message: str, *, url: str | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.url = url
        self.attempts = attempts


class ConnectError(TransportError):
    """The connection could not be opened (refused, DNS failure, TLS failure)."""


class RequestTimeout(TransportError):
    """The request took longer than its timeout.

    ``phase`` says which timeout ran out: ``"connect"`` (no connection was
    made, so nothing was sent and even a POST may be retried), ``"read"``,
    ``"write"`` or ``"pool"`` (no free connection in the client's pool);
    ``None`` when unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        attempts: int = 1,
        phase: Literal["connect", "read", "write", "pool"] | None = None,
    ) -> None:
        super().__init__(message, url=url, attempts=attempts)
        self.phase = phase


class ProtocolError(TransportError):
    """The server broke the protocol: dropped the connection, truncated the body."""


class ResponseTooLarge(TransportError):
    """The response body exceeded the configured ``max_response_size``."""


# -- responses ----------------------------------------------------------------


class ResponseError(ApiNotebookError):
    """A response arrived, but it is an error or cannot be read.

    ``exchange`` holds the full request/response record when one exists.
    """

    def __init__(self, message: str, *, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.exchange = exchange


class HTTPStatusError(ResponseError):
    """The server answered with a 4xx or 5xx status."""

    @property
    def status(self) -> int | None:
        """The HTTP status code, when an exchange is attached."""
        return self.exchange.status if self.exchange is not None else None


class DecodeError(ResponseError):
    """The body is not what was expected: bad JSON or XML, wrong type, bad bytes."""


class GraphQLResponseError(ResponseError):
    """The GraphQL response carries ``errors``; ``data`` keeps any partial result."""

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        data: Any = None,
        extensions: Mapping[str, Any] | None = None,
        exchange: Exchange | None = None,
    ) -> None:
        super().__init__(message, exchange=exchange)
        self.errors = list(errors)
        self.data = data
        self.extensions = dict(extensions or {})


class SoapFault(ResponseError):
    """The SOAP service answered with a Fault."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: Any = None,
        actor: str | None = None,
        exchange: Exchange | None = None,
    ) -> None:
        super().__init__(message, exchange=exchange)
        self.code = code
        self.detail = detail
        self.actor = actor


class OAuth2Error(ResponseError):
    """An OAuth 2.0 authorization server refused (RFC 6749 section 5.2, RFC 8628 section 3.5).

    ``error`` is the RFC's code (``invalid_grant``), ``description`` the
    server's ``error_description`` (already free of secrets), ``status`` the
    HTTP status. Build one from a response with :meth:`from_code`, which picks
    the subclass for the code.
    """

    code: str = ""

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        description: str | None = None,
        status: int | None = None,
        exchange: Exchange | None = None,
    ) -> None:
        super().__init__(message, exchange=exchange)
        self.error = error or self.code or "oauth2_error"
        self.description = description
        self.status = status

    @classmethod
    def from_code(
        cls, error: str, description: str | None, *, where: str, status: int | None = None
    ) -> OAuth2Error:
        """The typed error for RFC code ``error``, with a message that says what to do."""
        kind = _OAUTH2_ERRORS.get(error, OAuth2Error)
        said = f": {description.rstrip('.')}" if description else ""
        hint = f" {kind.hint}" if kind.hint else ""
        return kind(
            f"{where} answered {error}{said}.{hint}",
            error=error,
            description=description,
            status=status,
        )

    hint = ""


class InvalidRequestError(OAuth2Error):
    """``invalid_request``: a parameter is missing, repeated or malformed."""

    code = "invalid_request"


class InvalidClientError(OAuth2Error):
    """``invalid_client``: unknown client, wrong secret or wrong auth method."""

    code = "invalid_client"
    hint = "Check the client id, the client secret and auth_method."


class UnauthorizedClientError(OAuth2Error):
    """``unauthorized_client``: the client is not allowed to use this grant type."""

    code = "unauthorized_client"
    hint = "Enable this grant for the client in the provider's app settings."


class UnsupportedGrantTypeError(OAuth2Error):
    """``unsupported_grant_type``: the server does not know this grant type."""

    code = "unsupported_grant_type"


class InvalidScopeError(OAuth2Error):
    """``invalid_scope``: unknown scope, or more than the client may ask for."""

    code = "invalid_scope"
    hint = "Ask for fewer or other scopes."


class InvalidGrantError(OAuth2Error):
    """``invalid_grant``: the code or refresh token is used, expired, revoked or mismatched."""

    code = "invalid_grant"


class RefreshTokenRevoked(InvalidGrantError):
    """The refresh token no longer works (revoked, expired or rotated away)."""

    hint = "The stored tokens were forgotten: run authorize() again."


class AccessDeniedError(OAuth2Error):
    """``access_denied``: the user declined."""

    code = "access_denied"
    hint = "The user declined; authorize again to retry."


class ExpiredTokenError(OAuth2Error):
    """``expired_token``: the device code expired before the user approved it."""

    code = "expired_token"
    hint = "Start the device flow again and approve it sooner."


class LoginRequired(OAuth2Error):
    """No usable token, and getting one needs the user (interactive authorization)."""

    code = "login_required"


_OAUTH2_ERRORS: dict[str, type[OAuth2Error]] = {
    k.code: k
    for k in (
        InvalidRequestError,
        InvalidClientError,
        UnauthorizedClientError,
        UnsupportedGrantTypeError,
        InvalidScopeError,
        InvalidGrantError,
        AccessDeniedError,
        ExpiredTokenError,
        LoginRequired,
    )
}


class ContractViolationError(ResponseError):
    """A response breaks its API description (OpenAPI, GraphQL schema, XSD).

    ``result`` is the :class:`~apinotebook.contract.ContractResult`; its
    ``violations`` say where (JSON path or XPath) and what.
    """

    def __init__(
        self, message: str, *, result: Any = None, exchange: Exchange | None = None
    ) -> None:
        super().__init__(message, exchange=exchange)
        self.result = result

    @property
    def violations(self) -> list[Any]:
        """The violations of the contract."""
        return list(getattr(self.result, "violations", []))


# -- contracts ----------------------------------------------------------------


class SchemaError(ApiNotebookError):
    """A contract (OpenAPI, WSDL, GraphQL schema) is broken or not respected."""


class SpecError(SchemaError):
    """An OpenAPI document, a WSDL or a GraphQL SDL cannot be read."""


class QueryValidationError(SchemaError):
    """A GraphQL document does not validate against the schema.

    ``errors`` holds one message per problem, with its line and column.
    """

    def __init__(self, message: str, *, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


# -- integrations, export, sandbox -------------------------------------------


class IntegrationError(ApiNotebookError):
    """An integration could not run as configured."""


class FatalIntegrationError(IntegrationError):
    """The run stopped; the checkpoint was not advanced, nothing was lost."""


class AlreadyRunningError(FatalIntegrationError):
    """Another run of the same integration on the same state holds its lease.

    Nothing was read or delivered; exported scripts exit with code 3.
    """


class SchemaDriftError(FatalIntegrationError):
    """The source's records changed shape and the drift policy is ``"stop"``.

    Raised before anything was written; ``drift`` holds the
    :class:`~apinotebook.contract.ShapeDrift` (added, removed, retyped fields).
    """

    def __init__(self, message: str, *, drift: Any = None) -> None:
        super().__init__(message)
        self.drift = drift


class SnapshotMismatchError(ApiNotebookError, AssertionError):
    """A response differs from its stored snapshot; ``diff`` lists how."""

    def __init__(self, message: str, *, diff: Any = None) -> None:
        super().__init__(message)
        self.diff = diff


class DeliveryError(IntegrationError):
    """A destination rejected a batch after its retries."""


class ExportError(ApiNotebookError):
    """A notebook cannot be exported."""


class LiteralSecretError(ExportError):
    """An exported cell contains a literal secret."""

    def __init__(self, message: str, *, cell: int, line: int) -> None:
        super().__init__(message)
        self.cell = cell
        self.line = line


class SandboxError(ApiNotebookError):
    """The demo services could not start or be controlled."""


# -- cassettes ---------------------------------------------------------------


class CassetteError(ApiNotebookError):
    """A cassette (``apinotebook.record`` / ``replay``) cannot be read, written or used."""


class UnmatchedRequestError(CassetteError):
    """A replayed request matches nothing in the cassette.

    Attributes:
        path: the cassette file.
        request: ``"METHOD URL"`` of the request (secrets masked).
        closest: ``"METHOD URL"`` of the closest recorded request, if any.
        differences: why the closest one did not match, one line per part.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        request: str,
        closest: str | None = None,
        differences: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.path = path
        self.request = request
        self.closest = closest
        self.differences = list(differences)
