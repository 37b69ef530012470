"""apinotebook.show(): dispatch through the views registry the widgets fill."""

from __future__ import annotations

import pytest
from widget_builders import rest_exchange

from apinotebook import ConfigError, GraphQLClient, History, RestClient, SoapClient, show
from apinotebook._core import views
from apinotebook.widgets import HistoryView, Inspector, register_view


class Thing:
    pass


class SubThing(Thing):
    pass


@pytest.fixture
def restore_registry():
    views.registered_views()  # load the built-in views first
    saved = dict(views._views)
    yield
    views._views.clear()
    views._views.update(saved)


def test_exchange_and_history():
    widget = show(rest_exchange({"a": 1}), name="ex1")
    assert isinstance(widget, Inspector) and widget.variable == "ex1"
    assert isinstance(show(History()), HistoryView)


def test_the_widgets_register_every_model_and_client():
    names = views.registered_views()
    for cls in ("Exchange", "History", "RestClient", "GraphQLClient", "SoapClient"):
        assert any(key.endswith(f".{cls}") for key in names), cls
    assert all(f.startswith("apinotebook.widgets.") for f in names.values())
    assert {RestClient, GraphQLClient, SoapClient} <= set(views._views)


def test_registration_by_class_most_specific_wins(restore_registry):
    register_view(Thing, lambda obj, **kw: ("thing", kw))
    assert show(SubThing(), x=1) == ("thing", {"x": 1})  # subclasses use it too
    register_view(SubThing, repr)
    assert show(SubThing()).startswith("<")  # the most specific one wins
    assert show(Thing(), y=2) == ("thing", {"y": 2})


@pytest.mark.parametrize(
    ("cls", "factory", "message"),
    [
        ("apinotebook.Thing", repr, "takes a class"),
        (42, repr, "takes a class"),
        (Thing, "no-colon", "must be callable"),
    ],
)
def test_bad_registrations(cls, factory, message, restore_registry):
    with pytest.raises(ConfigError, match=message):
        register_view(cls, factory)


def test_unknown_types_list_what_can_be_shown():
    with pytest.raises(ConfigError, match=r"cannot show a int; it shows: .*Exchange.*History"):
        show(42)


def test_inspect_is_a_deprecated_alias_of_show():
    import apinotebook

    with pytest.warns(DeprecationWarning, match=r"apinotebook.inspect moved to apinotebook.show"):
        alias = apinotebook.inspect
    assert alias is show
