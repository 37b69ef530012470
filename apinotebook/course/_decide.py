"""``recommend(answers)``: rank native, platform and custom, with the reasons.

The points and the rules are described in ``_criteria``'s docstring; this
module adds them up, ranks the options and renders the ranking as HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from apinotebook._exceptions import ConfigError
from apinotebook.course._criteria import (
    CRITERIA,
    FIT,
    NATIVE_AVAILABLE,
    OPTION_LABELS,
    OPTIONS,
    WHY,
    Criterion,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OptionScore", "Reason", "Recommendation", "recommend"]


@dataclass(frozen=True)
class Reason:
    """What one answer did to one option's score, and why."""

    criterion: str
    option: str
    answer: int | bool
    points: int
    why: str

    @property
    def text(self) -> str:
        """``"Custom needs: many rules (+2): code can express any rule ..."``."""
        crit = CRITERIA[self.criterion]
        return f"{crit.label}: {_answer_label(crit, self.answer)} ({self.points:+d}): {self.why}"


@dataclass(frozen=True)
class OptionScore:
    """One option's total score and the reasons behind it."""

    option: str
    score: int
    reasons: tuple[Reason, ...]
    available: bool = True

    @property
    def label(self) -> str:
        """``"Native connector"``, ``"Integration platform"`` or ``"Custom code"``."""
        return OPTION_LABELS[self.option]

    @property
    def pros(self) -> list[Reason]:
        """Reasons that added points, strongest first."""
        return sorted((r for r in self.reasons if r.points > 0), key=lambda r: -r.points)

    @property
    def cons(self) -> list[Reason]:
        """Reasons that took points away, strongest first."""
        return sorted((r for r in self.reasons if r.points < 0), key=lambda r: r.points)


