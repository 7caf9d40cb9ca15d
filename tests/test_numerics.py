"""The instruction-set pins that make the chapters reproduce across x86-64 CPUs (data_scripts/numerics.py)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from data_scripts.numerics import PINS, cpu_has_avx2, pin

ROOT = Path(__file__).resolve().parents[1]
AVX2_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
OLD_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx\n"


def test_makefile_exports_the_same_pins_only_on_avx2_cpus():
    text = (ROOT / "Makefile").read_text()
    block = re.search(r"ifeq \(\$\(shell grep -qw avx2 /proc/cpuinfo.*?\n(.*?)endif", text, re.S)
    assert block, "Makefile: the AVX2 block is missing"
    exported = dict(re.findall(r"export (\w+) \?= (\S+)", block.group(1)))
    assert exported == PINS


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
