"""xai_lib.stopwatch: seconds per label, on a clock the test controls; and where a real IDGI-tables shard's
time goes adds up."""

import threading
import time

import pandas as pd
import pytest
import torch

from xai_lib import stopwatch
from xai_lib.stopwatch import Stopwatch, timed


@pytest.fixture
def clock(monkeypatch):
    """A clock that advances only when the test says so."""
    now = [0.0]
    monkeypatch.setattr(stopwatch.time, "perf_counter", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def test_sections_add_up_per_label(clock):
    with Stopwatch() as watch:
        with timed("model"):
            clock(2.0)
        clock(5.0)  # outside any section: not counted
        with timed("WebP"):
            clock(0.5)
        with timed("model"):
            clock(1.0)
    assert watch.seconds == {"model": 3.0, "WebP": 0.5}
    assert watch.get("MS-SSIM") == 0.0


def test_a_label_inside_itself_counts_once_and_other_labels_nest(clock):
    with Stopwatch() as watch:
        with timed("model"):
            clock(1.0)
            with timed("model"):  # e.g. a model call made by code that is itself timed as a model call
                clock(2.0)
            with timed("WebP"):
                clock(4.0)
    assert watch.seconds == {"model": 7.0, "WebP": 4.0}


def test_nothing_is_recorded_outside_a_stopwatch_and_an_error_still_closes_the_section(clock):
    with timed("model"):
        clock(1.0)
    with Stopwatch() as watch:
        with pytest.raises(RuntimeError), timed("model"):
            clock(3.0)
            raise RuntimeError("boom")
        with timed("model"):  # the label is not left marked as running
            clock(1.0)
    assert watch.seconds == {"model": 4.0}
    with timed("model"):  # the stopwatch is no longer active
        clock(10.0)
    assert watch.seconds == {"model": 4.0}


def test_stopwatches_nest_and_each_thread_times_only_its_own_work(clock):
    with Stopwatch() as outer:
        with Stopwatch() as inner, timed("model"):
            clock(1.0)
        with timed("model"):
            clock(2.0)
    assert inner.seconds == {"model": 1.0} and outer.seconds == {"model": 2.0}

    seen = {}

    def other_thread():  # a new thread starts with no active stopwatch
        seen["active"] = stopwatch._ACTIVE.get()

    with Stopwatch():
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert seen["active"] is None


@pytest.fixture
def tiny_system_payload():
    """A two-image IDGI-tables shard of the smoke profile's digits VGG, few steps."""
    from xai_lib import parallel
    from xai_lib.experiments import common
    from xai_lib.profiles import get_profile
    from xai_lib.systems import load_system, parse_system

    prof = get_profile("smoke")
    system = load_system(parse_system("digits/vgg"), prof, 0, "cpu")
    return common.payload(system, prof, 0, "cpu", parallel.Runner("none"), [0, 1], output="probability", steps=8,
                          blur_steps=8, webp_method=0, absolute=True, pair_check=False)  # fmt: skip


def test_a_real_shard_splits_into_disjoint_sections(tiny_system_payload):
    """On a real (small) IDGI-tables shard: model calls, WebP and MS-SSIM are each positive, and together no
    longer than the shard (the sections are disjoint and inside it)."""
    from xai_lib.experiments import idgi_tables

    t0 = time.perf_counter()
    row = idgi_tables.scores(tiny_system_payload)["timing"].iloc[0]
    wall = time.perf_counter() - t0
    parts = ["attribution model s", "metrics model s", "WebP s", "MS-SSIM s"]
    assert all(row[c] > 0 for c in parts)
    assert row["attribution model s"] <= row["attribution s"]
    assert row[["metrics model s", "WebP s", "MS-SSIM s"]].sum() <= row["metrics s"]
    assert row["attribution s"] + row["metrics s"] <= wall


def test_time_breakdown_shares_add_up_to_one():
    from xai_lib.experiments.idgi_tables import time_breakdown

    timing = pd.DataFrame([
        {"system": "a", "images": 2, "attribution s": 6.0, "metrics s": 4.0, "attribution model s": 5.0,
         "metrics model s": 2.0, "WebP s": 1.0, "MS-SSIM s": 0.5},
        {"system": "a", "images": 2, "attribution s": 6.0, "metrics s": 4.0, "attribution model s": 5.0,
         "metrics model s": 2.0, "WebP s": 1.0, "MS-SSIM s": 0.5},
        {"system": "b", "images": 1, "attribution s": 1.0, "metrics s": 1.0, "attribution model s": 1.0,
         "metrics model s": 1.0, "WebP s": 0.0, "MS-SSIM s": 0.0},
    ])  # fmt: skip
    t = time_breakdown(timing).set_index("system")
    assert list(t.index) == ["a", "b", "all"]
    assert t.loc["a", "images"] == 4 and t.loc["all", "images"] == 5
    assert t.loc["a", "model calls"] == pytest.approx(14 / 20) and t.loc["a", "WebP"] == pytest.approx(2 / 20)
    assert t.loc["a", "other"] == pytest.approx(1 - (14 + 2 + 1) / 20)
    assert t.loc["b", "model calls"] == pytest.approx(1.0) and t.loc["b", "other"] == pytest.approx(0.0)
    assert t.loc["all", "model calls"] == pytest.approx(16 / 22)
    shares = t[["model calls", "WebP", "MS-SSIM", "other"]].sum(axis=1)
    assert torch.allclose(torch.tensor(shares.to_numpy()), torch.ones(3, dtype=torch.float64))
