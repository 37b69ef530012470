"""The hook the model uses for contract checks and diffs (``apinotebook.contract`` fills it).

:class:`~apinotebook.Exchange` and :class:`~apinotebook.History` sit below the
contract package and never import it. ``ex.check_contract()``, ``ex.diff()``
and ``History.diff()`` ask this registry instead; ``apinotebook.contract``
registers its functions here, and the package's front door installs a loader
that imports it the first time one is needed (as :mod:`apinotebook._core.views`
does for widgets).

The clients call :func:`after_response` on every exchange: it labels the
exchange with the description it can be checked against (``meta["contract"]``)
and, when the client was made with ``check_contracts=``, checks it at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from apinotebook._exceptions import ConfigError

if TYPE_CHECKING:
    from apinotebook._exchange import Exchange

__all__ = [
    "CONTRACT_KEY",
    "RESULT_KEY",
    "ContractMethods",
    "ContractMode",
    "after_response",
    "call",
    "contract_mode",
    "register",
    "set_loader",
]

#: ``exchange.meta`` key of the description the exchange can be checked against
CONTRACT_KEY = "contract"
#: ``exchange.meta`` key of the last :class:`~apinotebook.contract.ContractResult`
RESULT_KEY = "contract_result"

#: ``check_contracts=`` of the clients: off, check and keep the result, or raise on violations
ContractMode = Literal["off", "record", "raise"]

_lock = threading.Lock()
_hooks: dict[str, Callable[..., Any]] = {}
_loader: list[Callable[[], None]] = []


def register(name: str, fn: Callable[..., Any]) -> None:
    """Install the implementation of ``check``, ``diff`` or ``history_diff``."""
    with _lock:
        _hooks[name] = fn


def set_loader(loader: Callable[[], None]) -> None:
    """Install the function that imports the implementations when one is first missing."""
    with _lock:
        _loader[:] = [loader]


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run the registered implementation of ``name`` (importing them on first use)."""
    fn = _hooks.get(name)
    if fn is None:
        for load in list(_loader):
            load()  # importing apinotebook.contract registers every hook
        fn = _hooks.get(name)
    if fn is None:
        raise ConfigError(f"no implementation of {name!r}: import apinotebook.contract first")
    return fn(*args, **kwargs)


def contract_mode(value: bool | str | None) -> ContractMode:
    """Read a client's ``check_contracts=`` argument."""
    if value is None or value is False or value == "off":
        return "off"
    if value is True or value == "record":
        return "record"
    if value == "raise":
        return "raise"
    raise ConfigError.invalid_choice("check_contracts", value, ("False", "True", "raise"))


def after_response(exchange: Exchange, source: Any, mode: ContractMode) -> Exchange:
    """Label ``exchange`` with its description; check it now if ``mode`` says so."""
    if source is None:
        return exchange
    exchange.meta[CONTRACT_KEY] = source
    if mode != "off" and exchange.status:
        call("check", exchange, None, raise_on_violation=mode == "raise")
    return exchange


class ContractMethods:
    """``check_contract`` and ``diff`` for :class:`~apinotebook.Exchange` (a slot-less mixin)."""

    __slots__ = ()

    def check_contract(self, against: Any = None, *, raise_on_violation: bool = False) -> Any:
        """Check the response against its API description; return a ``ContractResult``.

        REST: the OpenAPI operation's response schema for this status; GraphQL:
        the query's result type (nullability, types, unknown fields); SOAP: the
        WSDL's XML Schema. ``result.ok`` and ``result.violations`` (each with
        its JSON path or XPath); shown in the Inspector.

        Args:
            against: the description; by default the one of the client that
                made the exchange. Also a client (``RestClient.from_openapi``,
                ``GraphQLClient``, ``SoapClient``), an ``OpenAPIDocument`` or
                a ``graphql.GraphQLSchema``.
            raise_on_violation: raise :class:`~apinotebook.ContractViolationError`
                when the response breaks the contract.

        Raises:
            ConfigError: no description is known for this exchange.
        """
        return call("check", self, against, raise_on_violation=raise_on_violation)

    def diff(self, other: Any, **options: Any) -> Any:
        """A structural diff of this response's payload and ``other``'s: a ``Diff``.

        Added, removed and changed values (and types), with their paths;
        arrays of objects are matched by ``id``/``key``/``name`` when they
        have one (``key=`` chooses), else by position. ``ignore=`` lists paths
        to leave out (``"data[*].updated_at"``). ``str(diff)`` is text,
        ``diff.changes`` data, and in a notebook it shows as a widget.
        """
        return call("diff", self, other, **options)
