"""Serve MathJax from the book itself, so equations render offline.

MathJax 2.7 ships inside the ``jupyter-server-mathjax`` package; this extension copies it to
``_static/mathjax`` and points Sphinx's ``mathjax_path`` at it (a relative path is relative to ``_static``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx

MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import jupyter_server_mathjax

    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    dst = Path(app.outdir) / "_static" / "mathjax"
    if not (dst / "MathJax.js").exists():
        shutil.copytree(src, dst, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.config.mathjax_path = MATHJAX_URL
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
