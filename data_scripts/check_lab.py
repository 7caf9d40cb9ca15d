"""Check the student edition as a student's browser shows it: a chapter opened in JupyterLab (with jupyterlab-myst),
every cell run with *Run All Cells*, then every MyST ``{eval}`` role of its text read back from the page.

    .venv/bin/python -m data_scripts.check_lab [--edition _student] [--chapter 06_rotation_toy]

Needs the student environment (``make .venv/.student``), Playwright (``pip install playwright``; no browser
download: it drives the system's Chromium) and a written student edition (``data_scripts.student_edition``). The
chapter runs at its parameters cell's profile, as a student's Run All does. Fails (exit status 1) when a
markdown cell still shows raw ``{eval}`` or ``{glue`` markup, a role shows its expression instead of a value (not
evaluated: jupyterlab-myst then shows the expression in code font), a value is the "not computed yet" note or an
error, or a code cell fails. Writes the rendered text and a screenshot beside the
``--out`` folder (``<chapter>.lab.txt``, ``<chapter>.lab.png``; default ``_build/lab``). JupyterLab runs on a copy of
the chapter: the edition itself is left as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")
#: the reproduction card's tables (glued as :class:`xai_lib.report.Table`) and the caption each shows when rendered
CARD_TABLES = {"card_settings": "Reproduction card: setting", "card_claims": "Reproduction card: claims"}
#: what the rendered text must not show: the student edition's "not computed yet" note, or an error
BAD_VALUE = re.compile(r"not computed yet|Traceback|\w+Error: ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 -- localhost
            return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {seconds:.0f} s")


def start_lab(edition: Path, settings: Path) -> tuple[subprocess.Popen, str, str]:
    """A JupyterLab server on the edition, cells rendered all at once (no windowing: every cell is in the page), its
    settings and workspace in ``settings``."""
    settings.mkdir(parents=True, exist_ok=True)
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), secrets.token_hex(16)
    lab = shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) or "jupyter-lab"
    proc = subprocess.Popen(
        [lab, "--no-browser", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={edition}", f"--LabApp.user_settings_dir={settings}",
         f"--LabApp.workspaces_dir={settings}",  # a fresh workspace: no notebook of an earlier session reopens
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=edition,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    _wait_for(f"{url}/api?token={token}", 120)
    return proc, url, token


def run_all(page, url: str, token: str, chapter: str, timeout: float) -> float:
    """Open ``chapter`` in JupyterLab, run all cells from the menu, and wait until every code cell has run (or one
    failed, which stops Run All) and the kernel is idle again (the markdown cells' ``{eval}`` requests included)."""
    page.goto(f"{url}/lab/tree/{chapter}.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
    page.wait_for_selector("text=/Python 3.*\\| Idle/", timeout=120_000)  # the status bar: a kernel, started
    # the edition's notebooks carry the book's outputs and execution counts: cleared first, every count that shows
    # up after Run All is this run's
    page.click("div.lm-MenuBar-itemLabel:text-is('Edit')")
    page.click("div.lm-Menu-itemLabel:text-is('Clear Outputs of All Cells')")
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("div.lm-Menu-itemLabel:text-is('Run All Cells')")
    t0 = time.monotonic()
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    while time.monotonic() - t0 < timeout:
        time.sleep(2)
        texts = prompts.all_inner_texts()
        running = any("*" in t for t in texts)
        failed = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
        done = all(re.search(r"\d", t) for t in texts)
        if not running and (done or failed) and page.locator("text=/\\| Idle/").count():
            # what the quick start tells students: a sentence above the cell that computes its value (the
            # reproduction card) is filled in by running its cell again once everything has run
            waiting = page.locator(".jp-MarkdownCell", has_text="not computed yet")
            for _ in range(waiting.count()):
                waiting.first.locator(".jp-InputPrompt").click()  # select the cell (command mode)
                page.keyboard.press("Enter")  # edit it: running it then evaluates its roles again
                page.keyboard.press("Shift+Enter")
                time.sleep(1)
            page.wait_for_selector("text=/\\| Idle/", timeout=120_000)
            time.sleep(3)
            return time.monotonic() - t0
    raise TimeoutError(f"{chapter}: Run All did not finish within {timeout:.0f} s")


def _browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def check(edition: Path, chapter: str, timeout: float, out: Path) -> list[str]:
    """Run ``chapter`` of the edition in JupyterLab, on a copy (JupyterLab saves what it runs); return the problems
    found (empty: every role rendered). The rendered text and a screenshot go to ``out``."""
    from playwright.sync_api import sync_playwright

    browser_path = _browser()
    source = json.loads((edition / f"{chapter}.ipynb").read_text())
    markdown = ["".join(c["source"]) for c in source["cells"] if c["cell_type"] == "markdown"]
    expressions = [e for text in markdown for e in EVAL_ROLE.findall(text)]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        settings, copy = Path(tmp) / "settings", Path(tmp) / "edition"
        copy.mkdir()
        shutil.copy2(edition / f"{chapter}.ipynb", copy)
        proc, url, token = start_lab(copy, settings)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=browser_path, headless=True, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                seconds = run_all(page, url, token, chapter, timeout)
                cells = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .myst")
                text = "\n\n".join(cells.nth(i).inner_text() for i in range(cells.count()))
                errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count()
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{chapter}.lab.txt").write_text(text + "\n")
                page.screenshot(path=str(out / f"{chapter}.lab.png"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(30)
    # jupyterlab-myst shows a role it has not evaluated as its expression, in code font: what is left of them
    unevaluated = [e for e in expressions if e in text]
    print(f"{chapter}: Run All in JupyterLab took {seconds:.0f} s; {len(expressions) - len(unevaluated)} of the "
          f"text's {len(expressions)} {{eval}} roles show a value")  # fmt: skip
    if errors:
        problems.append(f"{errors} code cell(s) failed")
    for raw in ("{eval}", "{glue"):
        if raw in text:
            problems.append(f"{text.count(raw)} raw {raw} markup left in the rendered text")
    bad = BAD_VALUE.findall(text)
    if bad:
        problems.append(f"{len(bad)} values show a note or an error instead of a result, e.g. {bad[0]!r}")
    if unevaluated:
        problems.append(f"{len(unevaluated)} {{eval}} roles were not evaluated, e.g. {unevaluated[0]!r}")
    for name, caption in CARD_TABLES.items():  # the reproduction card: a table in the text, not a repr
        if any(f'recall("{name}")' in e for e in expressions) and caption not in text:
            problems.append(f"the reproduction card's {name} table does not show (no {caption!r})")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edition", type=Path, default=ROOT / "_student", help="folder of the student edition")
    ap.add_argument("--chapter", action="append", help="chapter(s) to run (default: 06_rotation_toy)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds a chapter's Run All may take")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "_build" / "lab", help="folder of the rendered text and screenshots"
    )
    args = ap.parse_args(argv)
    os.environ.setdefault("XAI_LIB_THREADS", "2")
    if _browser() is None:  # as data_scripts.check_rendered: said, not failed
        print("no Chromium or Chrome on this machine: JupyterLab not checked")
        return 0
    failed = False
    for chapter in args.chapter or ["06_rotation_toy"]:
        problems = check(args.edition.resolve(), chapter, args.timeout, args.out)
        for p in problems:
            print(f"{chapter}: {p}", file=sys.stderr)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
