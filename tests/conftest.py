"""Tests run on the smoke profile with a private cache, so they never touch the book's cache."""

import os
import tempfile

import pytest
import torch

_CACHE = tempfile.mkdtemp(prefix="xai_lib_test_cache_")
os.environ["XAI_LIB_CACHE"] = _CACHE
# one fixed plan for every model call (calibration is timed and tested in its own test)
os.environ.setdefault("XAI_LIB_EVALS_PER_CALL", "64")
torch.set_num_threads(int(os.environ.get("XAI_LIB_THREADS", "2")))


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache folder for tests that check building, corruption and rebuilding."""
    monkeypatch.setenv("XAI_LIB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
