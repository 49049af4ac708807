"""The vendor's fixed catalog (packages, their tests and questions) and how submissions are scored.

Skills tests score each test as the percentage of its questions answered correctly and the
package as the mean of its test scores. A background check has nothing to grade: the sandbox
always comes back clear, which is what a partner integration sees in the overwhelming majority
of real checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

PackageKind = Literal["skills_test", "background_check"]
Outcome = Literal["passed", "failed", "clear"]

MAX_SCORE = 100.0
PASS_MARK = 60.0


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    code: str | None = None  # a snippet shown under the prompt, verbatim


@dataclass(frozen=True)
class PackageTest:
    id: str
    name: str
    description: str
    questions: tuple[Question, ...] = ()
    # Background checks only: what a clear result of this test means, for the result summary.
    clear_finding: str | None = None


@dataclass(frozen=True)
class Package:
    id: str
    name: str
    description: str
    kind: PackageKind
    tests: tuple[PackageTest, ...]


class PackageTestResult(BaseModel):
    __test__ = False  # not a pytest test class, despite the name

    id: str
    name: str
    score: float | None
    max_score: float | None
    outcome: Outcome


class AssessmentResult(BaseModel):
    score: float | None
    max_score: float | None
    outcome: Outcome
    summary: str
    tests: list[PackageTestResult]


PACKAGES: dict[str, Package] = {
    package.id: package
    for package in (
        Package(
            id="skills-fullstack",
            name="Full-stack developer skills",
            description="Python and SQL fundamentals for full-stack developer roles.",
            kind="skills_test",
            tests=(
                PackageTest(
                    id="python-basics",
                    name="Python basics",
                    description="Core Python built-ins and data types.",
                    questions=(
                        Question(
                            id="py-len",
                            prompt="What does this expression return?",
                            code="len([1, 2, 3])",
                            choices=("2", "3", "4", "[1, 2, 3]"),
                            answer=1,
                        ),
                        Question(
                            id="py-dict-get",
                            prompt="What does this expression return?",
                            code="{'a': 1}.get('b', 0)",
                            choices=("None", "0", "It raises KeyError", "'b'"),
                            answer=1,
                        ),
                        Question(
                            id="py-immutable",
                            prompt="Which of these built-in types is immutable?",
                            choices=("list", "dict", "tuple", "set"),
                            answer=2,
                        ),
                    ),
                ),
                PackageTest(
                    id="sql-basics",
                    name="SQL basics",
                    description="Filtering, joins and NULL semantics.",
                    questions=(
                        Question(
                            id="sql-having",
                            prompt="Which clause filters groups after aggregation?",
                            choices=("WHERE", "HAVING", "ORDER BY", "LIMIT"),
                            answer=1,
                        ),
                        Question(
                            id="sql-null",
                            prompt="What does this query return in standard SQL?",
                            code="SELECT NULL = NULL;",
                            choices=("TRUE", "FALSE", "NULL"),
                            answer=2,
                        ),
                        Question(
                            id="sql-left-join",
                            prompt=(
                                "Which join returns every row of the left table, with NULLs"
                                " where the right table has no match?"
                            ),
                            choices=("INNER JOIN", "LEFT JOIN", "CROSS JOIN"),
                            answer=1,
                        ),
                    ),
                ),
            ),
        ),
        Package(
            id="logic-quiz",
            name="Logic quiz",
            description="A short numerical and verbal reasoning quiz.",
            kind="skills_test",
            tests=(
                PackageTest(
                    id="logic",
                    name="Logic",
                    description="Sequences and syllogisms.",
                    questions=(
                        Question(
                            id="logic-sequence",
                            prompt="Which number comes next: 2, 4, 8, 16, …?",
                            choices=("18", "24", "32", "64"),
                            answer=2,
                        ),
                        Question(
                            id="logic-syllogism",
                            prompt=(
                                "All bloops are razzies and all razzies are lazzies."
                                " Are all bloops lazzies?"
                            ),
                            choices=("Yes", "No", "It cannot be determined"),
                            answer=0,
                        ),
                    ),
                ),
            ),
        ),
        Package(
            id="background-standard",
            name="Standard background check",
            description="Identity verification and a criminal record check.",
            kind="background_check",
            tests=(
                PackageTest(
                    id="identity",
                    name="Identity verification",
                    description="Confirms the candidate is who they say they are.",
                    clear_finding="identity verified",
                ),
                PackageTest(
                    id="criminal-record",
                    name="Criminal record check",
                    description="Searches national criminal records.",
                    clear_finding="no criminal record found",
                ),
            ),
        ),
    )
}


def grade(package: Package, answers: Mapping[str, int | None]) -> AssessmentResult:
    """Score a candidate's answers (question id -> chosen index); unanswered counts as wrong."""
    if package.kind == "background_check":
        return _clear(package)
    correct = {
        test.id: sum(answers.get(q.id) == q.answer for q in test.questions)
        for test in package.tests
    }
    scores = {test.id: MAX_SCORE * correct[test.id] / len(test.questions) for test in package.tests}
    question_count = sum(len(test.questions) for test in package.tests)
    return _skills_result(
        package, scores, detail=f"{sum(correct.values())} of {question_count} correct"
    )


def grade_uniformly(package: Package, score: float) -> AssessmentResult:
    """A result with every test at `score`, for the control API's scripted completions."""
    if package.kind == "background_check":
        return _clear(package)
    return _skills_result(package, {test.id: score for test in package.tests})


def _skills_result(
    package: Package, scores: Mapping[str, float], detail: str | None = None
) -> AssessmentResult:
    overall = sum(scores.values()) / len(scores)
    outcome = _outcome(overall)
    detail_text = f" ({detail})" if detail else ""
    return AssessmentResult(
        score=overall,
        max_score=MAX_SCORE,
        outcome=outcome,
        summary=f"Scored {overall:.0f}%{detail_text}: {outcome}.",
        tests=[
            PackageTestResult(
                id=test.id,
                name=test.name,
                score=scores[test.id],
                max_score=MAX_SCORE,
                outcome=_outcome(scores[test.id]),
            )
            for test in package.tests
        ],
    )


def _clear(package: Package) -> AssessmentResult:
    findings = ", ".join(test.clear_finding or f"{test.name} clear" for test in package.tests)
    return AssessmentResult(
        score=None,
        max_score=None,
        outcome="clear",
        summary=f"Background check clear: {findings}.",
        tests=[
            PackageTestResult(
                id=test.id, name=test.name, score=None, max_score=None, outcome="clear"
            )
            for test in package.tests
        ],
    )


def _outcome(score: float) -> Outcome:
    return "passed" if score >= PASS_MARK else "failed"