@dataclass(frozen=True)
class Recommendation:
    """The ranking :func:`recommend` returns: best first, with reasons per criterion."""

    answers: dict[str, int | bool]
    ranking: tuple[OptionScore, ...]
    close_call: bool = field(default=False)

    @property
    def best(self) -> str:
        """The recommended option: ``"native"``, ``"platform"`` or ``"custom"``."""
        return self.ranking[0].option

    @property
    def order(self) -> tuple[str, ...]:
        """The options, best first."""
        return tuple(s.option for s in self.ranking)

    @property
    def scores(self) -> dict[str, int]:
        """``{"native": 3, "platform": 5, "custom": -2}``."""
        return {s.option: s.score for s in self.ranking}

    def __getitem__(self, option: str) -> OptionScore:
        for score in self.ranking:
            if score.option == option:
                return score
        raise ConfigError.invalid_choice("option", option, OPTIONS)

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion: the answer and the points each option got."""
        import pandas as pd

        rows = []
        for key, crit in CRITERIA.items():
            answer = self.answers[key]
            row: dict[str, Any] = {"criterion": crit.label, "answer": _answer_label(crit, answer)}
            for option in OPTIONS:
                row[option] = FIT[key][option][int(answer)]
            rows.append(row)
        total: dict[str, Any] = {"criterion": "total", "answer": ""}
        total.update(self.scores)
        rows.append(total)
        return pd.DataFrame(rows, columns=["criterion", "answer", *OPTIONS])

    def summary(self, *, reasons: int = 3) -> str:
        """The ranking in a few lines, with the strongest reasons for and against."""
        lines = []
        for place, score in enumerate(self.ranking, 1):
            note = "" if score.available else "  (not available: no built-in connector exists)"
            lines.append(f"{place}. {score.label}: {score.score:+d}{note}")
            for reason in score.pros[:reasons]:
                lines.append(f"     + {reason.text}")
            for reason in score.cons[:reasons]:
                lines.append(f"     - {reason.text}")
        if self.close_call:
            first, second = self.ranking[0], self.ranking[1]
            lines.append(
                f"A close call between {first.label.lower()} and {second.label.lower()}: "
                "they also work well together (start with one, add the other where it falls short)."
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        ranked = ", ".join(f"{s.option} {s.score:+d}" for s in self.ranking)
        return f"<Recommendation {self.best}: {ranked}>"

    def _repr_html_(self) -> str:
        return _ranking_html(self)


def _answer_label(crit: Criterion, answer: int | bool) -> str:
    return crit.levels[int(answer)]


def _normalise(answers: Mapping[str, Any]) -> tuple[dict[str, int | bool], bool]:
    valid = [*CRITERIA, NATIVE_AVAILABLE]
    out: dict[str, int | bool] = {}
    for key in answers:
        if key not in valid:
            raise ConfigError.invalid_choice("criterion", key, valid)
    for key, crit in CRITERIA.items():
        value = answers.get(key, crit.default)
        if crit.is_flag:
            if not isinstance(value, bool):
                raise ConfigError(
                    f"{key} is a yes/no question: answer True or False, not {value!r}"
                )
            out[key] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            levels = ", ".join(f"{i} = {name}" for i, name in enumerate(crit.levels))
            raise ConfigError(f"{key} must be a level from 0 to 4 ({levels}), not {value!r}")
        out[key] = value
    available = answers.get(NATIVE_AVAILABLE, True)
    if not isinstance(available, bool):
        raise ConfigError(f"{NATIVE_AVAILABLE} must be True or False, not {available!r}")
    return out, available


def recommend(answers: Mapping[str, Any] | None = None, /, **more: Any) -> Recommendation:
    """Rank native, platform and custom for a situation.

    Args:
        answers: criterion -> level 0-4 (``proof_of_concept``: ``True``/``False``);
            see :data:`CRITERIA` for the questions and what each level means.
            ``native_available=False`` says no built-in connector exists.
            Missing criteria count as the middle level (2) or ``False``.
        **more: the same, as keyword arguments.

    Returns:
        a :class:`Recommendation`: ``.best``, ``.ranking`` (scores and reasons),
        ``.to_frame()``, ``.summary()``.

    Raises:
        ConfigError: an unknown criterion or an answer out of range.
    """
    if answers is not None and not isinstance(answers, Mapping):
        raise ConfigError(
            "answers must be a dict like {'custom_needs': 3, 'proof_of_concept': True}, "
            f"not {type(answers).__name__}"
        )
    normal, native_available = _normalise({**(answers or {}), **more})
    scores = []
    for option in OPTIONS:
        reasons = []
        for key, answer in normal.items():
            points = FIT[key][option][int(answer)]
            helps, hurts = WHY[key][option]
            why = helps if points > 0 else hurts if points < 0 else "makes no difference"
            reasons.append(Reason(key, option, answer, points, why))
        available = native_available or option != "native"
        scores.append(
            OptionScore(option, sum(r.points for r in reasons), tuple(reasons), available)
        )
    ranked = sorted(scores, key=lambda s: (not s.available, -s.score, OPTIONS.index(s.option)))
    close = ranked[1].available and ranked[0].score - ranked[1].score <= 1
    answers_out = dict(normal)
    answers_out[NATIVE_AVAILABLE] = native_available
    return Recommendation(answers_out, tuple(ranked), close_call=close)


# -- rendering --------------------------------------------------------------------------------

_COLORS = {"native": "#2f6fbf", "platform": "#c77c02", "custom": "#1b7f3b"}


def _ranking_html(rec: Recommendation, *, reasons: int = 3) -> str:
    values = [s.score for s in rec.ranking]
    low, high = min([0, *values]), max([1, *values])
    span = high - low or 1
    rows = []
    for place, score in enumerate(rec.ranking, 1):
        width = max(2, round(100 * (score.score - low) / span))
        color = _COLORS[score.option] if score.available else "#999"
        note = "" if score.available else " <i>(no built-in connector exists)</i>"
        pros = "".join(f"<li>+ {escape(r.text)}</li>" for r in score.pros[:reasons])
        cons = "".join(f"<li>&minus; {escape(r.text)}</li>" for r in score.cons[:reasons])
        rows.append(
            f"<div style='margin:6px 0'><b>{place}. {escape(score.label)}</b> "
            f"<span style='color:{color};font-weight:bold'>{score.score:+d}</span>{note}"
            f"<div style='background:#eee;height:10px;width:100%;max-width:420px'>"
            f"<div style='background:{color};height:10px;width:{width}%'></div></div>"
            f"<ul style='margin:2px 0 0 0;font-size:12px'>{pros}{cons}</ul></div>"
        )
    close = ""
    if rec.close_call:
        close = (
            "<div style='font-size:12px;color:#555'>A close call: the top two also work well "
            "together — start with one and add the other where it falls short.</div>"
        )
    return f"<div class='apinotebook-recommendation'>{''.join(rows)}{close}</div>"
