"""How a candidate's score splits per skill (`scores_skills_split`).

The Swagger says only "Score of candidate split per skill"; its example gives two skills 100 and
0 beside a `percentage_score` of 50. **Our assumption**, which that example fits: each skill's
score is a percentage of the points its questions carry, so the overall percentage is the mean
of the skill percentages weighted by each skill's points (`SimTest.skill_points`).

The simulator has no questions to grade, so unless a submission names the skill scores it
spreads the overall percentage deterministically: the first skill scores above the overall and
the last below, up to 24 points apart, closer where a skill would leave 0..100; the weighted mean
stays the overall percentage (to the 2 decimals the scores are rounded to). Every skill alike
would hide a mapping that puts one score on every section.
"""

from __future__ import annotations

from collections.abc import Mapping

from .catalog import SimTest

# How far apart the first and the last skill's scores are at most, in percentage points.
SPREAD = 24.0
# A named split and a named score agree when their percentages differ by no more than this.
TOLERANCE = 0.01


def weights(test: SimTest) -> dict[str, float]:
    """Each skill's share of the test's points (equal shares when the catalog names none)."""
    points = test.skill_points or (1.0,) * len(test.skills)
    total = sum(points)
    return {skill: share / total for skill, share in zip(test.skills, points, strict=True)}


def combined(test: SimTest, split: Mapping[str, float]) -> float:
    """The overall percentage a split per skill makes."""
    return sum(share * split[skill] for skill, share in weights(test).items())


def spread(test: SimTest, percentage: float) -> dict[str, float]:
    """Distinct skill percentages whose weighted mean is `percentage` (all alike only at 0 and
    100, where nothing else adds up)."""
    shares = weights(test)
    middle = sum(index * share for index, share in enumerate(shares.values()))
    # Offsets from the overall percentage, falling by skill, with a weighted mean of zero.
    step = SPREAD / max(len(shares) - 1, 1)
    offsets = [-step * (index - middle) for index in range(len(shares))]
    room = [
        (100.0 - percentage) / offset if offset > 0 else percentage / -offset
        for offset in offsets
        if offset
    ]
    scale = min([1.0, *room])
    return {
        skill: round(percentage + scale * offset, 2)
        for skill, offset in zip(shares, offsets, strict=True)
    }


def problems(test: SimTest, split: Mapping[str, float]) -> list[str]:
    """What is wrong with a split a submission names: it gives every skill of the test, and
    nothing else, a percentage."""
    return (
        [
            f"skill_scores: {name!r} is not a skill of this test"
            for name in split
            if name not in test.skills
        ]
        + [f"skill_scores: {skill!r} is missing" for skill in test.skills if skill not in split]
        + [
            f"skill_scores: {name!r} must be a percentage from 0 to 100"
            for name, value in split.items()
            if not 0.0 <= value <= 100.0
        ]
    )
