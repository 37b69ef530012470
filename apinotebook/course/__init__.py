"""Helpers for the course notebooks: self-checking exercises and the decision helper."""

from apinotebook.course._checks import Verdict, check
from apinotebook.course._criteria import CRITERIA, FIT, OPTIONS, WHY, Criterion
from apinotebook.course._decide import OptionScore, Reason, Recommendation, recommend
from apinotebook.course._exercise_bank import exercise, hint, solution
from apinotebook.course._exercises import Exercise, Mistake
from apinotebook.course._helper_ui import DecisionHelper, decision_helper

__all__ = [
    "CRITERIA",
    "FIT",
    "OPTIONS",
    "WHY",
    "Criterion",
    "DecisionHelper",
    "Exercise",
    "Mistake",
    "OptionScore",
    "Reason",
    "Recommendation",
    "Verdict",
    "check",
    "decision_helper",
    "exercise",
    "hint",
    "recommend",
    "solution",
]
