"""The decision model's data: the options, the eight criteria, their points and reasons.

``recommend(answers)`` (in ``_decide``) ranks the three ways to build an
integration — a **native** connector, an integration **platform**, **custom**
code — for a situation described by the criteria below; ``decision_helper()``
is the same function behind sliders (ipywidgets), with a text fallback.

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

from dataclasses import dataclass

__all__ = ["CRITERIA", "FIT", "NATIVE_AVAILABLE", "OPTIONS", "OPTION_LABELS", "WHY", "Criterion"]

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
