"""Benchmark: the IDGI-tables workload in-process vs a Dask ``local:1`` and ``local:2`` cluster, and the paper scale.

    .venv/bin/pip install -e ".[cluster]"
    .venv/bin/python benchmarks/bench_parallel.py [--systems shapes/vgg,digits/vgg] [--images 64] [--shard 16]

The workload is the per-image work of the chapter "IDGI: the evaluation tables" (seven maps per image, every
metric of Tables 1-4) with the ``paper`` profile's settings (200 steps, Blur IG 100, PAIR's WebP effort 4) on the
``book`` profile's data and models and its image count (the first ``--images`` correctly classified test images
of each system), in shards of ``--shard`` images, run three ways in one process, with the shard cache off:

* ``none``: in this process, ``XAI_LIB_THREADS`` torch threads (2 by default);
* ``local:1``: one worker process with the same threads (the cost of Dask itself: scheduling, pickling results);
* ``local:2``: two worker processes of one thread each (``worker_threads=1``: one core each on a 2-core machine);
  the model is still the one this process loaded.

Then the cost of scheduling alone (a task that does nothing, ``--probes`` shards on ``local:2``), and an
extrapolation of the ``paper`` profile (at most 1,000 correctly classified test images on each of the chapter's eight
systems, fewer where the profile's test split is smaller: digits' 450; counted as an upper bound) from the measured
per-image cost of one single-threaded worker to 1, 4 and 16 such workers, with the shard size that keeps the
scheduling overhead under 5% of a shard's work.

Results: ``benchmarks/results/parallel.csv`` and ``parallel_extrapolation.csv``; with ``--book`` also
``book/parallel_benchmark.csv`` and ``book/parallel_extrapolation.csv`` (the "Run at paper scale" page shows them).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import pandas as pd

import xai_lib
from xai_lib import parallel
from xai_lib.data import dataset_config, load_dataset
from xai_lib.experiments import common
from xai_lib.plotting import save_table
from xai_lib.systems import load_systems

TASK = "xai_lib.experiments.idgi_tables:scores"
PAPER_IMAGES = 1000  # the paper profile's images per system
CHAPTER_SYSTEMS = ",".join(f"{d}/{m}{s}" for d in ("shapes", "digits") for m in ("vgg", "resnet") for s in ("", "_sub"))


def workload(loaded, prof, runner, images: int, shard: int) -> tuple[list[dict], list[int]]:
    paper = xai_lib.get_profile("paper")
    pred = common.predictions(loaded, prof, 0, "cpu", runner)
    payloads, sizes = [], []
    for s in loaded:
        for idx in parallel.shards_of(common.first_correct(pred, s.name, images), shard):
            payloads.append(common.payload(
                s, prof, 0, "cpu", runner, idx, output="probability", steps=paper.idgi_steps,
                blur_steps=paper.blur_steps, webp_method=paper.pic_webp_method, absolute=True, pair_check=False,
            ))  # fmt: skip
            sizes.append(len(idx))
    return payloads, sizes


def run(mode: str, threads: int, loaded, prof, args) -> dict:
    """``threads``: this process's count for ``none``, each worker's (``worker_threads``) for a cluster."""
    t0 = time.perf_counter()
    with parallel.Runner(mode, log=lambda _m: None, worker_threads=None if mode == "none" else threads) as runner:
        t_start = time.perf_counter() - t0
        payloads, sizes = workload(loaded, prof, runner, args.images, args.shard)
        t1 = time.perf_counter()
        results = runner.map(TASK, payloads, desc=f"{mode}", images=sizes, use_cache=False)
        wall = time.perf_counter() - t1
    scores = pd.concat([r["scores"] for r in results], ignore_index=True)
    timing = pd.concat([r["timing"] for r in results], ignore_index=True)
    work = float(timing[["attribution s", "metrics s"]].sum().sum())
    row = {"mode": mode, "threads per worker": threads, "images": sum(sizes), "shards": len(payloads),
           "cluster start s": t_start, "wall s": wall, "work s (inside tasks)": work,
           "wall s per image": wall / sum(sizes)}  # fmt: skip
    print(f"{mode:8s} threads {threads}: {wall:7.1f} s for {sum(sizes)} images in {len(payloads)} shards "
          f"(tasks' own time {work:.1f} s; cluster start {t_start:.1f} s)", flush=True)  # fmt: skip
    return {"row": row, "scores": scores}


def probe(n: int) -> float:
    """Seconds per shard of a task that does nothing, on ``local:2``."""
    with parallel.Runner("local:2", log=lambda _m: None) as runner:
        runner.map("xai_lib.parallel:probe", [{"shard": i} for i in range(4)], use_cache=False, desc="warm-up")
        t0 = time.perf_counter()
        runner.map("xai_lib.parallel:probe", [{"shard": i} for i in range(n)], use_cache=False, desc="probes")
        return (time.perf_counter() - t0) / n * 2  # two workers: each shard occupies one for this long


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", default="shapes/vgg,digits/vgg")
    ap.add_argument("--images", type=int, default=64, help="images per system (the book profile's count)")
    ap.add_argument("--shard", type=int, default=16, help="images per shard (the book profile's shard size)")
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--book", action="store_true", help="also write the tables the book's paper-scale page shows")
    ap.add_argument("--book-only", action="store_true", help="write the book's tables from the last results only")
    args = ap.parse_args()
    results = Path(__file__).parent / "results"
    if args.book_only:
        book_tables(pd.read_csv(results / "parallel.csv"), pd.read_csv(results / "parallel_extrapolation.csv"))
        return
    threads = int(os.environ.get("XAI_LIB_THREADS", 2))
    prof = xai_lib.get_profile("book")
    xai_lib.setup(0, "cpu", threads, profile=prof)
    loaded = load_systems(args.systems, prof, 0, "cpu")
    runs = [run("none", threads, loaded, prof, args), run("local:1", threads, loaded, prof, args),
            run("local:2", 1, loaded, prof, args)]  # fmt: skip
    table = pd.DataFrame([r["row"] for r in runs])
    table["ratio to none"] = table["wall s"] / table.loc[0, "wall s"]
    same = runs[0]["scores"].equals(runs[1]["scores"])
    diff = (runs[0]["scores"]["value"] - runs[2]["scores"]["value"]).abs().max()
    table["max |score - none's|"] = [0.0, float((runs[0]["scores"]["value"] - runs[1]["scores"]["value"]).abs().max()),
                                     float(diff)]  # fmt: skip
    print(f"local:1 per-image numbers equal to none: {same}; local:2 (1 thread per worker) max |difference| {diff:.1e}")
    per_shard = probe(args.probes)
    # one single-threaded worker's cost per image, measured on local:2 (two such workers, one per core)
    per_image = float(table.loc[2, "wall s"]) * 2 / float(table.loc[2, "images"])
    shard_for_5pc = math.ceil(per_shard / (0.05 * per_image))
    table["scheduling s per shard (no-op task)"] = per_shard
    print(f"scheduling alone: {per_shard * 1000:.1f} ms per shard; one worker: {per_image:.2f} s per image; "
          f"overhead < 5% from {shard_for_5pc} image(s) per shard")  # fmt: skip
    rows = []
    total = paper_images()
    for workers in (1, 4, 16):
        shards = math.ceil(total / args.shard)
        hours = (total * per_image + shards * per_shard) / workers / 3600
        share = shards * per_shard / (total * per_image)
        rows.append({"workers (1 core each)": workers, "images": total, "shard size": args.shard, "shards": shards,
                     "estimated hours": hours, "scheduling share": share,
                     "smallest shard with < 5% overhead": shard_for_5pc})  # fmt: skip
    extrapolation = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(extrapolation.to_string(index=False))
    save_table(table, results / "parallel.csv")
    save_table(extrapolation, results / "parallel_extrapolation.csv")
    if args.book:
        book_tables(table, extrapolation)


def paper_images() -> int:
    """An upper bound on the images the ``paper`` profile's IDGI tables work on: per system of the chapter, at most
    :data:`PAPER_IMAGES` correctly classified test images, and at most its ``paper``-profile test split (the bound
    counts every test image as correctly classified)."""
    counts = {}
    for name in CHAPTER_SYSTEMS.split(","):
        dataset = name.split("/")[0]
        cfg = dataset_config(dataset, profile="paper")
        n_test = cfg["n"][2] if "n" in cfg else len(load_dataset(dataset, split="test", profile="paper"))
        counts[name] = min(PAPER_IMAGES, n_test)
    print("paper-profile images per system, at most: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return sum(counts.values())


def book_tables(table: pd.DataFrame, extrapolation: pd.DataFrame) -> None:
    """The tables of the book's paper-scale page: three significant digits."""
    book = Path(__file__).resolve().parents[1] / "book"
    for frame, name in ((table, "parallel_benchmark.csv"), (extrapolation, "parallel_extrapolation.csv")):
        save_table(frame.map(lambda v: float(f"{v:.3g}") if isinstance(v, float) else v), book / name)


if __name__ == "__main__":
    main()
