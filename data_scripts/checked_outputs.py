"""How a re-executed chapter's checked outputs are compared with the committed ones: the book's one tolerance.

A chapter computed on another CPU (or with another PyTorch) runs other kernels, which sum in other orders: a
number can move in its last printed digit while everything the chapter concludes stays the same. So the checked
outputs (cells marked ``# NBVAL_CHECK_OUTPUT``) are compared token by token:

* **words are exact**: every character that is not part of a number (labels, verdicts, units, column names);
* **integers are exact**: a number printed without a decimal point or exponent (counts, steps, sizes, "51/93",
  a percentage printed as an integer);
* **a printed real may move by one unit in its last printed digit**: ``0.929`` against ``0.928`` or ``0.930``,
  ``1.2e-05`` against ``1.1e-05`` or ``1.3e-05``: the difference a rounding-level change makes to a number
  rounded for print (:data:`LAST_DIGIT_UNITS`);
* **a glued number is compared as the reader sees it**: formatted as the chapter's prose formats it
  (``{glue:text}`name:.3f```), then as above; a glued number that no sentence shows is compared at six
  significant digits.

Nothing else is loosened: a checked cell whose numbers agree at this tolerance and whose words, counts and verdicts
are identical passes. ``python -m data_scripts.checked_outputs COMMITTED.ipynb RERUN.ipynb`` compares two executed
notebooks this way (the nbval plugin in ``tests/checked_outputs_plugin.py`` does it during ``make test``).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

#: how far a printed real may move, in units of its last printed digit
LAST_DIGIT_UNITS = 1
#: the precision of a glued number that no sentence displays
UNDISPLAYED_FORMAT = ".6g"
#: output keys never compared (as nbval skips them): images, metadata, execution counts
SKIPPED_KEYS = frozenset({
    "metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
    "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg", "image/svg+xml",
})  # fmt: skip

# a number not glued to a word or another number: optional sign, digits, optional fraction, optional exponent
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
_GLUE_REF = re.compile(r"\{glue:text\}`([^`:]+)(?::([^`]*))?`")


def _is_real(token: str) -> bool:
    return "." in token or "e" in token.lower()


def _last_unit(token: str) -> Decimal:
    """One unit in the last printed digit of a real token (``0.929`` -> 0.001, ``1.2e-05`` -> 1e-06)."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Decimal(1).scaleb(-decimals + (int(exponent) if exponent else 0))


def numbers_agree(ref: str, test: str) -> str | None:
    """``None`` when ``test`` agrees with ``ref`` under the book's tolerance, else what differs first."""
    if ref == test:
        return None
    ref_tokens, test_tokens = _NUMBER.split(ref), _NUMBER.split(test)
    if len(ref_tokens) != len(test_tokens):
        return f"the text has a different number of parts ({len(ref_tokens)} committed, {len(test_tokens)} computed)"
    for a, b in zip(ref_tokens, test_tokens, strict=True):  # the words between the numbers
        if a != b:
            return f"text {a[:60]!r} became {b[:60]!r}"
    ref_numbers, test_numbers = _NUMBER.findall(ref), _NUMBER.findall(test)
    for a, b in zip(ref_numbers, test_numbers, strict=True):
        if a == b:
            continue
        if not (_is_real(a) and _is_real(b)):
            return f"integer {a} became {b} (integers and counts are compared exactly)"
        try:
            diff = abs(Decimal(a) - Decimal(b))
        except InvalidOperation:
            return f"{a} became {b}"
        allowed = LAST_DIGIT_UNITS * max(_last_unit(a), _last_unit(b))
        if diff > allowed:
            return f"{a} became {b}: moved by {diff:.3g}, more than {LAST_DIGIT_UNITS} unit(s) of its last digit"
    return None


def glue_formats(cells: list[dict[str, Any]]) -> dict[str, set[str]]:
    """For each glued name, the format specs its prose uses (``{glue:text}`name:.3f``` -> ``{".3f"}``)."""
    formats: dict[str, set[str]] = defaultdict(set)
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for name, spec in _GLUE_REF.findall(source):
                formats[name].add(spec or "")
    return formats


