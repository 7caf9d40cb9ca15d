"""Check the rendered book page by page, as a reader's browser shows it.

    .venv/bin/python -m data_scripts.check_rendered [--html _build/html] [--no-browser]

Static checks on every page's HTML:

* every chapter states its learning objectives and its prerequisites;
* every internal link points to an existing page and, with a ``#fragment``, to an existing anchor in it;
* no result table is printed as monospace text (a cell output of three or more lines that split into aligned
  columns with at least one number): tables are HTML;
* every solution is a collapsed dropdown;
* every chapter 01-08 has its instructor notes as a collapsed dropdown and a self-check quiz.

In headless Chromium (the system package; skipped with a message where it is absent), after the page's scripts
ran: every display equation is typeset by MathJax (no "[Math Processing Error]"), every solution is hidden, and
every self-check quiz has its questions and answer buttons (jupyterquiz builds them from the page's own script).
Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


class _Page(HTMLParser):
    """Links, ids, solution blocks, admonitions, quizzes, display-math blocks and plain-text cell outputs of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.solutions: list[set[str]] = []
        self.admonitions: list[tuple[set[str], str]] = []  # (classes, title) of each admonition
        self._title: list[str] | None = None
        self._title_of: int | None = None  # the admonition whose title is being read
        self._owner: list[int | None] = []  # per open element: the admonition it is (its index), else None
        self.quizzes = 0  # jupyterquiz containers (built by the page's script)
        self.display_math = 0
        self.text_outputs: list[str] = []
        self._stack: list[tuple[str, set[str]]] = []
        self._pre: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "div" and "solution" in classes:
            self.solutions.append(classes)
        if tag == "div" and "admonition" in classes:
            self.admonitions.append((classes, ""))
        if tag == "p" and "admonition-title" in classes and self._owner and self._owner[-1] is not None:
            self._title, self._title_of = [], self._owner[-1]  # a title directly inside its admonition's div
        if tag == "div" and "data-shufflequestions" in a:
            self.quizzes += 1
        if tag == "div" and "math" in classes:
            self.display_math += 1
        in_output = any("cell_output" in c or "output" in c for _t, c in self._stack)
        if tag == "pre" and in_output:
            self._pre = []
        if tag not in ("br", "img", "meta", "link", "input", "hr"):
            self._stack.append((tag, classes))
            self._owner.append(len(self.admonitions) - 1 if tag == "div" and "admonition" in classes else None)

    def handle_endtag(self, tag):
        if tag == "p" and self._title is not None:
            classes, _ = self.admonitions[self._title_of]
            self.admonitions[self._title_of] = (classes, "".join(self._title))
            self._title = self._title_of = None
        if tag == "pre" and self._pre is not None:
            self.text_outputs.append("".join(self._pre))
            self._pre = None
        while self._stack:
            t, _ = self._stack.pop()
            self._owner.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self._title is not None:
            self._title.append(data)
        if self._pre is not None:
            self._pre.append(data)
        self.text.append(data)


def looks_like_text_table(text: str) -> bool:
    """Three consecutive lines that split on runs of 2+ spaces into the same number (>= 3) of fields, with a
    number among them: a DataFrame printed as text."""
    run = 0
    previous = None
    for line in text.splitlines():
        fields = [f for f in re.split(r"\s{2,}", line.strip()) if f]
        numeric = any(re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?%?", f) for f in fields)
        if len(fields) >= 3 and numeric and (previous is None or len(fields) == previous):
            run += 1
            previous = len(fields)
            if run >= 3:
                return True
        else:
            run, previous = 0, None
    return False


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def static_problems(html: Path, path: Path, pages: dict[Path, _Page]) -> list[str]:
    page = pages[path]
    problems = []
    text = " ".join(page.text)
    chapter = path.parent.name == "notebooks" and re.match(r"0[1-8]_", path.name)
    if chapter:
        for needle in ("Learning objectives", "Prerequisites", "Time to run"):
            if needle not in text:
                problems.append(f"no '{needle}'")
    for href in page.links:
        url = urlparse(href)
        if url.scheme or href.startswith(("mailto:", "javascript:")):
            continue
        target = (path.parent / unquote(url.path)).resolve() if url.path else path
        if not target.exists():
            problems.append(f"broken link {href}")
            continue
        if url.fragment and target.suffix == ".html":
            if target not in pages:
                pages[target] = parse(target)
            if url.fragment not in pages[target].ids:
                problems.append(f"missing anchor {href}")
    for out in page.text_outputs:
        if looks_like_text_table(out):
            problems.append("a results table printed as text: " + out.strip().splitlines()[0][:80])
    for classes in page.solutions:
        if "dropdown" not in classes:
            problems.append("a solution that is not a collapsed dropdown")
    if chapter:
        notes = [classes for classes, title in page.admonitions if title.strip() == "Instructor notes"]
        if len(notes) != 1 or "dropdown" not in notes[0]:
            problems.append("no collapsed 'Instructor notes' dropdown")
        if "Self-check" not in text or not page.quizzes:
            problems.append("no self-check quiz")
    return problems


def browser() -> str | None:
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


def rendered_problems(exe: str, path: Path, page: _Page) -> list[str]:
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
             "--virtual-time-budget=15000", "--dump-dom", path.as_uri()],
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip
    problems = []
    errors = len(re.findall(r'class="MathJax_Error"', dom))
    if errors:
        problems.append(f"{errors} equation(s) MathJax could not typeset")
    typeset = len(re.findall(r'class="MathJax_Display"', dom))
    if typeset < page.display_math:
        problems.append(f"{page.display_math} display equations, {typeset} typeset")
    if page.quizzes:
        built = len(re.findall(r'class="Quiz"', dom))
        buttons = len(re.findall(r'class="MCButton', dom))
        if built < 1 or buttons < 2:
            problems.append(f"the self-check quiz did not render ({built} questions, {buttons} answer buttons)")
    shown = re.findall(r'<div class="([^"]*\bsolution\b[^"]*)"', dom)
    visible = [c for c in shown if "toggle-hidden" not in c.split()]
    if visible:
        problems.append(f"{len(visible)} solution(s) visible before the reader opens them")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args(argv)
    html = args.html.resolve()
    if not (html / "index.html").exists():
        print(f"no rendered book at {html}: run `make html` first", file=sys.stderr)
        return 1
    paths = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts and p.name not in ("search.html",
                   "genindex.html"))  # fmt: skip
    pages = {p: parse(p) for p in paths}
    exe = None if args.no_browser else browser()
    if exe is None and not args.no_browser:
        print("no Chromium found: the in-browser checks (MathJax, hidden solutions) are skipped")
    failed = 0
    for path in paths:
        problems = static_problems(html, path, pages)
        if exe is not None and (pages[path].display_math or pages[path].solutions or pages[path].quizzes):
            problems += rendered_problems(exe, path, pages[path])
        rel = path.relative_to(html)
        if problems:
            failed += 1
            print(f"FAIL {rel}:\n  " + "\n  ".join(problems))
        else:
            solutions = len(pages[path].solutions)
            print(f"ok   {rel} ({pages[path].display_math} display equations, {solutions} hidden solutions)")
    print(f"{len(paths)} pages, {failed} with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
