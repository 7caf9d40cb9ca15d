"""Tests run on the smoke profile with a private cache, so they never touch the book's cache.

The environment is set for the modules of ``tests/`` only (and restored after each, with anything a module's
libraries wrote into it removed), so the chapters that nbval re-executes in the same session see the book's own
cache, the plan their profile fixes and the environment ``make test`` was started with.
"""

import os
import tempfile

import pytest
import torch

CACHE = tempfile.mkdtemp(prefix="xai_lib_test_cache_")
TEST_ENV = {
    "XAI_LIB_CACHE": CACHE,
    # one fixed plan for every model call (calibration is timed and tested in its own test)
    "XAI_LIB_EVALS_PER_CALL": os.environ.get("XAI_LIB_EVALS_PER_CALL", "64"),
}
THREADS = int(os.environ.get("XAI_LIB_THREADS", "2"))
torch.set_num_threads(THREADS)


@pytest.fixture(autouse=True)
def _torch_threads():
    """Every test starts with the session's torch thread count, whatever the test before it set. A process left at 2
    intra-op threads while another process keeps the second core busy waits for its descheduled thread at every
    operation: small tensor work then runs 10-70x slower (measured in ``make test``: a 2 s test took 38 s)."""
    if torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)
    yield


@pytest.fixture(autouse=True, scope="module")
def _test_environment():
    from xai_lib import batching
    from xai_lib.parallel import restore_environ

    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in TEST_ENV.items():
            mp.setenv(key, value)
        saved = batching.default()
        batching.set_default(*batching.env_default())
        yield
        batching.set_default(*(saved if saved is not None else ("auto",)))
    # whatever a module's libraries wrote into the environment (Dask's nanny writes its worker settings) must not
    # reach the chapter kernels nbval starts later in this session
    added = [k for k in os.environ if k not in environ and k != "PYTEST_CURRENT_TEST" and not k.startswith("__DASK")]
    restore_environ(environ | dict.fromkeys(added))


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache folder for tests that check building, corruption and rebuilding."""
    monkeypatch.setenv("XAI_LIB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
