"""Helpers for the course notebooks: self-checking exercises and the decision helper."""

from apinotebook.course._course import (
    CRITERIA,
    FIT,
    OPTIONS,
    WHY,
    Criterion,
    DecisionHelper,
    OptionScore,
    Reason,
    Recommendation,
    Verdict,
    check,
    decision_helper,
    recommend,
)

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
