"""Sphinx extension: ``{chapter-times}`` prints a chapter's time to read and time to run, computed, not typed.

* time to read: the words of the chapter's own prose (code and outputs excluded) at 200 words per minute;
* time to run: from ``book/execution_times.csv``, the record that ``data_scripts/execute_chapters.py`` writes at
  each execution, per profile (a profile never executed is not shown).

With an argument (a chapter's file name, e.g. ``{chapter-times} 03_idgi_tables``) it prints only that chapter's
run times: the course plan uses it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

WORDS_PER_MINUTE = 200


class chapter_times(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    pass


class ChapterTimes(SphinxDirective):
    has_content = False
    optional_arguments = 1

    def run(self):
        node = chapter_times()
        node["docname"] = self.env.docname
        node["chapter"] = self.arguments[0] if self.arguments else None
        return [node]


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 90 else f"{seconds // 60} min {seconds % 60:02d} s"


def _prose_words(doctree: nodes.document) -> int:
    skip = (nodes.literal_block, nodes.raw, nodes.image, nodes.math_block, nodes.table)
    words = 0
    for node in doctree.findall(nodes.Text):
        parent, hidden = node.parent, False
        while parent is not None:
            if isinstance(parent, skip) or "cell_output" in parent.get("classes", []):
                hidden = True
                break
            parent = parent.parent
        if not hidden:
            words += len(node.astext().split())
    return words


def fill_times(app, doctree: nodes.document) -> None:
    record = Path(app.srcdir) / "book" / "execution_times.csv"
    rows = list(csv.DictReader(record.open())) if record.exists() else []
    for node in list(doctree.findall(chapter_times)):
        chapter = node["chapter"] or node["docname"].split("/")[-1]
        runs = {r["profile"]: float(r["seconds"]) for r in rows if r["chapter"] == chapter}
        para = nodes.paragraph(classes=["chapter-times"])
        if node["chapter"] is None:
            minutes = max(1, round(_prose_words(doctree) / WORDS_PER_MINUTE))
            para += nodes.strong(text="Time to read: ")
            para += nodes.Text(f"about {minutes} min. ")
        para += nodes.strong(text="Time to run ")
        para += nodes.Text("(2-core CPU, default models already trained): ")
        order = [p for p in ("smoke", "class", "book", "paper") if p in runs]
        para += nodes.Text(
            ", ".join(f"{p} {_duration(runs[p])}" for p in order) + "." if order else "not recorded yet."
        )
        node.replace_self(para)


def setup(app):
    app.add_node(chapter_times)
    app.add_directive("chapter-times", ChapterTimes)
    app.connect("doctree-read", fill_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
