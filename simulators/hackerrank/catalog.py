"""The simulated account's tests, as HackerRank's `TestsShow` describes them.

Three tests: two published (one with a cutoff score, one without) and one draft, which cannot
receive invites. Values a partner never reads are filled with plausible constants, because the
published schema requires every property.

Opt-in fields: the schema marks some properties `"additional": true` (among them `cutoff_score`),
and the endpoint's `additional_fields` parameter lists them with others the schema lacks
(`max_score`, `cutoff_score_percentage`, …); the introduction says such attributes "will not be
the part of the basic response" unless named. So a test carries them only when they are named.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from .spec import published_document

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
    # The points each skill's questions carry, in the order of `skills` (skills.py); empty:
    # equal points. A default, so tests stored before it existed still load.
    skill_points: tuple[float, ...] = ()


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
            skill_points=(40.0, 60.0),
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

# Opt-in fields the schema lacks but `additional_fields` lists: what the simulator can give.
_EXTRA = ("max_score", "candidate_max_score", "cutoff_score_percentage", "questions_count")


def _opt_in_properties() -> frozenset[str]:
    """The properties the published TestsShow marks `additional`."""
    properties = published_document()["definitions"]["TestsShow"]["properties"]
    return frozenset(name for name, schema in properties.items() if schema.get("additional"))


OPT_IN = _opt_in_properties() | set(_EXTRA)


def test_view(test: SimTest, additional_fields: AbstractSet[str] = frozenset()) -> dict[str, Any]:
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
    percentage = (
        None if test.cutoff_score is None else round(100 * test.cutoff_score / test.max_score, 2)
    )
    view |= {
        "max_score": test.max_score,
        "candidate_max_score": test.max_score,
        "cutoff_score_percentage": percentage,
        "questions_count": 5,
    }
    return {
        name: value
        for name, value in view.items()
        if name not in OPT_IN or name in additional_fields
    }
