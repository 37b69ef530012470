"""Graduated exercises: a stub to fill in, a check that names the mistake, hints, a solution.

Each notebook ends with exercises shipped as stubs (a function whose body is ``...``). The
learner writes the body and runs ``course.exercise("07.1").check(to_subscriber)``: the
check probes the answer with the cases that tell typical mistakes apart and says *which*
mistake it found ("you keyed on the contact id, but the list is keyed by email"), not
only "wrong". ``course.hint("07.1")`` gives the next hint; ``course.solution("07.1")``
shows a worked answer, so it is never sitting in the cell.

Every exercise carries its typical wrong answers (:class:`Mistake`); the course tests run
each exercise with its solution (the check passes) and with every mistake (the check
says "not yet" and the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from apinotebook.course._checks import Verdict

__all__ = ["Exercise", "Judge", "Mistake", "Solution"]

#: A judge returns ``None`` when the answer is right, else what is wrong with it.
Judge = Callable[[Any], str | None]


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer (source defining the exercise's name) and what the check says."""

    answer: str
    says: str


class Solution:
    """A worked answer, shown as code (in Jupyter) or text."""

    def __init__(self, exercise_id: str, code: str) -> None:
        self.exercise_id = exercise_id
        self.code = code

    def __repr__(self) -> str:
        return f"# a solution to exercise {self.exercise_id}\n{self.code}"

    def _repr_markdown_(self) -> str:
        return f"A solution to exercise **{self.exercise_id}**:\n\n```python\n{self.code}\n```"


@dataclass
class Exercise:
    """One exercise: what to write, how it is judged, hints, a solution, typical mistakes."""

    id: str
    title: str
    task: str
    stub: str
    judge: Judge
    hints: tuple[str, ...]
    solution: str
    mistakes: tuple[Mistake, ...]
    _hints_given: int = field(default=0, repr=False)

    def check(self, answer: Any) -> Verdict:
        """Judge ``answer`` and say what is right or which mistake it makes."""
        empty = (
            f"the stub is still empty. Write its body, then run the check again; "
            f'course.hint("{self.id}") helps.'
        )
        if answer is None or answer is Ellipsis:
            return Verdict(False, f"✘ Not yet ({self.id}): {empty}")
        try:
            problem = self.judge(answer)
        except NotImplementedError:
            problem = empty
        except Exception as exc:  # noqa: BLE001 - a broken answer is a wrong answer
            problem = f"your code raised {type(exc).__name__}: {exc}"
        if problem is None:
            return Verdict(True, f"✔ {self.id} {self.title}: right.")
        return Verdict(False, f"✘ Not yet ({self.id}): {problem}")

    def hint(self) -> str:
        """The next hint (the last one repeats)."""
        text = self.hints[min(self._hints_given, len(self.hints) - 1)]
        self._hints_given += 1
        return f"Hint {min(self._hints_given, len(self.hints))}/{len(self.hints)}: {text}"

    def _repr_html_(self) -> str:
        return f"<b>{escape(self.id)} · {escape(self.title)}</b><p>{escape(self.task)}</p>"
