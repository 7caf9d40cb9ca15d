"""Build the embedded datasets and check (or retrain) the book's default models.

    python -m data_scripts.build --profile book              # make data: datasets + the shipped models, checked
    python -m data_scripts.build --profile book --retrain    # make models: train from scratch, compare with shipped
    python -m data_scripts.build --profile book --retrain --ship   # replace the shipped models by the retrained ones

Datasets are generated deterministically and cached by configuration under ``$XAI_LIB_CACHE`` (default
``<repo>/.cache``). The default models of the ``smoke`` and ``book`` profiles are shipped with the library
(``xai_lib/models/shipped``, see :mod:`xai_lib.models.shipped`): the default mode loads them, checks each file's
SHA-256 and that the datasets generated here are the ones they were trained and tested on, and prints their test
accuracies beside the shipped ones. ``--retrain`` trains every model from its seed on this machine (shipped models
off; cached like any other trained model) and reports, per model, whether the weights are bit for bit the shipped
ones and how far the test accuracies moved: on another CPU they need not be (see the *How to run* page).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from pathlib import Path

import torch

from xai_lib.data import EMBEDDED, load_dataset
from xai_lib.models import DEFAULT_MODELS, accuracy, build_architecture, default_model_info
from xai_lib.models import shipped as shipped_models
from xai_lib.models.loading import state_digest
from xai_lib.models.registry import training_config
from xai_lib.models.training import EVAL_BATCH
from xai_lib.profiles import PROFILES, get_profile
from xai_lib.runtime import setup


class BuildError(RuntimeError):
    """The data or a shipped model is not what the book was executed with."""


def _accuracies(info: dict, arch: str, dataset: str, profile: str, seed: int) -> dict[str, float]:
    """Test accuracy of the final and ``_sub`` weights (at training's validation batch size: no calibration)."""
    test = load_dataset(dataset, "test", profile, seed)
    accs = {}
    for which in ("final", "sub"):
        model = build_architecture(arch, test.subset(slice(0, 1)))
        model.load_state_dict(info[which])
        accs[which] = accuracy(model.eval(), test, EVAL_BATCH)
    return accs


def _fingerprints(dataset: str, profile: str, seed: int) -> dict[str, str]:
    return {s: load_dataset(dataset, s, profile, seed).fingerprint() for s in ("train", "val", "test")}


def check_shipped(profile: str, seed: int, progress: bool) -> list[dict]:
    """Load every default model of ``profile`` (shipped where shipped), check it against the manifest; rows of
    the printed table. Raises :class:`BuildError` when a dataset differs from the one a shipped model was
    trained on."""
    rows = []
    for dataset, arch in DEFAULT_MODELS:
        t = time.perf_counter()
        cfg = training_config(arch, dataset, get_profile(profile), seed, None)
        entry = shipped_models.find(cfg)
        info = default_model_info(arch, dataset, profile, seed, progress=progress)
        accs = _accuracies(info, arch, dataset, profile, seed)
        row = {"dataset": dataset, "arch": arch, "source": "shipped" if entry else "trained here",
               "test acc": accs["final"], "_sub test acc": accs["sub"]}  # fmt: skip
        if entry is not None:
            prints = _fingerprints(dataset, profile, seed)
            moved = [s for s in prints if prints[s] != entry["data_fingerprints"][s]]
            if moved:
                raise BuildError(
                    f"{dataset} ({profile}, seed {seed}): the {'/'.join(moved)} split generated on this machine "
                    f"differs from the one the shipped {arch} was trained on (fingerprints "
                    f"{[prints[s] for s in moved]} vs {[entry['data_fingerprints'][s] for s in moved]}): every chapter "
                    "would compute on other data"
                )
            row["shipped test acc"] = entry["test_accuracy"]["final"]
            row["shipped _sub test acc"] = entry["test_accuracy"]["sub"]
        row["seconds"] = time.perf_counter() - t
        rows.append(row)
        shipped_note = (
            f"  (shipped: {row['shipped test acc']:.3f} / {row['shipped _sub test acc']:.3f})" if entry else ""
        )
        print(
            f"{dataset:16s} {arch:7s} {row['source']:12s} test acc {accs['final']:.3f}  _sub {accs['sub']:.3f}"
            f"{shipped_note}  ({row['seconds']:.1f} s)",
            flush=True,
        )
    return rows


def retrain(profile: str, seed: int, progress: bool, ship: bool) -> list[dict]:
    """Train every default model of ``profile`` from ``seed`` here (shipped models off) and compare with the
    shipped ones; with ``ship``, write the retrained models as the new shipped set."""
    os.environ["XAI_LIB_SHIPPED_MODELS"] = "0"
    rows = []
    for dataset, arch in DEFAULT_MODELS:
        t = time.perf_counter()
        cfg = training_config(arch, dataset, get_profile(profile), seed, None)
        os.environ["XAI_LIB_SHIPPED_MODELS"] = "1"
        entry = shipped_models.find(cfg)
        os.environ["XAI_LIB_SHIPPED_MODELS"] = "0"
        info = default_model_info(arch, dataset, profile, seed, progress=progress)
        accs = _accuracies(info, arch, dataset, profile, seed)
        digests = {w: state_digest(info[w]) for w in ("final", "sub")}
        row = {
            "profile": profile, "dataset": dataset, "arch": arch, "seed": seed,
            "test acc": accs["final"], "_sub test acc": accs["sub"],
            "shipped test acc": entry["test_accuracy"]["final"] if entry else None,
            "shipped _sub test acc": entry["test_accuracy"]["sub"] if entry else None,
            "weights as shipped": (digests == entry["weights"]) if entry else None,
            "seconds": time.perf_counter() - t,
        }  # fmt: skip
        rows.append(row)
        same = {None: "not shipped", True: "bit for bit", False: "differ"}[row["weights as shipped"]]
        print(
            f"{dataset:16s} {arch:7s} retrained test acc {accs['final']:.3f}  _sub {accs['sub']:.3f}  weights vs "
            f"shipped: {same}" + (f"  (shipped {entry['test_accuracy']['final']:.3f} / "
                                  f"{entry['test_accuracy']['sub']:.3f})" if entry else ""),
            flush=True,
        )  # fmt: skip
        if ship:
            buf = io.BytesIO()
            torch.save(info, buf)
            meta = json.loads(info["meta"])
            shipped_models.ship(
                profile, dataset, arch, meta["config"], buf.getvalue(),
                {"weights": digests, "test_accuracy": accs, "sub_val_accuracy": meta["sub_val_accuracy"],
                 "sub_reached": meta["sub_reached"], "data_fingerprints": _fingerprints(dataset, profile, seed)},
            )  # fmt: skip
    os.environ.pop("XAI_LIB_SHIPPED_MODELS", None)
    return rows


def _one_thread() -> None:
    torch.set_num_threads(1)


def _load(args: tuple[str, str, str, int]) -> None:
    load_dataset(*args)


def build_datasets(profile: str, seed: int) -> None:
    """Generate (or find in the cache) every split of every embedded dataset. Each split is drawn from its own seeded
    generator, so the splits are independent and are built by as many processes as the machine has cores (at most
    one per split; each writes its cache file atomically)."""
    jobs = [(spec, split, profile, seed) for spec in EMBEDDED for split in ("train", "val", "test")]
    workers = min(len(jobs), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if workers <= 1:
        for job in jobs:
            _load(job)
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_one_thread) as pool:
        list(pool.map(_load, jobs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", action="append", choices=sorted(PROFILES), help="profile(s) (default: book)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--retrain", action="store_true", help="train from scratch here and compare with the shipped")
    ap.add_argument("--ship", action="store_true", help="with --retrain: write the retrained models as shipped")
    ap.add_argument("--report", type=Path, help="with --retrain: write the comparison as a CSV table here")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    if args.ship and not args.retrain:
        ap.error("--ship: only with --retrain")
    profiles = args.profile or ["book"]
    setup(args.seed, "cpu")
    if args.ship:
        n = shipped_models.clear_supports()
        print(f"removed {n} shipped support regressions (they belong to the models being replaced)")
    all_rows = []
    for profile in profiles:
        t0 = time.perf_counter()
        build_datasets(profile, args.seed)
        print(f"{profile}: datasets ready in {time.perf_counter() - t0:.1f} s", flush=True)
        try:
            if args.retrain:
                all_rows += retrain(profile, args.seed, not args.quiet, args.ship)
            else:
                all_rows += check_shipped(profile, args.seed, not args.quiet)
        except (BuildError, shipped_models.ShippedModelError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{profile}: total {time.perf_counter() - t0:.1f} s", flush=True)
    if args.retrain:
        same = sum(r["weights as shipped"] is True for r in all_rows)
        compared = sum(r["weights as shipped"] is not None for r in all_rows)
        print(f"retrained weights bit for bit as shipped: {same} of {compared} models")
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            with args.report.open("w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(all_rows[0]))
                writer.writeheader()
                writer.writerows(all_rows)
            print(f"table: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
