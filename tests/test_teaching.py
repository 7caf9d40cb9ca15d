"""Teaching helpers: a stub's attempt, the self-check's verdicts and hints, the quiz's format and its output."""

import random

import numpy as np
import pytest
import torch

from xai_lib import teaching

QUESTIONS = [
    {"question": "Which component of a Riemann step does IDGI keep?", "type": "multiple_choice",
     "answers": [{"answer": "the one along the gradient", "correct": True, "feedback": "Yes: it changes f."},
                 {"answer": "the one orthogonal to it", "correct": False, "feedback": "That one leaves f unchanged."}]},
    {"question": "How many classes does kappa sum over?", "type": "numeric",
     "answers": [{"type": "value", "value": 4, "correct": True, "feedback": "Right."},
                 {"type": "default", "value": 0, "correct": False, "feedback": "Count the outputs."}]},
]  # fmt: skip


def test_attempt_turns_a_stub_into_a_note_and_lets_real_errors_through(capsys):
    def stub(x):
        raise NotImplementedError("return twice x")

    assert teaching.attempt(stub, 3) is None
    assert "Not attempted yet: return twice x" in capsys.readouterr().out
    assert teaching.attempt(lambda x: 2 * x, 3) == 6
    with pytest.raises(ZeroDivisionError):
        teaching.attempt(lambda: 1 / 0)


def test_check_accepts_within_tolerance_and_hints_without_the_answer(capsys):
    expected = np.array([1.0, 2.0, 4.0])
    assert teaching.check(expected * 1.005, expected, rtol=1e-2)
    assert capsys.readouterr().out.startswith("Correct")
    assert not teaching.check(expected + [0, 0, 1.0], expected, rtol=1e-2, what="the errors")
    out = capsys.readouterr().out
    assert out.startswith("Not yet: the errors is off by up to 1") and "25%" in out and "4.0" not in out
    assert not teaching.check(torch.ones(2), expected)
    assert "shape (2,)" in capsys.readouterr().out
    assert teaching.check(torch.tensor([1.0, 2.0, 4.0]), expected, rtol=0)  # tensors compare as arrays
    assert not teaching.check(None, expected) and not teaching.check([np.nan, 2, 4], expected)
    assert teaching.check("reproduced", "reproduced") and not teaching.check("partly", "reproduced")
    assert teaching.check(0.0, 0.0, rtol=0) and not teaching.check(1e-9, 0.0, rtol=0.5)  # rtol alone: exact at 0
    assert teaching.check(1e-9, 0.0, atol=1e-8)
    with pytest.raises(ValueError, match="rtol, atol"):
        teaching.check(1.0, 1.0, rtol=-1)


def test_quiz_questions_are_validated():
    with pytest.raises(ValueError, match=r"questions\[0\].type"):
        teaching.quiz("q", [{"question": "?", "type": "essay", "answers": []}])
    bad = [{**QUESTIONS[0], "answers": [{**a, "correct": False} for a in QUESTIONS[0]["answers"]]}]
    with pytest.raises(ValueError, match="no answer is marked correct"):
        teaching.quiz("q", bad)
    bad = [{**QUESTIONS[0], "answers": [{"answer": "x", "correct": True, "feedback": " "}]}]
    with pytest.raises(ValueError, match="feedback"):
        teaching.quiz("q", bad)
    text = teaching.quiz_text(QUESTIONS)
    assert "1. Which component" in text and "   - the one orthogonal to it" in text and "2. How many" in text


def test_quiz_output_is_deterministic_offline_and_leaves_the_global_generator_alone(monkeypatch):
    pytest.importorskip("jupyterquiz")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: shown.append(obj))
    import jupyterquiz.dynamic.display as jq

    monkeypatch.setattr(jq, "display", lambda obj, *a, **k: shown.append(obj))
    random.seed(123)
    before = random.random()
    random.seed(123)
    teaching.quiz("ch02", QUESTIONS)
    assert random.random() == before  # the caller's random stream is untouched
    first = [getattr(o, "data", None) for o in shown]
    shown.clear()
    teaching.quiz("ch02", QUESTIONS)
    assert [getattr(o, "data", None) for o in shown] == first  # the same output on a re-run
    script = "".join(d for d in first if d)
    assert "Which component of a Riemann step" in script and "http" not in script.split("var questions")[1][:200]


def test_quiz_files_load_and_are_checked(tmp_path):
    import json

    path = tmp_path / "q.json"
    path.write_text(json.dumps(QUESTIONS))
    assert teaching.load_questions(path) == QUESTIONS
    path.write_text(json.dumps({"question": "?"}))
    with pytest.raises(ValueError, match="JSON list"):
        teaching.load_questions(path)
    with pytest.raises(ValueError, match="no quiz file"):
        teaching.load_questions(tmp_path / "missing.json")


def test_a_quiz_file_is_found_from_any_folder_and_a_missing_one_does_not_fail(tmp_path, monkeypatch, capsys):
    """Papermill may start a chapter's kernel outside notebooks/: the chapters' quiz files are found beside the
    library's source checkout; a file found nowhere prints a note instead of failing the chapter."""
    monkeypatch.chdir(tmp_path)
    assert teaching._quiz_path("quizzes/02_idgi_noise.json").is_file()
    teaching.quiz("missing", "quizzes/no_such_quiz.json")
    assert "is not found from" in capsys.readouterr().out
