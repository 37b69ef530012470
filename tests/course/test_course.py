import re
import sys
from pathlib import Path

import pytest

from apinotebook import ConfigError, course
from apinotebook.course import CRITERIA, FIT, OPTIONS, WHY, check, decision_helper, recommend

# -- check() ---------------------------------------------------------------------------------


def test_check_success_and_hint():
    ok = check(1 + 1 == 2, "Right!", "Count again.")
    assert ok and ok.message == "✔ Right!" and repr(ok) == "✔ Right!"
    no = check(1 + 1 == 3, "Right!", "Count again.")
    assert not no and no.message == "✘ Count again."
    assert "#b00020" in no._repr_html_() and "#1b7f3b" in ok._repr_html_()


def test_check_calls_a_callable_and_turns_an_exception_into_a_hint():
    assert check(lambda: True)
    verdict = check(lambda: {}["missing"], "yes", "Look at the keys.")
    assert not verdict
    assert verdict.message.startswith("✘ Look at the keys. (your code raised KeyError")


def test_check_escapes_html():
    assert "&lt;b&gt;" in check(False, hint="<b>bold</b>")._repr_html_()


# -- recommend(): the decision table ---------------------------------------------------------

EVERYTHING_MEDIUM: dict = {}

SCENARIOS = [
    # (what the situation is, answers, expected order)
    (
        "marketing team, standard sync, no developers, needed today",
        {"custom_needs": 0, "developer_resources": 0, "data_control": 1, "security": 1,
         "volume": 1, "speed": 4, "budget": 1},
        ("native", "platform", "custom"),
    ),
    (
        "fintech: custom rules, millions of records, strict compliance, a dev team",
        {"custom_needs": 4, "developer_resources": 4, "data_control": 4, "security": 4,
         "volume": 4, "speed": 1, "budget": 3},
        ("custom", "native", "platform"),  # native and platform tie at -10: simpler first
    ),
    (
        "startup experiment, no connector exists, this week, occasional help",
        {"custom_needs": 1, "developer_resources": 1, "data_control": 1, "security": 1,
         "volume": 0, "speed": 3, "budget": 2, "proof_of_concept": True,
         "native_available": False},
        ("platform", "custom", "native"),
    ),
    (
        "agency: lookups and routing, data must stay in the EU, one developer",
        {"custom_needs": 3, "developer_resources": 2, "data_control": 3, "security": 3,
         "volume": 2, "speed": 2, "budget": 2},
        ("custom", "platform", "native"),
    ),
    (
        "no answers at all: the middle of every scale",
        EVERYTHING_MEDIUM,
        ("platform", "native", "custom"),  # native and custom tie at -1
    ),
    (
        "a proof of concept with a connector available and no developers",
        {"custom_needs": 1, "developer_resources": 0, "speed": 4, "proof_of_concept": True},
        ("native", "platform", "custom"),
    ),
    (
        "high volume, no budget for a platform, developers in house",
        {"volume": 4, "budget": 1, "developer_resources": 3, "custom_needs": 2},
        ("custom", "native", "platform"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("situation", "answers", "order"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_recommendation_table(situation, answers, order):
    rec = recommend(answers)
    assert rec.order == order, rec.summary()
    assert rec.best == order[0]


def test_scores_are_the_sum_of_the_fit_table():
    answers = {"custom_needs": 3, "developer_resources": 1, "data_control": 0, "security": 4,
               "volume": 2, "speed": 0, "budget": 4, "proof_of_concept": True}  # fmt: skip
    rec = recommend(answers)
    for option in OPTIONS:
        expected = sum(FIT[key][option][int(value)] for key, value in answers.items())
        assert rec.scores[option] == expected
        assert sum(r.points for r in rec[option].reasons) == expected


def test_every_criterion_gives_a_reason_per_option():
    rec = recommend(custom_needs=4, developer_resources=0)
    for score in rec.ranking:
        assert [r.criterion for r in score.reasons] == list(CRITERIA)
        for reason in score.reasons:
            assert reason.why, reason
            if reason.points:
                assert reason.why != "makes no difference"
                assert f"({reason.points:+d})" in reason.text
    custom = rec["custom"]
    assert custom.pros[0].criterion == "custom_needs" and custom.pros[0].points == 4
    assert custom.cons[0].criterion == "developer_resources" and custom.cons[0].points == -4


def test_a_reason_exists_wherever_the_table_gives_points():
    for key, per_option in FIT.items():
        for option, points in per_option.items():
            helps, hurts = WHY[key][option]
            assert not any(p > 0 for p in points) or helps, (key, option)
            assert not any(p < 0 for p in points) or hurts, (key, option)


def test_the_table_covers_every_criterion_and_level():
    assert set(FIT) == set(CRITERIA) == set(WHY)
    for key, crit in CRITERIA.items():
        assert set(FIT[key]) == set(OPTIONS)
        assert all(len(points) == len(crit.levels) for points in FIT[key].values())


def test_the_docstring_table_matches_the_code():
    doc = " ".join(course._criteria.__doc__.split())
    for key, per_option in FIT.items():
        cells = " ".join(
            " ".join("0" if p == 0 else f"{p:+d}" for p in per_option[option]) for option in OPTIONS
        )
        assert f"{key} {cells}" in doc, key


def test_no_connector_ranks_native_last_whatever_its_score():
    rec = recommend(custom_needs=0, developer_resources=0, speed=4, native_available=False)
    assert rec.order[-1] == "native"
    assert not rec["native"].available and rec["native"].score > rec.ranking[0].score
    assert "not available" in rec.summary()
    assert rec.answers["native_available"] is False


def test_ties_go_to_the_simpler_option():
    rec = recommend()
    assert rec.scores["native"] == rec.scores["custom"]
    assert rec.order.index("native") < rec.order.index("custom")


def test_close_call():
    assert recommend().close_call  # platform 0, native -1
    assert "close call" in recommend().summary()
    assert not recommend(custom_needs=4, developer_resources=4, volume=4).close_call


def test_keywords_and_dict_combine():
    assert recommend({"custom_needs": 4}, developer_resources=4).answers["developer_resources"] == 4


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"custom_need": 3}, "Did you mean 'custom_needs'"),
        ({"volume": 5}, "volume must be a level from 0 to 4"),
        ({"volume": -1}, "0 = a few a day"),
        ({"volume": "high"}, "volume must be a level"),
        ({"volume": True}, "volume must be a level"),
        ({"speed": 2.5}, "speed must be a level"),
        ({"proof_of_concept": 1}, "proof_of_concept is a yes/no question"),
        ({"native_available": "yes"}, "native_available must be True or False"),
    ],
)
def test_bad_answers_say_what_is_valid(answers, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        recommend(answers)


def test_answers_must_be_a_mapping():
    with pytest.raises(ConfigError, match="answers must be a dict"):
        recommend([("volume", 3)])


def test_recommendation_renderings():
    rec = recommend(volume=4, security=4)
    frame = rec.to_frame()
    assert list(frame.columns) == ["criterion", "answer", "native", "platform", "custom"]
    assert len(frame) == len(CRITERIA) + 1
    assert frame.iloc[-1][list(OPTIONS)].to_dict() == rec.scores
    assert frame.iloc[4]["answer"] == "millions a day"
    html = rec._repr_html_()
    assert "Custom code" in html and "millions a day" in html
    assert repr(rec).startswith("<Recommendation custom:")
    with pytest.raises(ConfigError):
        rec["zapier"]


# -- decision_helper() ------------------------------------------------------------------------


def test_decision_helper_widget_follows_answers():
    pytest.importorskip("ipywidgets")
    helper = decision_helper(custom_needs=0)
    assert helper.widget is not None
    assert helper.recommendation.answers["custom_needs"] == 0
    rec = helper.set(custom_needs=4, developer_resources=4, volume=4)
    assert rec.best == "custom" and helper.recommendation is rec
    assert helper._controls["custom_needs"].value == 4
    assert "Custom code" in helper._output.value
    # moving a slider (what the learner does) updates the ranking and the readout
    helper._controls["volume"].value = 0
    assert helper.answers["volume"] == 0
    assert helper._output.value == course._decide._ranking_html(helper.recommendation)
    helper._controls["native_available"].value = False
    assert helper.recommendation.order[-1] == "native"
    helper._controls["proof_of_concept"].value = True
    assert helper.answers["proof_of_concept"] is True
    bundle = helper._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == helper.recommendation.summary()


def test_decision_helper_text_fallback_without_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    helper = decision_helper({"speed": 4})
    assert helper.widget is None
    assert helper._repr_mimebundle_() == {"text/plain": helper.recommendation.summary()}
    assert helper.set(custom_needs=4, developer_resources=4).best == "custom"
    assert repr(helper).startswith("1. Custom code")


def test_the_readme_lists_every_notebook_on_one_line():
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8").splitlines()
    for notebook in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        lines = [line for line in readme if f"(notebooks/{notebook.name})" in line]
        assert len(lines) == 1, f"README.md should list {notebook.name} on exactly one line"
