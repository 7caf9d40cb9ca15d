"""Sphinx extension: ``{session-plan}`` writes a course session's plan from the chapters themselves (one source).

    ```{session-plan} 04_gad_alpha_sweep 05_gad_tables
    :exercises: ex-sweep-1 ex-sweep-2 ex-gadt-1 ex-gadt-2
    :homework: ex-sweep-3 ex-gadt-3
    :activity: 10 discussion of the cards
    :profile: smoke
    ```

* **before class**: the chapters' reading time (their prose at 200 words per minute, as ``{chapter-times}`` counts it);
* **in class**: the chapters' run time at ``profile`` (``book/execution_times.csv``), each exercise with the time its
  chapter states (``*Time: N min.*`` in the exercise's text) and each activity, summed;
* **homework**: the exercises named there, with their times.

The pure functions (:func:`chapter_exercises`, :func:`run_seconds`, :func:`plan`) are what ``tests/test_course.py``
checks: every session fits :data:`SESSION_MINUTES` in class and every exercise of the book is planned once.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

SESSION_MINUTES = 90
WORDS_PER_MINUTE = 200
_EXERCISE = re.compile(r":label: (ex-[\w-]+)\n# ````\n(?P<text>.*?)# ````\{exercise-end\}", re.S)
_TIME = re.compile(r"\*Time: (\d+) min\b")


@dataclass(frozen=True)
class Exercise:
    label: str
    chapter: str
    minutes: int
    predict: bool  # the exercise asks for a prediction before running


def chapter_exercises(root: Path) -> dict[str, Exercise]:
    """Every exercise of every chapter (``notebooks/NN_*.py``), with the time its text states."""
    found = {}
    for source in sorted((root / "notebooks").glob("[0-9][0-9]_*.py")):
        for match in _EXERCISE.finditer(source.read_text()):
            times = _TIME.findall(match["text"])
            if len(times) != 1:
                raise ValueError(f"{source.name}: exercise {match[1]} states {len(times)} times (*Time: N min.*)")
            found[match[1]] = Exercise(match[1], source.stem, int(times[0]), "Predict" in match["text"])
    return found


def run_seconds(root: Path, chapter: str, profile: str) -> float | None:
    """The chapter's last recorded run time at ``profile`` (None: never executed at that profile)."""
    record = root / "book" / "execution_times.csv"
    rows = list(csv.DictReader(record.open())) if record.exists() else []
    times = [float(r["seconds"]) for r in rows if r["chapter"] == chapter and r["profile"] == profile]
    return times[-1] if times else None


def _activities(lines: list[str]) -> list[tuple[int, str]]:
    out = []
    for line in lines:
        minutes, _, what = line.strip().partition(" ")
        if not minutes.isdigit() or not what:
            raise ValueError(f"activity: expected '<minutes> <what>', got {line!r}")
        out.append((int(minutes), what))
    return out


def plan(root: Path, chapters: list[str], exercises: list[str], homework: list[str], activities: list[str],
         profile: str) -> dict:  # fmt: skip
    """A session's times: run (minutes, rounded up), exercises, activities, in-class total, homework."""
    known = chapter_exercises(root)
    unknown = [e for e in exercises + homework if e not in known]
    if unknown:
        raise ValueError(f"session-plan: no exercise labelled {unknown} in the chapters")
    runs = {c: run_seconds(root, c, profile) for c in chapters}
    missing = [c for c, s in runs.items() if s is None]
    if missing:
        raise ValueError(f"session-plan: {missing} never executed at profile {profile!r} (book/execution_times.csv)")
    run_minutes = math.ceil(sum(runs.values()) / 60)
    acts = _activities(activities)
    in_class = run_minutes + sum(known[e].minutes for e in exercises) + sum(m for m, _ in acts)
    return {"runs": runs, "run_minutes": run_minutes, "exercises": [known[e] for e in exercises],
            "homework": [known[e] for e in homework], "activities": acts, "in_class": in_class}  # fmt: skip


class session_plan(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    pass


class SessionPlan(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"exercises": directives.unchanged, "homework": directives.unchanged,
                   "activity": directives.unchanged, "profile": directives.unchanged}  # fmt: skip

    def run(self):
        node = session_plan()
        node["chapters"] = self.arguments[0].split()
        node["exercises"] = self.options.get("exercises", "").split()
        node["homework"] = self.options.get("homework", "").split()
        node["activities"] = [a for a in self.options.get("activity", "").split(";") if a.strip()]
        node["profile"] = self.options.get("profile", "smoke")
        return [node]


def _words(doctree: nodes.document) -> int:
    from chapter_meta import _prose_words  # the same count as the chapters' own "Time to read"

    return _prose_words(doctree)


def record_words(app, doctree: nodes.document) -> None:
    env = app.env
    if not hasattr(env, "course_words"):
        env.course_words = {}
    env.course_words[env.docname] = _words(doctree)


def merge_words(app, env, docnames, other) -> None:
    env.course_words = {**getattr(env, "course_words", {}), **getattr(other, "course_words", {})}


def _ref(app, fromdoc: str, label: str) -> nodes.Node:
    std = app.env.get_domain("std")
    docname, target, _ = std.labels.get(label, (None, None, None))
    if docname is None:
        return nodes.literal(text=label)
    ref = nodes.reference("", "", internal=True, refuri=app.builder.get_relative_uri(fromdoc, docname) + "#" + target)
    ref += nodes.inline(text=label)
    return ref


def fill_plans(app, doctree: nodes.document, docname: str) -> None:
    root = Path(app.srcdir)
    words = getattr(app.env, "course_words", {})
    for node in list(doctree.findall(session_plan)):
        p = plan(root, node["chapters"], node["exercises"], node["homework"], node["activities"], node["profile"])
        reading = sum(words.get(f"notebooks/{c}", 0) for c in node["chapters"])
        items = nodes.bullet_list()

        def item(label: str, *body: nodes.Node, into: nodes.bullet_list = items) -> None:
            para = nodes.paragraph()
            para += nodes.strong(text=label)
            for b in body:
                para += b
            into.append(nodes.list_item("", para))

        item("Before class: ", nodes.Text(f"read the chapters, about {max(1, round(reading / WORDS_PER_MINUTE))} min."))
        run = ", ".join(f"{c} {round(s)} s" for c, s in p["runs"].items())
        item(f"In class, {p['in_class']} min: ", nodes.Text("run at the "), nodes.literal(text=node["profile"]),
             nodes.Text(f" profile ({run}; {p['run_minutes']} min)"))  # fmt: skip
        for ex in p["exercises"]:
            item("", _ref(app, docname, ex.label), nodes.Text(f" ({ex.minutes} min{', predict first' * ex.predict})"))
        for minutes, what in p["activities"]:
            item("", nodes.Text(f"{what.strip()} ({minutes} min)"))
        if p["homework"]:
            para = nodes.paragraph()
            para += nodes.strong(text="Homework: ")
            for i, ex in enumerate(p["homework"]):
                para += nodes.Text(", " if i else "")
                para += _ref(app, docname, ex.label)
                para += nodes.Text(f" ({ex.minutes} min)")
            items.append(nodes.list_item("", para))
        node.replace_self(items)


def setup(app):
    app.add_node(session_plan)
    app.add_directive("session-plan", SessionPlan)
    app.connect("doctree-read", record_words)
    app.connect("env-merge-info", merge_words)
    app.connect("doctree-resolved", fill_plans)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
