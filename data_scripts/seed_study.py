"""The seed study: every reproduction card's claims with the default models trained from other seeds.

    python -m data_scripts.seed_study                        # book profile, seeds 1 and 2 (about 45 min on 2 cores)
    python -m data_scripts.seed_study --profile smoke --seeds 0,1,2 --out runs/seeds_smoke   # what CI runs

A verdict is evidence only if it survives retraining. For each seed the study builds the data and trains the default
models (seed 0's are the shipped ones; the others are trained here and cached), then executes every chapter that
carries a reproduction card with ``-p seed S`` (the seed also draws the generated images and the chapters' samples)
into ``OUT/seedS/``, and collects each card's verdicts. A chapter already executed from the same inputs is not run
again (its notebook records the digest of its inputs), so an interrupted study resumes; the chapters that shard their
images (03, 05, 07) take ``--cluster`` (``local:N`` or a scheduler address) and reuse the shard cache. ``--jobs 2``
runs two chapters at once with one thread each (CI does so at the smoke profile; the book's study runs one at a time
with the book's two threads, the setting of its committed outputs).

Writes ``OUT/seed_verdicts.csv`` (tidy: chapter, settings key, seed, artefact, claim, test, verdict; a card pairs a
claim with the study's verdicts only where the test text is the same, so a rule changed since the study shows "not
measured" instead of the old rule's verdicts). With the book profile
and no ``--out``, the seeds' verdicts also go to ``xai_lib/reference/seed_verdicts.csv``, which the chapters' cards read
(for seed 0 they show every seed's verdict and whether they agree); then re-execute the chapters (``make notebooks``).
With ``--chapter``, only those chapters' rows of that table are replaced; the others' stay.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from data_scripts.execute_chapters import ROOT, chapters, content_key, execute, recorded_key
from xai_lib.cache import atomic_write_text
from xai_lib.report import SEED_VERDICTS, STUDY_SEEDS, read_card

#: chapters with a reproduction card
CARD_CHAPTERS = ("02_idgi_noise", "03_idgi_tables", "04_gad_alpha_sweep", "05_gad_tables", "06_rotation_toy",
                 "07_gax_co_gap", "08_gax_generative")  # fmt: skip
#: chapters that shard their images over a Dask cluster (``cluster`` parameter)
SHARDED = ("03_idgi_tables", "05_gad_tables", "07_gax_co_gap")


def build_seed(seed: int, profile: str) -> None:
    """The seed's data and default models (seed 0's are shipped; the others are trained here and cached), in a
    process of its own (so that several seeds can build at once)."""
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "data_scripts.build", "--profile", profile, "--seed", str(seed), "--quiet"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"seed {seed}: the data build failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    print(f"seed {seed}: data and models ready in {time.perf_counter() - t0:.0f} s", flush=True)


def run_chapter(seed: int, name: str, profile: str, out: Path, cluster: str) -> list[dict]:
    """Execute one chapter with one seed (unless up to date) and return its card's rows."""
    folder = out / f"seed{seed}"
    target = folder / f"{name}.ipynb"
    params = {"profile": profile, "seed": seed, "output_dir": str((folder / name).resolve())}
    if name in SHARDED and cluster != "none":
        params["cluster"] = cluster
    # a seed other than 0 never reads the seed verdicts (its card shows its own): writing them must not make the
    # study run again
    exclude = (SEED_VERDICTS.relative_to(ROOT).as_posix(),) if seed != 0 else ()
    key = content_key(name, {k: v for k, v in params.items() if k != "output_dir"}, exclude)
    if recorded_key(target) == key:
        print(f"seed {seed} {name}: up to date", flush=True)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        print(f"seed {seed} {name}: executing ...", flush=True)
        seconds = execute(name, params, target, key)
        print(f"seed {seed} {name}: done in {seconds:.0f} s", flush=True)
    card = read_card(target)
    if card is None:
        raise RuntimeError(f"{target}: no reproduction card was glued")
    return [{"chapter": card["chapter"], "settings_key": card["settings_key"], "seed": seed,
             "artefact": c["artefact"], "claim": c["claim"], "test": c["test"], "verdict": c["verdict"]}
            for c in card["claims"]]  # fmt: skip


