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


def test_every_session_runs_at_class_and_every_chapter_runs_there_in_150_seconds():
    """The recorded run at ``class`` (the book's models, chapter 3 on fewer images) fits a class: each chapter
    <= 150 s on 2 cores (``book/execution_times.csv``, written by ``execute_chapters --record``)."""
    assert {s["profile"] for s in sessions()} == {"class"}
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.py"))
    seconds = {c: course_plan.run_seconds(ROOT, c, "class") for c in chapters}
    assert all(t is not None and t <= 150 for t in seconds.values()), seconds


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


# -- the teaching layer of every chapter ------------------------------------------------------------------------------

TEACHING_CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py") if p.stem != "09_scorecard")
NOTE_PARTS = ("Learning objectives in practice", "Common misconceptions", "Discussion prompts", "What to project")


def _cells(name: str):
    import jupytext

    return jupytext.read(ROOT / "notebooks" / f"{name}.py").cells


@pytest.mark.parametrize("name", [*TEACHING_CHAPTERS, "09_scorecard"])
def test_each_chapter_has_folded_instructor_notes(name):
    """One markdown cell tagged ``instructor`` (removed from the student edition), folded in the book, with the four
    parts; each misconception names the cell or section that exposes it; numbers in it are glued, never typed."""
    notes = [c for c in _cells(name) if "instructor" in c.metadata.get("tags", [])]
    assert len(notes) == 1 and notes[0].cell_type == "markdown", f"{name}: expected one instructor-notes cell"
    text = notes[0].source
    assert "{admonition} Instructor notes" in text and ":class: dropdown" in text, name
    for part in NOTE_PARTS:
        assert f"**{part}" in text, f"{name}: the instructor notes lack '{part}'"
    misconceptions = text.split("**Common misconceptions")[1].split("**Discussion prompts")[0]
    assert misconceptions.count("*Exposed by*") >= 2, f"{name}: each misconception names the cell that exposes it"
    prompts = text.split("**Discussion prompts")[1].split("**What to project")[0]
    assert prompts.count("*Expected answer*") >= 2, f"{name}: each discussion prompt has an expected answer"


@pytest.mark.parametrize("name", TEACHING_CHAPTERS)
def test_each_chapter_asks_a_prediction_before_the_cell_that_answers_it(name):
    cells = _cells(name)
    asks = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "**Predict first.**" in c.source
            and "{exercise-start}" in c.source]  # fmt: skip
    assert asks, f"{name}: no predict-first exercise"
    answers = [i for i, c in enumerate(cells) if "answers-prediction" in c.metadata.get("tags", [])]
    assert answers and all(c.cell_type == "code" for c in (cells[i] for i in answers)), name
    assert min(answers) > min(asks), f"{name}: the prediction must be asked before the cell that answers it"


@pytest.mark.parametrize("name", TEACHING_CHAPTERS)
def test_each_chapter_has_a_starter_with_a_checker_and_a_quiz(name):
    """A starter cell (tagged ``exercise``) whose stub raises NotImplementedError, called through
    ``teaching.attempt`` and judged by ``teaching.check``; a self-check quiz whose questions file is valid."""
    from xai_lib import teaching

    cells = _cells(name)
    starters = [c.source for c in cells if "exercise" in c.metadata.get("tags", [])
                and "raise NotImplementedError" in c.source]  # fmt: skip
    assert any("teaching.attempt(" in s and "teaching.check(" in s for s in starters), f"{name}: no checked starter"
    quizzes = [c.source for c in cells if c.cell_type == "code" and "teaching.quiz(" in c.source]
    assert len(quizzes) == 1, f"{name}: expected one self-check quiz"
    files = re.findall(r"teaching\.quiz\(\s*\"[^\"]+\",\s*\"([^\"]+\.json)\"", quizzes[0])
    assert files, f"{name}: the quiz reads its questions from a file in notebooks/quizzes/"
    questions = teaching.load_questions(ROOT / "notebooks" / files[0])
    assert len(questions) >= 3, f"{name}: at least three questions"
    # the browser shuffles the choices, and the file does not give the answer away by position either
    firsts = {next(i for i, a in enumerate(q["answers"]) if a.get("correct")) for q in questions}
    assert len(firsts) > 1, f"{name}: the correct choice sits at the same position in every question"
