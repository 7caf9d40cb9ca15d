"""nbval with the book's tolerance: checked cells compare as :mod:`data_scripts.checked_outputs` says (words,
integers and verdicts exact; a printed real within one unit of its last digit; a glued number as its sentence
shows it). Loaded by the repository's ``conftest.py`` whenever nbval is active."""

from __future__ import annotations

import nbval.plugin as nbval_plugin

from data_scripts.checked_outputs import glue_formats, outputs_agree


class ToleranceCell(nbval_plugin.IPyNbCell):
    """An nbval cell item whose output comparison applies the book's tolerance."""

    def compare_outputs(self, test, ref, skip_compare=None):
        nb_file = self.parent
        if not hasattr(nb_file, "_glue_formats"):
            nb_file._glue_formats = glue_formats(nb_file.nb.cells)
        problems = outputs_agree(ref, test, nb_file._glue_formats)
        self.comparison_traceback = [*problems]
        if problems:
            self.comparison_traceback.append(
                "(tolerance: words, integers and verdicts exact; a printed real within one unit of its last digit; "
                "see data_scripts/checked_outputs.py)"
            )
        return not problems


def install() -> None:
    """Make nbval collect :class:`ToleranceCell` items (its collector looks the class up at collection time)."""
    nbval_plugin.IPyNbCell = ToleranceCell
