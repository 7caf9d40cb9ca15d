"""A bare ``pytest`` (unit tests, and the chapters nbval re-executes in kernels that inherit this environment)
computes with the instruction set ``make`` fixes: see ``data_scripts/numerics.py``. Runs before torch is
imported."""

from data_scripts.numerics import pin

pin()
