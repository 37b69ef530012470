"""OpenAPI 3.0/3.1 and Swagger 2.0 documents: load, resolve ``$ref``s, model operations.

The client built from a document is :class:`apinotebook.rest.OpenAPIClient`
(``RestClient.from_openapi(spec)``); this package is the format underneath it
and does no I/O of its own beyond fetching the document.
"""

from typing import Any

from apinotebook._core.compat import moved_attribute
from apinotebook.openapi._document import OpenAPIDocument
from apinotebook.openapi._load import SpecFetcher, load_spec
from apinotebook.openapi._model import Operation, Operations, Parameter, RequestBody, Response

__all__ = [
    "OpenAPIDocument",
    "Operation",
    "Operations",
    "Parameter",
    "RequestBody",
    "Response",
    "SpecFetcher",
    "load_spec",
]


def __getattr__(name: str) -> Any:
    return moved_attribute(__name__, name)
