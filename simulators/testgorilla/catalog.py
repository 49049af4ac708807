"""The simulated account's assessments and their tests, and the results a finished test gives.

Scored algorithms (`basic`, `custom_questions`) give 0–100; personality algorithms give no
score, only a `score_display` in the vendor's notation (docs.testgorilla.com/apis/result-types).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AssessmentStatus = Literal["new", "active", "archived"]

SCORED_ALGORITHMS = frozenset({"basic", "custom_questions"})
# What a personality test shows when a completion names no result for it.
DEFAULT_DISPLAYS = {
    "big_5": "3-3-4-2-4_30.0-32.0-36.0-24.0-35.0",
    "disc": "DI",
    "16_types": "INTJ",
    "enneagram": "Go-getter",
    "culture_fit": "Strong culture add",
}
DEFAULT_SCORE = 75.0


@dataclass(frozen=True)
class Test:
    __test__ = False  # not a pytest test class, despite the name

    id: int
    name: str
    algorithm: str
    description: str

    @property
    def scored(self) -> bool:
        return self.algorithm in SCORED_ALGORITHMS


@dataclass(frozen=True)
class Assessment:
    id: int
    name: str
    status: AssessmentStatus
    tests: tuple[Test, ...]


ASSESSMENTS: tuple[Assessment, ...] = (
    Assessment(
        101,
        "Python developer",
        "active",
        (
            Test(
                7244,
                "Python (coding): data structures",
                "basic",
                "Lists, dictionaries and sets in everyday Python.",
            ),
            Test(311, "Problem solving", "basic", "Reasoning with numbers, text and patterns."),
            Test(494, "Big 5 (OCEAN)", "big_5", "The five-factor model of personality."),
        ),
    ),
    Assessment(
        102,
        "Customer service representative",
        "new",
        (
            Test(118, "Communication", "basic", "Written communication with customers."),
            Test(
                612,
                "DISC",
                "disc",
                "Behavioural style: dominance, influence, steadiness, conscientiousness.",
            ),
            Test(9001, "Custom questions", "custom_questions", "The employer's own questions."),
        ),
    ),
    Assessment(
        103,
        "Data analyst",
        "active",
        (
            Test(233, "Data analysis", "basic", "Reading tables and charts, spotting trends."),
            Test(520, "16 Types", "16_types", "Personality type in four dimensions."),
            Test(
                701, "Culture add", "culture_fit", "How the candidate's values add to the team's."
            ),
        ),
    ),
    Assessment(
        104,
        "Sales manager (2022)",
        "archived",
        (Test(145, "Negotiation", "basic", "Reaching agreements that hold."),),
    ),
    Assessment(
        105,
        "Project manager",
        "active",
        (
            Test(388, "Project management", "basic", "Planning, risks and stakeholders."),
            Test(389, "Enneagram", "enneagram", "Motivations in nine types."),
        ),
    ),
)
