import pandas as pd
import pytest

from apinotebook import ConfigError
from apinotebook.frames import pick, to_frame


@pytest.mark.parametrize(
    ("data", "path", "columns", "rows"),
    [
        ([{"id": 1, "a": {"b": 2}}], None, ["id", "a.b"], 1),
        ({"data": [{"id": 1}, {"id": 2}], "next_cursor": None}, None, ["id"], 2),
        ({"results": [{"x": 1}], "count": 1}, None, ["x"], 1),
        (
            {
                "list": {
                    "subscribers": {
                        "totalCount": 2,
                        "edges": [
                            {"cursor": "a", "node": {"email": "a@x"}},
                            {"cursor": "b", "node": {"email": "b@x"}},
                        ],
                    }
                }
            },
            None,
            ["email"],
            2,
        ),
        (
            {"list": {"subscribers": {"edges": [{"node": {"email": "a@x"}}]}}},
            "list.subscribers",
            ["email"],
            1,
        ),
        ({"data": []}, "data", [], 0),
        ([], None, [], 0),
        (None, None, [], 0),
        ([1, 2, 3], None, ["value"], 3),
        (42, None, ["value"], 1),
        ({"id": 1, "name": "n"}, None, ["id", "name"], 1),
        ({"a": [{"id": 1}], "b": [{"id": 2}]}, "b", ["id"], 1),
        ({"r": [[1, 2], [3]]}, "r.0", ["value"], 2),
    ],
)
def test_to_frame_table(data, path, columns, rows):
    frame = to_frame(data, path)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == columns and len(frame) == rows


def test_record_path_for_nested_lists():
    invoices = [
        {"id": "I1", "lines": [{"sku": "A"}, {"sku": "B"}]},
        {"id": "I2", "lines": [{"sku": "C"}]},
    ]
    frame = to_frame(invoices, record_path="lines", meta=["id"])
    assert frame["sku"].tolist() == ["A", "B", "C"] and frame["id"].tolist() == ["I1", "I1", "I2"]


def test_bad_path_lists_what_is_there():
    with pytest.raises(ConfigError, match="'data'.*available: 'items'"):
        pick({"items": []}, "data")
    with pytest.raises(ConfigError, match="a list of 1"):
        pick({"items": [{}]}, "items.5")
