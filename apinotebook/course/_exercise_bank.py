"""Every exercise of the course, by id, and the notebook's entry points to them.

``course.exercise("07.1")`` is the exercise (``.check(answer)``), ``course.hint("07.1")``
prints the next hint and ``course.solution("07.1")`` shows a worked answer.
"""

from __future__ import annotations

from apinotebook._exceptions import ConfigError
from apinotebook.course._bank_apis import API_EXERCISES
from apinotebook.course._bank_integrations import INTEGRATION_EXERCISES
from apinotebook.course._exercises import Exercise, Solution

__all__ = ["EXERCISES", "exercise", "hint", "solution"]

#: Every exercise by id ("07.1").
EXERCISES: dict[str, Exercise] = {}
for _item in (*API_EXERCISES, *INTEGRATION_EXERCISES):
    if _item.id in EXERCISES:
        raise ConfigError(f"exercise {_item.id} is defined twice")
    EXERCISES[_item.id] = _item


def exercise(exercise_id: str) -> Exercise:
    """The exercise called ``exercise_id`` ("07.1")."""
    if exercise_id not in EXERCISES:
        raise ConfigError.invalid_choice("exercise", exercise_id, EXERCISES)
    return EXERCISES[exercise_id]


def hint(exercise_id: str) -> None:
    """Print the next hint for an exercise."""
    print(exercise(exercise_id).hint())


def solution(exercise_id: str) -> Solution:
    """A worked solution, shown in the notebook (try the hints first)."""
    return Solution(exercise_id, exercise(exercise_id).solution)
