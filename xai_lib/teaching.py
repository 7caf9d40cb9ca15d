"""Teaching helpers for the chapters' exercises: a student's attempt, a self-check of its answer, a quiz.

An exercise's starter cell defines a function whose body raises :class:`NotImplementedError`; :func:`attempt` calls
it and says "not attempted yet" instead of failing, so a chapter (and its student edition) runs top to bottom
before anyone has answered. :func:`check` compares an answer with the value the chapter or the library computes and
tells the student whether it is right, without printing the expected value. :func:`quiz` shows a short self-check
quiz (jupyterquiz, rendered offline: the questions are embedded in the output) or, without jupyterquiz, the
questions as text.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

QUESTION_TYPES = ("multiple_choice", "many_choice", "numeric")


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any | None:
    """``fn(*args, **kwargs)``, or ``None`` with a note when ``fn`` still raises :class:`NotImplementedError`
    (the starter's stub). Any other error is the student's to see, and propagates."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        print(f"Not attempted yet: {exc or 'fill in ' + getattr(fn, '__name__', 'the function')}")
        return None


def _as_array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a number or an array of numbers, got {type(value).__name__}") from exc
    return arr


def check(answer: Any, expected: Any, *, rtol: float = 1e-2, atol: float = 0.0, what: str = "your answer") -> bool:
    """Whether ``answer`` matches ``expected`` (numbers or arrays: ``|a - e| <= atol + rtol |e|`` everywhere, shapes
    equal; anything else: equality). Prints *Correct* or *Not yet* with a hint (how far off, or the shape), never
    the expected value itself; returns the result, so a solution can ``assert check(...)``."""
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol, atol: expected non-negative tolerances, got {rtol!r}, {atol!r}")
    if answer is None:
        print(f"Not yet: {what} is None (the function returns nothing?)")
        return False
    numeric = not isinstance(expected, (str, bytes, bool)) and not isinstance(answer, (str, bytes, bool))
    if numeric:
        try:
            e, a = _as_array(expected, "expected"), _as_array(answer, "answer")
        except ValueError:
            numeric = False
    if not numeric:
        ok = answer == expected
        print(f"Correct: {what} is right." if ok else f"Not yet: {what} is not the expected one.")
        return bool(ok)
    if a.shape != e.shape:
        print(f"Not yet: {what} has shape {a.shape}, expected shape {e.shape}.")
        return False
    if not np.isfinite(a).all():
        print(f"Not yet: {what} contains NaN or infinite values.")
        return False
    err = np.abs(a - e)
    ok = bool((err <= atol + rtol * np.abs(e)).all())
    if ok:
        print(f"Correct: {what} matches (tolerance rtol={rtol:g}, atol={atol:g}).")
        return True
    worst = float(err.max())
    scale = float(np.abs(e).max())
    rel = f" ({worst / scale:.0%} of the expected magnitude)" if scale > 0 and math.isfinite(worst / scale) else ""
    print(f"Not yet: {what} is off by up to {worst:.3g}{rel}; tolerance rtol={rtol:g}, atol={atol:g}.")
    return False


def _validate(questions: Sequence[Mapping[str, Any]]) -> None:
    if not questions:
        raise ValueError("questions: expected at least one question")
    for i, q in enumerate(questions):
        kind = q.get("type")
        if kind not in QUESTION_TYPES:
            raise ValueError(f"questions[{i}].type: expected one of {list(QUESTION_TYPES)}, got {kind!r}")
        if not str(q.get("question", "")).strip():
            raise ValueError(f"questions[{i}].question: expected the question's text")
        answers = q.get("answers") or []
        if not answers:
            raise ValueError(f"questions[{i}].answers: expected at least one answer")
        if not any(a.get("correct") for a in answers):
            raise ValueError(f"questions[{i}].answers: no answer is marked correct")
        for j, a in enumerate(answers):
            if not str(a.get("feedback", "")).strip():
                raise ValueError(f"questions[{i}].answers[{j}].feedback: every answer needs feedback that teaches")
            if kind == "numeric" and "value" not in a and "range" not in a:
                raise ValueError(f"questions[{i}].answers[{j}]: a numeric answer needs a value or a range")
            if kind != "numeric" and "answer" not in a:
                raise ValueError(f"questions[{i}].answers[{j}]: expected the answer's text")


def quiz_text(questions: Sequence[Mapping[str, Any]]) -> str:
    """The questions and their choices as plain text (no answers marked): the fallback without jupyterquiz."""
    _validate(questions)
    lines = []
    for i, q in enumerate(questions, 1):
        lines.append(f"{i}. {q['question']}")
        if q["type"] != "numeric":
            lines += [f"   - {a['answer']}" for a in q["answers"]]
    return "\n".join(lines)


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    """A quiz's questions from a JSON file (a list in jupyterquiz's format), validated."""
    try:
        questions = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ValueError(f"questions: no quiz file {str(path)!r}") from exc
    if not isinstance(questions, list):
        raise ValueError(f"questions: expected a JSON list of questions in {str(path)!r}")
    _validate(questions)
    return questions


def _quiz_path(path: str | Path) -> Path:
    """``path`` as given, or, when it is relative and not found, relative to the notebooks folder of the source
    checkout this library sits in (papermill may start a chapter's kernel in another folder)."""
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    beside = Path(__file__).resolve().parents[1] / "notebooks" / p
    return beside if beside.exists() else p


def quiz(name: str, questions: Sequence[Mapping[str, Any]] | str | Path) -> None:
    """Show a self-check quiz: ``questions`` in jupyterquiz's format (``question``, ``type``, ``answers`` with
    ``answer`` or ``value``, ``correct`` and ``feedback``), or the path of a JSON file of them (the chapters keep
    theirs in ``notebooks/quizzes/``, out of the students' sight). The quiz's element id comes from ``name``, so a
    re-run writes the same output; the questions are embedded, so the rendered book needs no network; the browser
    shuffles each question's choices when it shows them. Without jupyterquiz the questions are printed as text."""
    if isinstance(questions, (str, Path)):
        path = _quiz_path(questions)
        if not path.exists():  # a chapter run from another folder: the quiz is a teaching aid, never a failure
            print(f"Self-check ({name}): the questions file {str(questions)!r} is not found from {Path.cwd()}; run the "
                  "chapter from the book's notebooks folder to take the quiz.")  # fmt: skip
            return
        questions = load_questions(path)
    questions = list(questions)
    _validate(questions)
    try:
        from jupyterquiz import display_quiz
    except ImportError:
        print(f"Self-check ({name}; install jupyterquiz to answer interactively):\n{quiz_text(questions)}")
        return
    state = random.getstate()
    random.seed(f"xai_lib.teaching.quiz:{name}")  # jupyterquiz draws its element id from the global generator
    try:
        display_quiz([dict(q) for q in questions], shuffle_answers=True)  # shuffled by the reader's browser
    finally:
        random.setstate(state)
