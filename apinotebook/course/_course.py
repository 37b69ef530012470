"""Helpers for the course notebooks: self-checking exercises and the decision helper.

``check(condition, success, hint)`` prints a clear verdict for an exercise
cell; it never raises, so a learner's wrong answer does not stop the notebook.

``recommend(answers)`` ranks the three ways to build an integration — a
**native** connector, an integration **platform**, **custom** code — for a
situation described by eight criteria; ``decision_helper()`` is the same
function behind sliders (ipywidgets), with a text fallback.

How the scoring works
---------------------

Each criterion is answered with a level from 0 to 4 (``proof_of_concept`` with
``True``/``False``); a missing answer counts as the middle level (2) or
``False``. :data:`FIT` gives, per criterion and option, the points each level
earns (levels 0 to 4 from left to right; for the flag: no, yes)::

    criterion             native            platform          custom
    custom_needs          +2 +1 -1 -3 -4    +1 +1 +1 -1 -3    -2 -1  0 +2 +4
    developer_resources   +2 +1  0  0  0    +1 +1  0  0  0    -4 -2  0 +1 +2
    data_control          +1  0 -1 -2 -3    +1 +1  0 -1 -2    -1  0  0 +2 +3
    security               0  0  0 -1 -2    +1  0 -1 -2 -3    -1  0  0 +1 +3
    volume                 0  0  0 -1 -2    +1 +1 -1 -2 -4    -1  0  0 +2 +3
    speed                  0 +1 +1 +2 +3     0 +1 +1 +2 +2    +1  0 -1 -2 -3
    budget                +2 +1  0  0  0    -2 -1  0 +1 +1    -2 -1  0 +1 +1
    proof_of_concept       0 +1              0 +2              0 -1

What the levels mean (:data:`CRITERIA` has them as text): *custom needs* from
"standard sync" to "logic only code can express"; *developer resources* from
"no developers" to "a team"; *data-flow control* from "vendor defaults are
fine" to "full control"; *security* from "basic" to "data must stay
in-house"; *volume* from "a few a day" to "millions a day"; *speed* (how soon
it must run) from "no deadline" to "today"; *budget* (money for licences,
building and hosting) from "none" to "generous".

An option's score is the sum of its points; every non-zero entry comes with a
sentence saying why (:data:`WHY`). The options are ranked by score; ties go to
the simpler option (native, then platform, then custom). One precondition is
not scored: with ``native_available=False`` (no built-in connector exists for
these two applications) the native option is ranked last and marked
unavailable, whatever its score. When the top two options are within one
point, the recommendation calls it a close call (``close_call``): the two
also work well side by side. The numbers are a teaching model, not a
law: they encode the trade-offs the course measures (setup time, lines of
code, flexibility, who maintains what) and are small enough to read and
argue with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from apinotebook._exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CRITERIA",
    "FIT",
    "OPTIONS",
    "WHY",
    "Criterion",
    "DecisionHelper",
    "OptionScore",
    "Reason",
    "Recommendation",
    "Verdict",
    "check",
    "decision_helper",
    "recommend",
]


# -- self-checks ----------------------------------------------------------------------------


class Verdict:
    """The outcome of a self-check: truthy when the learner got it right."""

    def __init__(self, ok: bool, message: str) -> None:
        self.ok = ok
        self.message = message

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        color = "#1b7f3b" if self.ok else "#b00020"
        return f"<div style='color:{color};font-weight:bold'>{escape(self.message)}</div>"


def check(condition: Any, success: str = "Correct!", hint: str = "Not yet.") -> Verdict:
    """Judge an exercise: ``check(answer == 42, "Right!", "Count the pages again.")``."""
    try:
        ok = bool(condition() if callable(condition) else condition)
    except Exception as exc:  # noqa: BLE001 - a broken answer is a wrong answer, not a crash
        return Verdict(False, f"✘ {hint} (your code raised {type(exc).__name__}: {exc})")
    return Verdict(ok, f"✔ {success}" if ok else f"✘ {hint}")


# -- the decision model ----------------------------------------------------------------------

#: The three ways to build an integration, simplest first (the tie-break order).
OPTIONS: tuple[str, ...] = ("native", "platform", "custom")

OPTION_LABELS: dict[str, str] = {
    "native": "Native connector",
    "platform": "Integration platform",
    "custom": "Custom code",
}


@dataclass(frozen=True)
class Criterion:
    """One question of the decision helper.

    ``levels`` names the answers: five for a 0-4 scale, two (no, yes) for a flag.
    """

    key: str
    label: str
    question: str
    levels: tuple[str, ...]
    default: int | bool = 2

    @property
    def is_flag(self) -> bool:
        """Whether the answer is ``True``/``False`` rather than a level 0-4."""
        return len(self.levels) == 2


_CRITERIA = (
    Criterion(
        "custom_needs",
        "Custom needs",
        "How much logic of your own does the flow need?",
        (
            "standard sync",
            "a filter or two",
            "some rules",
            "many rules",
            "logic only code can express",
        ),
    ),
    Criterion(
        "developer_resources",
        "Developer resources",
        "Who can build and maintain it?",
        ("no developers", "occasional help", "a part-time developer", "a developer", "a team"),
    ),
    Criterion(
        "data_control",
        "Data-flow control",
        "How much must you control what moves, when, and how failures are handled?",
        ("vendor defaults are fine", "a little", "some", "a lot", "full control"),
    ),
    Criterion(
        "security",
        "Security",
        "How strict are the security and compliance rules?",
        ("basic", "standard", "elevated", "strict", "data must stay in-house"),
    ),
    Criterion(
        "volume",
        "Volume",
        "How many records move?",
        (
            "a few a day",
            "hundreds a day",
            "thousands a day",
            "hundreds of thousands a day",
            "millions a day",
        ),
    ),
    Criterion(
        "speed",
        "Speed",
        "How soon must it run?",
        ("no deadline", "this quarter", "this month", "this week", "today"),
    ),
    Criterion(
        "budget",
        "Budget",
        "How much money is there for licences, building and hosting?",
        ("none", "small", "moderate", "comfortable", "generous"),
    ),
    Criterion(
        "proof_of_concept",
        "Proof of concept",
        "Is this an experiment to find out whether the flow is worth having?",
        ("no, it is for keeps", "yes, an experiment"),
        default=False,
    ),
)

#: The eight criteria, in the order the helper asks them.
CRITERIA: dict[str, Criterion] = {c.key: c for c in _CRITERIA}

#: The precondition that is not scored: does a built-in connector exist at all?
NATIVE_AVAILABLE = "native_available"

#: Points per criterion, option and level (flags: index 0 = False, 1 = True).
FIT: dict[str, dict[str, tuple[int, ...]]] = {
    "custom_needs": {
        "native": (2, 1, -1, -3, -4),
        "platform": (1, 1, 1, -1, -3),
        "custom": (-2, -1, 0, 2, 4),
    },
    "developer_resources": {
        "native": (2, 1, 0, 0, 0),
        "platform": (1, 1, 0, 0, 0),
        "custom": (-4, -2, 0, 1, 2),
    },
    "data_control": {
        "native": (1, 0, -1, -2, -3),
        "platform": (1, 1, 0, -1, -2),
        "custom": (-1, 0, 0, 2, 3),
    },
    "security": {
        "native": (0, 0, 0, -1, -2),
        "platform": (1, 0, -1, -2, -3),
        "custom": (-1, 0, 0, 1, 3),
    },
    "volume": {
        "native": (0, 0, 0, -1, -2),
        "platform": (1, 1, -1, -2, -4),
        "custom": (-1, 0, 0, 2, 3),
    },
    "speed": {
        "native": (0, 1, 1, 2, 3),
        "platform": (0, 1, 1, 2, 2),
        "custom": (1, 0, -1, -2, -3),
    },
    "budget": {
        "native": (2, 1, 0, 0, 0),
        "platform": (-2, -1, 0, 1, 1),
        "custom": (-2, -1, 0, 1, 1),
    },
    "proof_of_concept": {
        "native": (0, 1),
        "platform": (0, 2),
        "custom": (0, -1),
    },
}

#: Why a criterion helps (first) or hurts (second) an option.
WHY: dict[str, dict[str, tuple[str, str]]] = {
    "custom_needs": {
        "native": (
            "the standard sync is exactly what a built-in connector does",
            "a built-in connector does only what the vendor built: no rules of your own",
        ),
        "platform": (
            "filters and field templates cover everyday rules",
            "rules beyond filters and templates (lookups, branching on other data) fight the "
            "template language",
        ),
        "custom": (
            "code can express any rule: lookups, branching, computed fields",
            "writing code for a standard sync is effort a connector would save",
        ),
    },
    "developer_resources": {
        "native": ("no developer needed: you switch it on", ""),
        "platform": ("analysts can configure it without a developer", ""),
        "custom": (
            "developers are there to build, review and maintain the code",
            "custom code needs developers to build it and to keep it running",
        ),
    },
    "data_control": {
        "native": (
            "the vendor's defaults are all the control you need",
            "the vendor decides what moves, when, and what happens on errors",
        ),
        "platform": (
            "filters and mappings give you enough control",
            "control stops at what the platform exposes: batching, ordering and retries are "
            "its own",
        ),
        "custom": (
            "you decide every field, batch, retry and where the state lives",
            "full control is effort you do not need here",
        ),
    },
    "security": {
        "native": (
            "data moves directly between two vendors you already trust",
            "you cannot audit the vendor's connector or choose where it runs",
        ),
        "platform": (
            "a third party in the middle is acceptable here",
            "a third-party platform in the middle sees every record and holds your credentials",
        ),
        "custom": (
            "it runs on your infrastructure: credentials stay with you and the code can be audited",
            "you would own secrets, hosting and patching for little security gain",
        ),
    },
    "volume": {
        "native": (
            "",
            "vendor connectors sync on their own schedule and limits; you cannot tune throughput",
        ),
        "platform": (
            "small volumes fit cheaply in per-task pricing",
            "per-task pricing and platform throughput limits bite at this volume",
        ),
        "custom": (
            "batching, concurrency and incremental sync scale with your data",
            "a few records a day do not justify running your own service",
        ),
    },
    "speed": {
        "native": ("switching a connector on takes minutes", ""),
        "platform": ("a recipe can run within the hour", ""),
        "custom": (
            "there is time to build, test and review code",
            "code takes days to build, test and deploy",
        ),
    },
    "budget": {
        "native": ("a native connector usually comes with the subscription", ""),
        "platform": (
            "the platform's subscription fits the budget",
            "platform subscriptions and per-task fees need a budget",
        ),
        "custom": (
            "there is money for development and hosting",
            "development and hosting cost money up front",
        ),
    },
    "proof_of_concept": {
        "native": ("the quickest way to find out whether syncing helps at all", ""),
        "platform": ("quick to assemble and cheap to throw away when the experiment ends", ""),
        "custom": (
            "",
            "production code is a heavy investment for an experiment (a notebook prototype is "
            "the exception)",
        ),
    },
}


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


class DecisionHelper:
    """The decision helper: sliders and toggles for each criterion, a live ranking.

    Built by :func:`decision_helper`. In a notebook with ipywidgets it shows
    the controls; elsewhere it shows the text summary. Either way
    :attr:`answers` and :attr:`recommendation` hold the current state, and
    :meth:`set` changes answers from code (the sliders follow).
    """

    def __init__(self, answers: Mapping[str, Any] | None = None) -> None:
        self.recommendation = recommend(answers or {})
        self.widget: Any = None
        self._controls: dict[str, Any] = {}
        self._output: Any = None
        try:
            import ipywidgets
        except ImportError:
            return
        self._build(ipywidgets)

    @property
    def answers(self) -> dict[str, int | bool]:
        """The current answers (every criterion, plus ``native_available``)."""
        return dict(self.recommendation.answers)

    def set(self, **answers: Any) -> Recommendation:
        """Change some answers; returns the new recommendation."""
        self.recommendation = recommend({**self.answers, **answers})
        for key, control in self._controls.items():
            control.value = self.recommendation.answers[key]
        self._render()
        return self.recommendation

    def _build(self, widgets: Any) -> None:
        rows = []
        for key, crit in CRITERIA.items():
            value = self.recommendation.answers[key]
            if crit.is_flag:
                control = widgets.Checkbox(
                    value=bool(value), description=crit.levels[1], indent=False
                )
                readout = widgets.HTML("")
            else:
                control = widgets.IntSlider(
                    value=int(value),
                    min=0,
                    max=4,
                    step=1,
                    readout=False,
                    continuous_update=True,
                    layout=widgets.Layout(width="180px"),
                )
                readout = widgets.HTML(f"<i>{escape(crit.levels[int(value)])}</i>")
            title = widgets.HTML(
                f"<b>{escape(crit.label)}</b><br><span style='font-size:11px;color:#555'>"
                f"{escape(crit.question)}</span>",
                layout=widgets.Layout(width="300px"),
            )
            control.observe(self._changed(key, readout), names="value")
            self._controls[key] = control
            rows.append(widgets.HBox([title, control, readout]))
        native = widgets.Checkbox(
            value=bool(self.recommendation.answers[NATIVE_AVAILABLE]),
            description="a built-in connector exists for these two apps",
            indent=False,
        )
        native.observe(self._changed(NATIVE_AVAILABLE, None), names="value")
        self._controls[NATIVE_AVAILABLE] = native
        rows.append(native)
        self._output = widgets.HTML(_ranking_html(self.recommendation))
        controls = widgets.VBox(rows, layout=widgets.Layout(min_width="560px"))
        self.widget = widgets.HBox([controls, self._output])

    def _changed(self, key: str, readout: Any) -> Any:
        def on_change(change: Mapping[str, Any]) -> None:
            value = change["new"]
            if self.recommendation.answers.get(key) == value:
                return
            self.recommendation = recommend({**self.answers, key: value})
            if readout is not None and not CRITERIA[key].is_flag:
                readout.value = f"<i>{escape(CRITERIA[key].levels[int(value)])}</i>"
            self._render()

        return on_change

    def _render(self) -> None:
        if self._output is not None:
            self._output.value = _ranking_html(self.recommendation)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = {}
        if self.widget is not None:
            widget_bundle = self.widget._repr_mimebundle_(**kwargs)
            if isinstance(widget_bundle, tuple):
                widget_bundle = widget_bundle[0]
            bundle.update(widget_bundle or {})
        bundle["text/plain"] = self.recommendation.summary()  # what a static viewer shows
        return bundle

    def __repr__(self) -> str:
        return self.recommendation.summary()


def decision_helper(answers: Mapping[str, Any] | None = None, /, **more: Any) -> DecisionHelper:
    """Sliders and toggles for the eight criteria, with a live ranking and reasons.

    Needs ipywidgets (the ``notebook`` extra) to show the controls; without
    it, it shows :meth:`Recommendation.summary` for the given answers, and
    :meth:`DecisionHelper.set` still works.
    """
    return DecisionHelper({**dict(answers or {}), **more})
