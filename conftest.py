"""A bare ``pytest`` (unit tests, and the chapters nbval re-executes in kernels that inherit this environment)
computes with the instruction set ``make`` fixes: see ``xai_lib/isa.py``, loaded by its path before torch is
imported (importing ``xai_lib`` would import torch). With nbval active, checked cells are compared at the book's
tolerance (``data_scripts/checked_outputs.py``)."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_xai_lib_isa", Path(__file__).resolve().parent / "xai_lib" / "isa.py")
_isa = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_isa)
_isa.pin()


def pytest_configure(config):
    if getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False):
        from tests.checked_outputs_plugin import install

        install()


#: test files that run chapters on a user's model (session fixtures shared by their tests): scheduled early
LONG_TEST_FILES = ("test_chapters_user.py", "test_gad_glue.py", "test_parallel.py")


def _recorded_seconds() -> dict[str, float]:
    """Each chapter's last recorded run time at the book profile (``book/execution_times.csv``)."""
    import csv
    from pathlib import Path

    record = Path(__file__).resolve().parent / "book" / "execution_times.csv"
    if not record.exists():
        return {}
    return {r["chapter"]: float(r["seconds"]) for r in csv.DictReader(record.open()) if r["profile"] == "book"}


def pytest_collection_modifyitems(config, items):
    """Longest work first, so that ``pytest -n N --dist loadfile --no-loadscope-reorder`` (``make test``) balances
    its workers: the chapters by their recorded run time, then the test files that run chapters, then the rest in
    collection order. Each file stays in one piece and in its own order (nbval's cells depend on it)."""
    seconds = _recorded_seconds()

    def rank(item) -> tuple[int, float]:
        path = item.path
        if path.suffix == ".ipynb":
            return (0, -seconds.get(path.stem, 0.0))
        if path.name in LONG_TEST_FILES:
            return (1, float(LONG_TEST_FILES.index(path.name)))
        return (2, 0.0)

    items[:] = sorted(items, key=rank)  # stable: each file's items keep their order
