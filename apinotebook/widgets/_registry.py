"""The widgets' registrations: which widget shows which model.

The models never import the widgets; they ask :mod:`apinotebook._core.views`,
and this module fills it. Each factory imports its widget module only when a
view is asked for, so registering costs nothing and needs no Jupyter.
"""

from __future__ import annotations

from typing import Any

from apinotebook._core.views import register_view
from apinotebook._exchange import Exchange
from apinotebook._history import History
from apinotebook.contract import Diff
from apinotebook.graphql import GraphQLClient
from apinotebook.rest import RestClient
from apinotebook.soap import SoapClient

__all__ = ["register_builtin_views"]


def _inspector(obj: Exchange, /, **options: Any) -> Any:
    from apinotebook.widgets._inspector import Inspector

    return Inspector(obj, **options)


def _history(obj: History, /, **options: Any) -> Any:
    from apinotebook.widgets._history import HistoryView

    return HistoryView(obj, **options)


def _builder(obj: RestClient, /, **options: Any) -> Any:
    from apinotebook.widgets._builder import RequestBuilder

    return RequestBuilder(obj, **options)


def _schema(obj: GraphQLClient, /, **options: Any) -> Any:
    from apinotebook.widgets._schema import SchemaExplorer

    return SchemaExplorer(obj, **options)


def _wsdl(obj: SoapClient, /, **options: Any) -> Any:
    from apinotebook.widgets._wsdl import WsdlExplorer

    return WsdlExplorer(obj, **options)


def _diff(obj: Diff, /, **options: Any) -> Any:
    from apinotebook.widgets._diff import DiffView

    return DiffView(obj, **options)


def register_builtin_views() -> None:
    """Register the Inspector, HistoryView, DiffView and the three explorers."""
    register_view(Exchange, _inspector)
    register_view(History, _history)
    register_view(Diff, _diff)
    register_view(RestClient, _builder)
    register_view(GraphQLClient, _schema)
    register_view(SoapClient, _wsdl)
