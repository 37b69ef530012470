"""apinotebook.inspect(): dispatch through the registry."""

from __future__ import annotations

import pytest
from widget_builders import rest_exchange

from apinotebook import ConfigError, History
from apinotebook._inspect import inspect, register_inspector, registered_inspectors
from apinotebook.widgets import HistoryView, Inspector


class Thing:
    pass


class SubThing(Thing):
    pass


@pytest.fixture
def restore_registry():
    from apinotebook import _inspect

    saved = dict(_inspect._registry)
    yield
    _inspect._registry.clear()
    _inspect._registry.update(saved)


def test_exchange_and_history():
    widget = inspect(rest_exchange({"a": 1}), name="ex1")
    assert isinstance(widget, Inspector) and widget.variable == "ex1"
    assert isinstance(inspect(History()), HistoryView)


def test_registration_by_class_and_by_path(restore_registry):
    register_inspector(Thing, lambda obj, **kw: ("thing", kw))
    assert inspect(SubThing(), x=1) == ("thing", {"x": 1})  # subclasses use it too
    register_inspector(f"{__name__}.SubThing", "builtins:repr")
    assert inspect(SubThing()).startswith("<")  # the most specific one wins
    assert registered_inspectors()[f"{__name__}.SubThing"] == "builtins:repr"


@pytest.mark.parametrize(
    ("cls", "factory", "message"),
    [
        ("NoDots", repr, "dotted path"),
        (42, repr, "a class or a dotted path"),
        (Thing, "no-colon", "callable or a 'module:attribute'"),
    ],
)
def test_bad_registrations(cls, factory, message, restore_registry):
    with pytest.raises(ConfigError, match=message):
        register_inspector(cls, factory)


def test_unknown_types_list_what_can_be_inspected():
    with pytest.raises(ConfigError, match=r"cannot show a int; it shows: .*Exchange.*History"):
        inspect(42)
