"""GraphQL over HTTP: :class:`GraphQLClient`; queries validated locally against the schema."""

from apinotebook.graphql._client import (
    ACCEPT,
    AsyncPages,
    GraphQLClient,
    Pages,
    QueryInput,
    SchemaSource,
)

__all__ = ["ACCEPT", "AsyncPages", "GraphQLClient", "Pages", "QueryInput", "SchemaSource"]
