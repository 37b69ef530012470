"""``check_contract``: pick the description and the checker for an exchange."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema

from apinotebook._core.contracts import CONTRACT_KEY, RESULT_KEY
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ConfigError, ContractViolationError
from apinotebook._exchange import Exchange
from apinotebook.contract._graphql import check_graphql
from apinotebook.contract._rest import check_rest
from apinotebook.contract._result import ContractResult
from apinotebook.contract._soap import check_soap
from apinotebook.graphql import GraphQLClient
from apinotebook.openapi import OpenAPIDocument
from apinotebook.rest import OpenAPIClient
from apinotebook.soap import SoapClient

__all__ = ["check_contract", "description_of"]


def description_of(against: Any) -> Any:
    """The description to check against: a client's, or ``against`` itself."""
    if isinstance(against, OpenAPIClient):
        return against.document
    if isinstance(against, GraphQLClient):
        return against.schema
    if isinstance(against, SoapClient):
        return against._contract
    if isinstance(against, OpenAPIDocument | GraphQLSchema):
        return against
    if hasattr(against, "sources") and hasattr(against, "document"):  # a loaded WSDL
        return against
    raise ConfigError(
        f"cannot check a response against a {type(against).__name__}: pass a client "
        "(RestClient.from_openapi, GraphQLClient with a schema, SoapClient), an "
        "OpenAPIDocument or a graphql.GraphQLSchema"
    )


def check_contract(
    exchange: Exchange, against: Any = None, *, raise_on_violation: bool = False
) -> ContractResult:
    """Check ``exchange``'s response against its description; see ``Exchange.check_contract``.

    Raises:
        ConfigError: no description is known (the exchange did not come from a
            client that has one, and ``against`` is not given).
        ContractViolationError: with ``raise_on_violation``, when there are violations.
    """
    source = exchange.meta.get(CONTRACT_KEY) if against is None else description_of(against)
    if source is None:
        raise ConfigError(
            f"no API description is known for {exchange.method} {mask_url(exchange.url)}: "
            "pass against= (a client built from OpenAPI, a GraphQLClient with a schema, a "
            "SoapClient), or make the call with such a client"
        )
    if exchange.status == 0:
        result = ContractResult(exchange.protocol, "the contract", checked=False)
        result.reason = f"no response arrived ({exchange.error})"
    elif exchange.protocol == "graphql" and isinstance(source, GraphQLSchema):
        result = check_graphql(exchange, source)
    elif exchange.protocol == "rest" and isinstance(source, OpenAPIDocument):
        result = check_rest(exchange, source)
    elif exchange.protocol == "soap" and hasattr(source, "sources"):
        result = check_soap(exchange, source)
    else:
        raise ConfigError(
            f"a {exchange.protocol} response cannot be checked against a {type(source).__name__}"
        )
    exchange.meta[RESULT_KEY] = result
    if raise_on_violation and not result.ok:
        raise ContractViolationError(
            f"The response of {exchange.operation or exchange.method} {mask_url(exchange.url)} "
            f"breaks its contract: {result.summary()}",
            result=result,
            exchange=exchange,
        )
    return result
