"""The simulated account's tests, as HackerRank's `TestsShow` describes them.

Three tests: two published (one with a cutoff score, one without) and one draft, which cannot
receive invites. Values a partner never reads are filled with plausible constants, because the
published schema requires every property.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OWNER_ID = "7nq2x1Lp"
CREATED_AT = "2025-01-06T09:00:00+0000"


@dataclass(frozen=True)
class SimTest:
    id: str
    unique_id: str
    name: str
    duration: int  # minutes
    max_score: float
    cutoff_score: int | None  # None: no automatic qualification
    skills: tuple[str, ...]
    tags: tuple[str, ...] = ()
    draft: bool = False


TESTS: dict[str, SimTest] = {
    test.id: test
    for test in (
        SimTest(
            id="1529353",
            unique_id="py-dev-screen",
            name="Python Developer Screen",
            duration=60,
            max_score=100.0,
            cutoff_score=60,
            skills=("Problem Solving (Basic)", "Python (Intermediate)"),
            tags=("Python", "Backend"),
        ),
        SimTest(
            id="1529354",
            unique_id="sql-fundamentals",
            name="SQL Fundamentals",
            duration=45,
            max_score=60.0,
            cutoff_score=None,
            skills=("SQL (Basic)",),
            tags=("SQL",),
        ),
        SimTest(
            id="1529355",
            unique_id="java-challenge-draft",
            name="Java Challenge (draft)",
            duration=90,
            max_score=150.0,
            cutoff_score=None,
            skills=("Java (Intermediate)",),
            draft=True,
        ),
    )
}

# Fields a partner gets only when it names them in `additional_fields`.
_ADDITIONAL = {"max_score", "candidate_max_score", "questions_count"}


def test_view(test: SimTest, additional_fields: set[str] = frozenset()) -> dict[str, Any]:
    """The test as `GET /tests` and `GET /tests/{id}` answer it (TestsIndex / TestsShow)."""
    view: dict[str, Any] = {
        "id": test.id,
        "unique_id": test.unique_id,
        "name": test.name,
        "starttime": None,
        "endtime": None,
        "duration": test.duration,
        "owner": OWNER_ID,
        "instructions": "<ul><li>Please take this test in a single sitting.</li></ul>",
        "starred": False,
        "created_at": CREATED_AT,
        "state": "active",
        "locked": False,
        "draft": test.draft,
        "languages": ["python3", "java8"],
        "candidate_details": [],
        "custom_acknowledge_text": "I will not consult or copy code from any source.",
        "cutoff_score": test.cutoff_score,
        "master_password": None,
        "hide_compile_test": None,
        "tags": list(test.tags),
        "role_ids": [],
        "experience": [],
        "questions": None,
        "sections": None,
        "mcq_incorrect_score": 0,
        "mcq_correct_score": 5,
        "locked_by": None,
        "short_login_url": None,
        "public_login_url": None,
        "shuffle_questions": None,
        "test_admins": None,
        "hide_template": None,
        "enable_acknowledgement": None,
        "enable_proctoring": False,
        "enable_advanced_proctoring": False,
        "enable_secure_assessment_mode": False,
        "enable_ml_plagiarism_analysis": False,
        "enable_photo_identification": False,
        "ide_config": "ide",
    }
    extra = {"max_score": test.max_score, "candidate_max_score": test.max_score, "questions_count": 5}
    view.update({name: extra[name] for name in additional_fields & _ADDITIONAL})
    return view