def run(seeds: list[int], profile: str, out: Path, cluster: str, names: list[str], jobs: int) -> list[dict]:
    """Every (seed, chapter), ``jobs`` at a time (each chapter's kernel then computes with
    ``XAI_LIB_THREADS / jobs`` threads, at least one: the cores are shared, not oversubscribed). Chapters run in
    separate processes, not threads: papermill starts each kernel in ``notebooks/`` by changing the working directory
    of its whole process, which two threads would race on (a kernel could start elsewhere and miss the chapters'
    relative files)."""
    from concurrent.futures import ProcessPoolExecutor

    if jobs > 1:
        threads = max(1, int(os.environ.get("XAI_LIB_THREADS", "2")) // jobs)
        os.environ["XAI_LIB_THREADS"] = str(threads)
        print(f"{jobs} at a time, {threads} thread(s) each", flush=True)
    jobs_list = [(s, n) for s in seeds for n in names]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(build_seed, seeds, [profile] * len(seeds)))
        parts = pool.map(run_chapter, *zip(*jobs_list, strict=True), [profile] * len(jobs_list),
                         [out] * len(jobs_list), [cluster] * len(jobs_list))  # fmt: skip
        return [row for part in parts for row in part]


def merged_study(new: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The committed seed verdicts with the rows of the chapters ``names`` replaced by ``new`` (a study of some
    chapters, ``--chapter``, leaves the others' rows as they were)."""
    if not SEED_VERDICTS.exists():
        return new
    old = pd.read_csv(SEED_VERDICTS, dtype=str, keep_default_na=False).astype({"seed": int})
    kept = old[~old.chapter.isin(names)]
    return pd.concat([kept, new], ignore_index=True).sort_values(["chapter", "seed"], kind="stable")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="book")
    ap.add_argument("--seeds", default=",".join(map(str, STUDY_SEEDS)), help="comma-separated training seeds")
    ap.add_argument("--out", type=Path, help="where the seeds' notebooks go (default: runs/seeds/<profile>)")
    ap.add_argument("--cluster", default="none", help="for the sharded chapters: none, local:N or tcp://host:port")
    ap.add_argument("--chapter", action="append", help="only these chapters (default: every chapter with a card)")
    ap.add_argument("--jobs", type=int, default=1, help="chapters executed at once (threads shared among them)")
    args = ap.parse_args(argv)
    names = args.chapter or [c for c in chapters() if c in CARD_CHAPTERS]
    unknown = set(names) - set(CARD_CHAPTERS)
    if unknown:
        ap.error(f"--chapter: {sorted(unknown)} carry no reproduction card; expected some of {list(CARD_CHAPTERS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    out = args.out or ROOT / "runs" / "seeds" / args.profile
    if args.jobs < 1:
        ap.error(f"--jobs: expected an int >= 1, got {args.jobs}")
    rows = run(seeds, args.profile, out, args.cluster, names, args.jobs)
    table = pd.DataFrame(rows).sort_values(["chapter", "seed"], kind="stable")
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "seed_verdicts.csv", index=False)
    wide = table.pivot_table(index=["chapter", "artefact", "claim"], columns="seed", values="verdict", aggfunc="first")
    stable = wide.nunique(axis=1) == 1
    print(wide.assign(stable=stable).to_string())
    print(f"{int(stable.sum())} of {len(wide)} claims have one verdict across seeds {seeds}; table: {out}")
    if args.profile == "book" and args.out is None and set(seeds) >= set(STUDY_SEEDS):
        study = merged_study(table[table.seed.isin(STUDY_SEEDS)], names)
        atomic_write_text(SEED_VERDICTS, study.to_csv(index=False))
        print(f"the cards' seed verdicts: {SEED_VERDICTS.relative_to(ROOT)} (re-execute the chapters: make notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
