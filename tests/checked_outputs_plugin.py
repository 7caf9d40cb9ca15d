"""nbval with the book's tolerance: checked cells compare as :mod:`data_scripts.checked_outputs` says (words,
integers and verdicts exact; a printed real within one unit of its last digit; a glued number as its sentence
shows it). Loaded by the repository's ``conftest.py`` whenever nbval is active."""

from __future__ import annotations

import nbval.plugin as nbval_plugin

from data_scripts.checked_outputs import glue_formats, outputs_agree

TOLERANCE_NOTE = (
    "(tolerance: words, integers and verdicts exact; a printed real within one unit of its last digit; "
    "see data_scripts/checked_outputs.py)"
)


def compare_outputs(self, test, ref, skip_compare=None) -> bool:
    """nbval's comparison of a checked cell's outputs (``test``: computed now, ``ref``: committed), with the book's
    tolerance; what differs goes to ``self.comparison_traceback``, which nbval prints."""
    nb_file = self.parent
    if not hasattr(nb_file, "_glue_formats"):
        nb_file._glue_formats = glue_formats(nb_file.nb.cells)
    problems = outputs_agree(ref, test, nb_file._glue_formats)
    self.comparison_traceback = [*problems, TOLERANCE_NOTE] if problems else []
    return not problems


def install() -> None:
    """Give nbval's cell items this comparison (once per process)."""
    nbval_plugin.IPyNbCell.compare_outputs = compare_outputs
