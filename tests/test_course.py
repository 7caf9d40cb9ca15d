"""The course page plans its sessions from the chapters (book/_ext/course_plan.py): every session fits 90 minutes in
class, every exercise of the book is planned exactly once, and the times come from the chapters' own text."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import course_plan  # noqa: E402

COURSE = (ROOT / "book" / "course.md").read_text()
_PLAN = re.compile(r"```\{session-plan\} (?P<chapters>[^\n]+)\n(?P<options>(?:\s*:[a-z]+:[^\n]*\n)+)\s*```")


def sessions() -> list[dict]:
    found = []
    for match in _PLAN.finditer(COURSE):
        options = dict(re.findall(r":([a-z]+): ([^\n]*)", match["options"]))
        found.append({"chapters": match["chapters"].split(), "exercises": options.get("exercises", "").split(),
                      "homework": options.get("homework", "").split(),
                      "activities": [a for a in options.get("activity", "").split(";") if a.strip()],
                      "profile": options.get("profile", "smoke")})  # fmt: skip
    return found


def test_the_course_has_six_planned_sessions_covering_every_chapter_with_exercises():
    planned = sessions()
    assert len(planned) == 6 == len(re.findall(r"(?m)^## Session \d", COURSE))
    chapters_with_exercises = {e.chapter for e in course_plan.chapter_exercises(ROOT).values()}
    assert {c for s in planned for c in s["chapters"]} == chapters_with_exercises


@pytest.mark.parametrize("number", range(1, 7))
def test_a_session_fits_ninety_minutes_in_class(number):
    session = sessions()[number - 1]
    p = course_plan.plan(ROOT, session["chapters"], session["exercises"], session["homework"], session["activities"],
                         session["profile"])  # fmt: skip
    by_hand = (
        sum(course_plan.chapter_exercises(ROOT)[e].minutes for e in session["exercises"])
        + sum(int(a.split()[0]) for a in session["activities"])
        + -(-sum(p["runs"].values()) // 60)
    )
    assert p["in_class"] == by_hand <= course_plan.SESSION_MINUTES, p


def test_every_exercise_is_planned_once_in_its_own_chapters_session():
    known = course_plan.chapter_exercises(ROOT)
    seen = [(e, s["chapters"]) for s in sessions() for e in s["exercises"] + s["homework"]]
    labels = [e for e, _ in seen]
    assert sorted(labels) == sorted(known), set(labels) ^ set(known)
    assert all(known[e].chapter in chapters for e, chapters in seen)


def test_every_exercise_states_one_time_and_the_course_page_types_none():
    assert all(e.minutes > 0 for e in course_plan.chapter_exercises(ROOT).values())
    assert not re.search(r"ex-[\w-]+`? \([^)]*\d+ min\)", COURSE), "the course page types an exercise time"


def test_a_plan_names_an_unknown_exercise_or_unexecuted_profile(tmp_path):
    with pytest.raises(ValueError, match="ex-nowhere"):
        course_plan.plan(ROOT, ["01_embedded_benchmark"], ["ex-nowhere"], [], [], "smoke")
    with pytest.raises(ValueError, match="never executed at profile 'class-x'"):
        course_plan.plan(ROOT, ["01_embedded_benchmark"], [], [], [], "class-x")
    with pytest.raises(ValueError, match="activity"):
        course_plan.plan(ROOT, ["01_embedded_benchmark"], [], [], ["ten minutes of talk"], "smoke")
