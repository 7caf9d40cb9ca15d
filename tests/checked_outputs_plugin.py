"""nbval with the book's tolerance: checked cells compare as :mod:`data_scripts.checked_outputs` says (words,
integers and verdicts exact; a printed real within one unit of its last digit; a glued number as its sentence
shows it), and kernels that cannot collide on a port. Loaded by the repository's ``conftest.py`` whenever nbval is
active."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import nbval.kernel as nbval_kernel
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


def start_new_kernel(startup_timeout: float = 60, kernel_name: str = "python", **kwargs):
    """nbval's kernel start, on Unix-domain sockets in a folder of its own instead of TCP ports.

    Over TCP, jupyter_client picks five free ports by binding port 0 and closing it, and the kernel binds them a
    moment later; two test processes starting kernels at once (``pytest -n 2``) can pick the same port, and the
    second kernel dies before it replies (``RuntimeError: Kernel died before replying to kernel_info``, seen in
    CI for a chapter whose kernel started beside another one). A socket file in a private folder cannot be taken
    by another process. Where Unix-domain sockets do not exist (Windows) nbval's own start is used."""
    if os.name != "posix":
        return _NBVAL_START(startup_timeout=startup_timeout, kernel_name=kernel_name, **kwargs)
    folder = tempfile.mkdtemp(prefix="nbval-kernel-")
    atexit.register(shutil.rmtree, folder, True)
    km = nbval_kernel.KernelManager(
        kernel_name=kernel_name,
        kernel_spec_manager=nbval_kernel.NbvalKernelspecManager(),
        transport="ipc",
        ip=os.path.join(folder, "kernel"),
    )
    km.start_kernel(**kwargs)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=startup_timeout)
    except RuntimeError:
        kc.stop_channels()
        km.shutdown_kernel()
        raise
    return km, kc


_NBVAL_START = nbval_kernel.start_new_kernel


def install() -> None:
    """Give nbval's cell items this comparison and its kernels private sockets (once per process)."""
    nbval_plugin.IPyNbCell.compare_outputs = compare_outputs
    nbval_kernel.start_new_kernel = start_new_kernel
