"""Check the student edition as a student's browser shows it: a chapter opened in JupyterLab (with jupyterlab-myst),
every cell run with *Run All Cells*, then every MyST ``{eval}`` role of its text read back from the page.

    .venv/bin/python -m data_scripts.check_lab [--edition _student] [--chapter 06_rotation_toy]

Needs the student environment (``make .venv/.student``), Playwright (``pip install playwright``; no browser
download: it drives the system's Chromium) and a written student edition (``data_scripts.student_edition``). The
chapter runs at its parameters cell's profile, as a student's Run All does. Fails (exit status 1) when a
markdown cell still shows raw ``{eval}`` or ``{glue`` markup, a role's value is missing or an error, fewer results
are rendered than the text has roles, or a code cell fails. Writes the rendered text and a screenshot beside the
edition (``<chapter>.lab.txt``, ``<chapter>.lab.png``).
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
#: what a role's value must not be: the student edition's "not computed yet" note, or an error
BAD_VALUE = re.compile(r"not computed yet|Error|Traceback")


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
    """A JupyterLab server on the edition, cells rendered all at once (no windowing: every cell is in the page)."""
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), secrets.token_hex(16)
    lab = shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) or "jupyter-lab"
    proc = subprocess.Popen(
        [lab, "--no-browser", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={edition}", f"--LabApp.user_settings_dir={settings}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=edition,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    _wait_for(f"{url}/api?token={token}", 120)
    return proc, url, token


def run_all(page, url: str, token: str, chapter: str, timeout: float) -> float:
    """Open ``chapter`` in JupyterLab, run all cells from the menu and wait until none is queued or running."""
    page.goto(f"{url}/lab/tree/{chapter}.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("div.lm-Menu-itemLabel:text-is('Run All Cells')")
    t0 = time.monotonic()
    page.wait_for_selector(".jp-InputPrompt:has-text('[*]')", timeout=60_000)
    while time.monotonic() - t0 < timeout:
        if not page.locator(".jp-InputPrompt:has-text('[*]')").count():
            time.sleep(3)  # the markdown cells' {eval} requests follow the last code cell
            if not page.locator(".jp-InputPrompt:has-text('[*]')").count():
                return time.monotonic() - t0
        time.sleep(2)
    raise TimeoutError(f"{chapter}: Run All did not finish within {timeout:.0f} s")


def check(edition: Path, chapter: str, timeout: float) -> list[str]:
    """Run ``chapter`` of the edition in JupyterLab; return the problems found (empty: every role rendered)."""
    from playwright.sync_api import sync_playwright

    browser_path = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser_path is None:
        return ["no Chromium or Chrome on this machine"]
    source = json.loads((edition / f"{chapter}.ipynb").read_text())
    markdown = ["".join(c["source"]) for c in source["cells"] if c["cell_type"] == "markdown"]
    roles = sum(len(EVAL_ROLE.findall(text)) for text in markdown)
    problems = []
    with tempfile.TemporaryDirectory() as settings:
        proc, url, token = start_lab(edition, Path(settings))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=browser_path, headless=True, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                seconds = run_all(page, url, token, chapter, timeout)
                cells = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .myst")
                text = "\n\n".join(cells.nth(i).inner_text() for i in range(cells.count()))
                values = page.locator(".jp-MarkdownCell [class*='eval'], .jp-MarkdownCell .myst-inline-expression")
                rendered = [values.nth(i).inner_text() for i in range(values.count())]
                errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count()
                (edition / f"{chapter}.lab.txt").write_text(text + "\n")
                page.screenshot(path=str(edition / f"{chapter}.lab.png"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"{chapter}: Run All in JupyterLab took {seconds:.0f} s; {roles} {{eval}} roles in the text, "
          f"{len(rendered)} rendered values")  # fmt: skip
    if errors:
        problems.append(f"{errors} code cell(s) failed")
    for raw in ("{eval}", "{glue"):
        if raw in text:
            problems.append(f"{text.count(raw)} raw {raw} markup left in the rendered text")
    bad = [v for v in rendered if BAD_VALUE.search(v)]
    if bad:
        problems.append(f"{len(bad)} roles rendered as a note or an error, e.g. {bad[0][:120]!r}")
    if len(rendered) < roles:
        problems.append(f"only {len(rendered)} of the text's {roles} {{eval}} roles were rendered")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edition", type=Path, default=ROOT / "_student", help="folder of the student edition")
    ap.add_argument("--chapter", action="append", help="chapter(s) to run (default: 06_rotation_toy)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds a chapter's Run All may take")
    args = ap.parse_args(argv)
    os.environ.setdefault("XAI_LIB_THREADS", "2")
    failed = False
    for chapter in args.chapter or ["06_rotation_toy"]:
        problems = check(args.edition.resolve(), chapter, args.timeout)
        for p in problems:
            print(f"{chapter}: {p}", file=sys.stderr)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
