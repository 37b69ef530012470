"""Every exercise: its solution passes, and each typical mistake gets "not yet" and its reason."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from apinotebook import ConfigError, course
from apinotebook.course._exercise_bank import EXERCISES
from apinotebook.course._exercises import Solution

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CASES = [(ex.id, m) for ex in EXERCISES.values() for m in ex.mistakes]


def answer(source: str) -> Any:
    """What the learner defined: the one public name the source binds."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<answer>", "exec"), namespace)  # noqa: S102 - our own test sources
    names = [
        n for n in namespace if not n.startswith("_") and n not in ("Decimal", "ROUND_HALF_UP")
    ]
    assert len(names) == 1, names
    return namespace[names[0]]


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_the_solution_passes(exercise_id):
    ex = course.exercise(exercise_id)
    verdict = ex.check(answer(ex.solution))
    assert verdict.ok, verdict.message


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_the_empty_stub_is_not_yet_and_says_so(exercise_id):
    ex = course.exercise(exercise_id)
    verdict = ex.check(answer(ex.stub))
    assert not verdict.ok
    assert "stub is still empty" in verdict.message or "not GraphQL yet" in verdict.message


@pytest.mark.parametrize(
    ("exercise_id", "mistake"), CASES, ids=[f"{eid}-{n}" for n, (eid, _) in enumerate(CASES)]
)
def test_a_typical_mistake_is_not_yet_and_named(exercise_id, mistake):
    verdict = course.exercise(exercise_id).check(answer(mistake.answer))
    assert not verdict.ok
    assert mistake.says in verdict.message, verdict.message


def test_every_exercise_has_hints_and_at_least_two_mistakes():
    assert len(EXERCISES) >= 12
    for ex in EXERCISES.values():
        assert len(ex.mistakes) >= 2, ex.id
        assert ex.hints, ex.id


def test_hints_come_one_at_a_time(capsys):
    ex = course.exercise("07.2")
    ex._hints_given = 0
    course.hint("07.2")
    course.hint("07.2")
    course.hint("07.2")  # the last repeats
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Hint 1/2") and lines[1].startswith("Hint 2/2")
    assert lines[2] == lines[1]


def test_the_solution_is_shown_on_request_not_in_the_notebook():
    shown = course.solution("09.2")
    assert isinstance(shown, Solution) and "def merge_fields" in shown._repr_markdown_()
    for exercise_id, ex in EXERCISES.items():
        notebook = next(NOTEBOOKS.glob(f"{exercise_id.split('.')[0]}_*.ipynb"))
        code = "".join(
            "".join(c["source"])
            for c in json.loads(notebook.read_text())["cells"]
            if c["cell_type"] == "code"
        )
        assert f'course.exercise("{exercise_id}")' in code, (
            f"{exercise_id} is not in {notebook.name}"
        )
        telling = [
            line.strip()
            for line in ex.solution.splitlines()
            if len(line.strip()) >= 25 and line.strip() not in ex.stub and "import" not in line
        ]
        leaked = [line for line in telling if line in code]
        assert telling and not leaked, f"the solution of {exercise_id} is in {notebook.name}"


def test_an_answer_that_raises_is_a_wrong_answer_not_a_crash():
    verdict = course.exercise("01.1").check(lambda status: 1 / 0)
    assert not verdict.ok and "ZeroDivisionError" in verdict.message


def test_an_unknown_exercise_is_a_config_error():
    with pytest.raises(ConfigError, match=re.escape("Unknown exercise '7.1'")):
        course.exercise("7.1")
