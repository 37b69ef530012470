"""Mocks served from a description: OpenAPI, GraphQL SDL or introspection, WSDL.

``with apinotebook.mock.serve("petstore.yaml") as mock:`` serves a working
mock on loopback: answers from the document's examples or made up from its
schemas (deterministic per seed), requests checked against it (a bad one gets
400 with the failing path, GraphQL ``errors``, or a SOAP Fault naming the
element), optionally stateful collections. ``apinotebook mock SPEC`` does the
same from a shell; ``Sandbox(extra_mounts=[Mock(spec).mount()])`` mounts one
beside the demo services. Needs the ``sandbox`` extra.
"""

from apinotebook.mock._asgi import Reply, Request
from apinotebook.mock._cli import add_mock_command
from apinotebook.mock._generate import Generator
from apinotebook.mock._server import KINDS, Mock, MockServer, serve

__all__ = [
    "KINDS",
    "Generator",
    "Mock",
    "MockServer",
    "Reply",
    "Request",
    "add_mock_command",
    "serve",
]
