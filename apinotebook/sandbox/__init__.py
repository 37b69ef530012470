"""The bundled sandbox: real demo services on one loopback port, offline.

``with Sandbox() as sb:`` serves a CRM (REST), an email-marketing service
(GraphQL), a legacy billing service (SOAP), three airline fare providers (one
per protocol), a chat service, a calendar service and an OAuth 2.0 / OpenID
Connect authorization server (``auth``). Needs the ``sandbox`` extra:
``pip install 'apinotebook[sandbox]'``.
"""

from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._faults import FaultConfig, parse_fault_spec, parse_options
from apinotebook.sandbox._runner import SERVICES, RemoteSandbox, Sandbox, get_sandbox

__all__ = [
    "SERVICES",
    "FaultConfig",
    "Mount",
    "RemoteSandbox",
    "Sandbox",
    "SandboxContext",
    "get_sandbox",
    "parse_fault_spec",
    "parse_options",
]
