"""Record shapes and their drift (no network)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apinotebook.contract import Shape, ShapeDrift, compare_shapes, infer_shape

BASE = [
    {"id": 1, "email": "a@x", "score": 1.5, "address": {"city": "Oslo"}, "tags": [{"k": "a"}]},
    {"id": 2, "email": "b@x", "score": 2, "address": {"city": None}, "tags": [], "vip": True},
]


def test_fields_types_and_nullability():
    shape = infer_shape(BASE)
    assert shape.records == 2
    assert shape.fields["score"].types == {"number", "integer"}
    assert shape.fields["address.city"].nullable and shape.fields["address.city"].types == {
        "string"
    }
    assert shape.fields["tags[].k"].types == {"string"}
    assert shape.always_present("email") and shape.always_present("address.city")
    assert not shape.always_present("vip") and not shape.always_present("tags[].k")
    assert infer_shape([{"d": date(2024, 1, 1), "m": Decimal("1")}]).fields["m"].types == {"number"}
    again = Shape.from_dict(shape.to_dict())
    assert again.to_dict() == shape.to_dict()


def test_drift_removed_retyped_nullable_added():
    base = infer_shape(BASE)
    now = infer_shape(
        [
            {"id": "1", "mail": "a@x", "score": 3, "address": {"city": "Rome"}, "tags": []},
            {"id": "2", "mail": "b@x", "score": None, "address": {"city": "Bergen"}, "tags": []},
        ]
    )
    drift = compare_shapes(base, now)
    assert drift.removed == {"email": ["string"]}  # vip was optional: its absence is no drift
    assert drift.retyped == {"id": (["integer"], ["string"])}
    assert drift.nullable == ["score"]
    assert drift.added == {"mail": ["string"]}
    assert drift.breaking
    assert ShapeDrift.from_dict(drift.to_dict()).summary() == drift.summary()
    assert drift.summary().startswith("removed email; retyped id (integer -> string)")


def test_no_drift_for_integers_where_numbers_were_and_for_empty_runs():
    base = infer_shape([{"n": 1.5}])
    assert not compare_shapes(base, infer_shape([{"n": 2}]))
    assert not compare_shapes(base, Shape())
    assert not compare_shapes(infer_shape([{"n": 1}]), infer_shape([{"n": 1}, {"n": 2}]))
    assert compare_shapes(infer_shape([{"n": 1}]), infer_shape([{"n": 1.5}])).retyped
