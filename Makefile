# Attribution Noise Lab: `make book` builds everything from a fresh clone; `make test` tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= book
BOOK_REPOSITORY ?=
export XAI_LIB_THREADS ?= 2
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# One instruction set for every x86-64 machine with AVX2, so that chapters, trained models and checked outputs
# reproduce bit for bit whether the CPU also has AVX-512 or not (the defaults pick different kernels per CPU):
# PyTorch's own kernels, oneDNN's convolutions and MKL at AVX2, as xai_lib/isa.py (their one owner) prints them: none
# on a CPU without AVX2; a value already in the environment, or given on make's command line, wins.
# A Python that cannot run isa.py must not leave the pins silently unset (every number would then depend on the CPU).
ISA_PINS := $(shell $(PYTHON) xai_lib/isa.py || echo ISA_PINS_UNREAD)
ifneq ($(filter ISA_PINS_UNREAD,$(ISA_PINS)),)
$(error PYTHON=$(PYTHON) could not run xai_lib/isa.py to read the instruction-set pins: give a working Python 3, e.g. make PYTHON=python3.11)
endif
$(foreach pin,$(ISA_PINS),$(eval export $(pin)))

.PHONY: install data models notebooks html book student lab test quick unit nbval test-other-cpu lint format clean
.DEFAULT_GOAL := book

# torch is pinned in the same pip command as everything that depends on it (no CUDA build is pulled). Every installed
# module is compiled once, at install: without that, a machine with PYTHONDONTWRITEBYTECODE set (these have it)
# compiles torch again in every process, and the tests' many processes make `make test` slower. pip compiles one file
# at a time; COMPILE_ALL compiles on every core (the same .pyc files; a file that does not compile is skipped, as
# pip skips it).
PIP_INSTALL := $(PY) -m pip install -q --disable-pip-version-check -c constraints.txt --no-compile
COMPILE_ALL := $(PY) -c "import compileall, sysconfig; \
  [compileall.compile_dir(p, quiet=2, workers=0) for p in {sysconfig.get_path('purelib'), sysconfig.get_path('platlib')}]"
$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e ".[book,test,cluster,bench]"
	@$(COMPILE_ALL)
	@touch $@

install: $(VENV)/.installed

data: install  ## datasets (cached) + the shipped default models, checked against their manifest
	$(PY) -m data_scripts.build --profile $(PROFILE)

models: install  ## retrain the default models here and compare with the shipped ones (SHIP=1: ship the retrained)
	$(PY) -m data_scripts.build --retrain --profile smoke --profile book --report outputs/models_retrained.csv $(if $(SHIP),--ship)
ifneq ($(SHIP),)
	XAI_LIB_SHIP_SUPPORTS=1 $(PY) -m data_scripts.execute_chapters --chapter 04_gad_alpha_sweep \
	  --chapter 05_gad_tables --output-dir outputs/ship_supports
endif

notebooks: data  ## execute the chapters whose inputs changed
	$(PY) -m data_scripts.execute_chapters

html: install  ## render the committed notebooks, warnings as errors (BOOK_REPOSITORY=URL adds launch buttons)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going --config "$$($(PY) -m data_scripts.book_config $(BOOK_REPOSITORY))"
	@echo "Book: file://$(CURDIR)/_build/html/index.html"

book: notebooks html

student: install  ## the student edition in _student/: solutions removed, exercise outputs cleared
	$(PY) -m data_scripts.student_edition --out _student

$(VENV)/.student: $(VENV)/.installed
	$(PIP_INSTALL) -e ".[book,student]"
	@$(COMPILE_ALL)
	@touch $@

lab: $(VENV)/.student student  ## JupyterLab on the student edition (jupyterlab-myst renders MyST and results)
	$(VENV)/bin/jupyter trust _student/*.ipynb
	$(VENV)/bin/jupyter lab --notebook-dir=_student

quick: install  ## the unit tier: no chapter, no Dask cluster, no test of 10 s or more (make test runs them all)
	$(PYTEST_SPREAD) tests -m "not chapters and not dask and not slow"

unit: data
	$(PY) -m pytest tests

nbval: data
	$(PY) -m pytest --nbval-lax -p no:cacheprovider notebooks

# make test spreads the files over TEST_WORKERS processes (pytest-xdist) of one torch thread each: on 2 cores two
# single-threaded processes do 1.7x the work of one with two threads. The chapters' checked outputs do not depend on
# the thread count (within the stated tolerances). TEST_WORKERS=1 runs everything in this process.
TEST_WORKERS ?= 2
PYTEST_SPREAD := $(if $(filter 1,$(TEST_WORKERS)),$(PY) -m pytest,XAI_LIB_THREADS=1 $(PY) -m pytest -n $(TEST_WORKERS) \
  --dist loadfile --no-loadscope-reorder) -p no:cacheprovider
test: data  ## unit tests + nbval (re-executes every chapter and compares the checked outputs)
	$(PYTEST_SPREAD) tests notebooks --nbval-lax --durations=30

# Another CPU, imitated: PyTorch's scalar kernels and oneDNN's SSE4.1 convolutions (every x86-64 CPU has them).
OTHER_CPU := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41
OTHER_CPU_CHAPTERS := notebooks/01_embedded_benchmark.ipynb notebooks/02_idgi_noise.ipynb \
  notebooks/04_gad_alpha_sweep.ipynb notebooks/05_gad_tables.ipynb notebooks/07_gax_co_gap.ipynb \
  notebooks/08_gax_generative.ipynb

test-other-cpu: data  ## the unit tests and chapters 01, 02, 04, 05, 07, 08 under another CPU's kernels, against the committed outputs
	env $(OTHER_CPU) $(PYTEST_SPREAD) tests -m "not chapters"
	env $(OTHER_CPU) $(PYTEST_SPREAD) --nbval-lax $(OTHER_CPU_CHAPTERS) --durations=5

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf _build .cache/exec
