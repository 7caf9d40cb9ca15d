"""A bare ``pytest`` (unit tests, and the chapters nbval re-executes in kernels that inherit this environment)
computes with the instruction set ``make`` fixes: see ``data_scripts/numerics.py``. Runs before torch is
imported. With nbval active, checked cells are compared at the book's tolerance
(``data_scripts/checked_outputs.py``)."""

from data_scripts.numerics import pin

pin()


def pytest_configure(config):
    if getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False):
        from tests.checked_outputs_plugin import install

        install()