def _as_displayed(text: str, specs: set[str]) -> list[str]:
    """A glued value's text as its sentences show it (one string per format spec)."""
    import ast

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return [text]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [text]
    if isinstance(value, float) and not math.isfinite(value):
        return [repr(value)]
    out = []
    for spec in sorted(specs or {UNDISPLAYED_FORMAT}):
        try:
            out.append(format(value, spec) if spec else str(value))
        except ValueError:
            out.append(str(value))
    return out


def _flatten(outputs: list[dict[str, Any]], formats: dict[str, set[str]]) -> dict[str, list[str]]:
    """Outputs by key (stream name or MIME type), as text to compare; glued numbers formatted as displayed."""
    flat: dict[str, list[str]] = defaultdict(list)
    for out in outputs:
        if out.get("output_type") == "stream":
            flat[f"stream:{out['name']}"].append(out["text"])
            continue
        glued = (out.get("metadata") or {}).get("scrapbook", {}).get("name")
        for key, value in (out.get("data") or {}).items():
            if key in SKIPPED_KEYS:
                continue
            text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else repr(value)
            if glued is not None and key.endswith("text/plain"):
                flat[key] += _as_displayed(text, formats.get(glued, set()))
            else:
                flat[key].append(text)
        for key, value in out.items():
            if key not in SKIPPED_KEYS and key not in ("data", "text"):
                flat[key].append(repr(value))
    return flat


def _merge_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for out in outputs:
        if (
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and (merged[-1]["name"] == out["name"])
        ):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + out["text"]}
        else:
            merged.append(dict(out))
    return merged


def outputs_agree(
    ref: list[dict[str, Any]], test: list[dict[str, Any]], formats: dict[str, set[str]] | None = None
) -> list[str]:
    """What differs between a cell's committed outputs ``ref`` and re-executed ``test`` (empty: they agree)."""
    formats = formats or {}
    a, b = _flatten(_merge_streams(ref), formats), _flatten(_merge_streams(test), formats)
    problems = []
    if set(a) != set(b):
        missing, extra = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        return [f"output kinds differ: missing {missing}, unexpected {extra}"]
    for key in a:
        if len(a[key]) != len(b[key]):
            problems.append(f"{key}: {len(a[key])} outputs committed, {len(b[key])} computed")
            continue
        for i, (x, y) in enumerate(zip(a[key], b[key], strict=True)):
            why = numbers_agree(x, y)
            if why is not None:
                line = next((ln for ln in x.splitlines() if ln not in y.splitlines()), "")
                problems.append(f"{key} #{i}: {why}" + (f" (in {line.strip()[:100]!r})" if line else ""))
    return problems


def checked(cell: dict[str, Any]) -> bool:
    """Whether nbval compares this cell's outputs under ``--nbval-lax`` (a ``# NBVAL_CHECK_OUTPUT`` marker)."""
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return cell.get("cell_type") == "code" and any(
        line.strip().lstrip("#").strip() == "NBVAL_CHECK_OUTPUT" for line in source.splitlines()
    )


def compare_notebooks(committed: Path, rerun: Path) -> list[tuple[int, list[str]]]:
    """Per checked code cell (numbered as nbval numbers code cells) whose outputs disagree: its problems."""
    import nbformat

    ref, test = (nbformat.read(str(p), as_version=4) for p in (committed, rerun))
    formats = glue_formats(ref.cells)
    ref_code = [c for c in ref.cells if c.cell_type == "code"]
    test_code = [c for c in test.cells if c.cell_type == "code"]
    if len(ref_code) != len(test_code):
        return [(-1, [f"{len(ref_code)} code cells committed, {len(test_code)} in the re-run"])]
    bad = []
    for i, (a, b) in enumerate(zip(ref_code, test_code, strict=True)):
        if checked(a):
            problems = outputs_agree(a.outputs, b.outputs, formats)
            if problems:
                bad.append((i, problems))
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("committed", type=Path)
    ap.add_argument("rerun", type=Path)
    args = ap.parse_args(argv)
    bad = compare_notebooks(args.committed, args.rerun)
    n_checked = sum(checked(c) for c in __import__("nbformat").read(str(args.committed), as_version=4).cells)
    for i, problems in bad:
        print(f"cell {i}:")
        for p in problems:
            print(f"  {p}")
    print(f"{args.rerun.name}: {len(bad)} of {n_checked} checked cells disagree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
