"""The instruction-set pins that make the chapters reproduce across x86-64 CPUs (xai_lib/isa.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from xai_lib.isa import PINS, cpu_has_avx2, pin

ROOT = Path(__file__).resolve().parents[1]
AVX2_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
OLD_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx\n"


@pytest.mark.skipif(not cpu_has_avx2(), reason="the pins apply to x86-64 CPUs with AVX2 only")
def test_makefile_exports_the_pins_and_keeps_a_value_given():
    """What every make target sees: the pins of xai_lib/isa.py, the one owner; a value in the environment or on
    make's command line wins."""
    show = "show: ; @echo $$ATEN_CPU_CAPABILITY $$ONEDNN_MAX_CPU_ISA $$MKL_ENABLE_INSTRUCTIONS"
    env = {k: v for k, v in os.environ.items() if k not in PINS and not k.startswith("MAKE")}

    def seen(*args: str, **extra: str) -> list[str]:
        cmd = ["make", "-s", "-f", "Makefile", "--eval", show, *args, "show"]
        return subprocess.run(cmd, cwd=ROOT, env={**env, **extra}, capture_output=True, text=True,
                              check=True).stdout.split()  # fmt: skip

    assert seen() == list(PINS.values())
    assert seen(ONEDNN_MAX_CPU_ISA="SSE41") == ["avx2", "SSE41", "AVX2"]
    assert seen("ATEN_CPU_CAPABILITY=default") == ["default", "AVX2", "AVX2"]
    # a Python that cannot run isa.py stops make with the reason, instead of leaving the pins unset
    broken = subprocess.run(["make", "-s", "-f", "Makefile", "--eval", show, "PYTHON=/nonexistent/python", "show"],
                            cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    assert broken.returncode != 0 and "could not run xai_lib/isa.py" in broken.stderr


def test_pin_sets_missing_values_keeps_the_users_and_skips_other_cpus():
    env = {"ONEDNN_MAX_CPU_ISA": "SSE41"}
    assert pin(env, AVX2_CPU) == {**PINS, "ONEDNN_MAX_CPU_ISA": "SSE41"}
    assert env["ATEN_CPU_CAPABILITY"] == "avx2"
    other = {}
    assert pin(other, OLD_CPU) == {} and other == {}
    assert not cpu_has_avx2("flags : avx avx2x\n")  # a flag is a whole word


@pytest.mark.skipif(not cpu_has_avx2(), reason="the pins apply to x86-64 CPUs with AVX2 only")
def test_pins_are_in_effect_in_the_test_process_and_in_a_new_one():
    assert {k: os.environ.get(k) for k in PINS} == pin(dict(os.environ))
    assert torch.backends.cpu.get_cpu_capability() == os.environ["ATEN_CPU_CAPABILITY"].upper()
    # a variable is read when torch first dispatches: a fresh process told "default" runs the generic kernels
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "ATEN_CPU_CAPABILITY": "default"},
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == "DEFAULT"
