"""Run profiles, defined once: ``smoke`` (seconds, for tests), ``book`` (default, CPU-sized), ``class`` (the book's
models and sizes with chapter 3's image counts cut so that every chapter runs in class), ``paper``.

A chapter reads every size it uses from its profile, so ``-p profile paper`` on papermill scales a whole
chapter up (for a GPU or a long run) without touching the notebook: ``paper`` uses the papers' step counts and, where
the embedded data allow, their image counts (the IDGI paper evaluates 33K-39K ImageNet images per model; ``paper``
takes 1,000 per system). ``book/paper_scale.md`` lists what it sets against the papers.

Model calls: ``smoke``, ``book`` and ``class`` fix the evaluations per call (32, channels-last: what calibration
selects for the book's models on the 2-core CPU that executes the book), so their committed outputs reproduce bit
for bit; ``paper`` calibrates on the machine it runs on (:mod:`xai_lib.batching`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    # embedded datasets
    image_size: int  # shapes side in pixels
    digits_size: int  # digits are 8x8 upscaled to this side
    n_train: int  # shapes images per split
    n_val: int
    n_test: int
    # default-model training (data_scripts/ and xai_lib.models.training)
    epochs: int
    batch_size: int
    lr: float
    sub_target: float  # validation accuracy at which the under-trained ``_sub`` snapshot is taken
    tabular_epochs: int
    # chapter sizes
    n_show: int  # images drawn in figures
    toy_n_theta: int  # theta grid of the 2D rotation toy
    toy_ascent_steps: int  # k of eq. (4) when checked by autograd
    # IDGI chapters
    idgi_steps: int  # Riemann steps of IG and Guided IG (the IDGI paper uses 200)
    blur_steps: int  # steps of Blur IG (PAIR's default 100; the IDGI paper uses 200 for every path method)
    idgi_images: int  # images per system for completeness studies
    idgi_table_images: int  # correctly predicted images per system in the IDGI tables
    # GAX chapters
    gax_images: int  # test inputs per system for the CO-score distributions (capped by the test split)
    gad_images_per_class: int  # test images per class in the GAD tables (the paper: 256)
    gad_train_per_class: int  # training images per class for the support regressions
    gad_ig_steps: int  # steps of captum's IntegratedGradients in GAD maps
    gax_opt_images: int  # correctly predicted images per system optimised by generative AX
    gax_max_steps: int  # iteration cap of generative AX (the reference code has none)
    n_boot: int  # bootstrap resamples for confidence intervals
    # model calls and sharding (xai_lib.batching, xai_lib.parallel)
    evals_per_call: int | str  # model evaluations per call; "auto": calibrated on the machine (timing-based)
    channels_last: bool  # memory layout of those calls (ignored when calibrated)
    shard_images: int  # images per shard of the per-image chapters (the unit of caching and of Dask tasks)
    pic_webp_method: int  # WebP encoder effort of the entropy information level (4 is PAIR's)
    pair_check_images: int  # images of the PAIR-protocol cross-check in the IDGI tables

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def training_config(self) -> dict[str, Any]:
        """The part of the profile that determines a trained default model (its cache key)."""
        return {k: getattr(self, k) for k in ("epochs", "batch_size", "lr", "sub_target", "tabular_epochs")}


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        image_size=32,
        digits_size=16,
        n_train=160,
        n_val=64,
        n_test=64,
        epochs=1,
        batch_size=32,
        lr=5e-3,
        sub_target=0.5,
        tabular_epochs=5,
        n_show=4,
        toy_n_theta=41,
        toy_ascent_steps=3,
        idgi_steps=8,
        blur_steps=8,
        idgi_images=2,
        idgi_table_images=3,
        gad_images_per_class=4,
        gad_train_per_class=32,
        gad_ig_steps=4,
        gax_images=48,
        gax_opt_images=4,
        gax_max_steps=20,
        n_boot=50,
        evals_per_call=32,
        channels_last=True,
        shard_images=4,
        pic_webp_method=0,
        pair_check_images=2,
    ),
    "book": Profile(
        name="book",
        image_size=64,
        digits_size=32,
        n_train=2400,
        n_val=480,
        n_test=960,
        epochs=10,
        batch_size=32,
        lr=5e-3,
        sub_target=0.8,
        tabular_epochs=60,
        n_show=8,
        toy_n_theta=721,
        toy_ascent_steps=12,
        idgi_steps=200,
        blur_steps=100,
        idgi_images=16,
        idgi_table_images=64,
        gad_images_per_class=64,
        gad_train_per_class=256,
        gad_ig_steps=16,
        gax_images=480,
        gax_opt_images=32,
        gax_max_steps=300,
        n_boot=1000,
        evals_per_call=32,
        channels_last=True,
        shard_images=16,
        pic_webp_method=0,
        pair_check_images=16,
    ),
    "paper": Profile(
        name="paper",
        image_size=64,
        digits_size=32,
        n_train=20000,
        n_val=2000,
        n_test=5000,
        epochs=30,
        batch_size=32,
        lr=1e-3,
        sub_target=0.8,
        tabular_epochs=200,
        n_show=12,
        toy_n_theta=2001,
        toy_ascent_steps=120,
        idgi_steps=200,
        blur_steps=200,  # the IDGI paper's 200 (sec. 4.1), not PAIR's default 100
        idgi_images=64,
        idgi_table_images=1000,
        gad_images_per_class=256,
        gad_train_per_class=100000,
        gad_ig_steps=50,
        gax_images=100_000,
        gax_opt_images=100,
        gax_max_steps=1000,
        n_boot=2000,
        evals_per_call="auto",
        channels_last=False,
        shard_images=32,
        pic_webp_method=4,
        pair_check_images=100,
    ),
}


#: the fields in which ``class`` differs from ``book``: chapter 3's image counts (its 64 images per system take about
#: 7.5 minutes on 2 cores; 16 take under 2.5). Every other field, the data and the trained models included, is the
#: book's, so every other chapter computes at ``class`` exactly what it computes at ``book``.
CLASS_CHANGES: dict[str, Any] = {"idgi_table_images": 16, "pair_check_images": 4}
PROFILES["class"] = replace(PROFILES["book"], name="class", **CLASS_CHANGES)


def computes_as_book(profile: Profile, *fields: str) -> bool:
    """Whether a run at ``profile`` computes what the book's run computes, for a chapter that reads the profile's
    ``fields`` besides the data and model ones: every field equals the book's, or only :data:`CLASS_CHANGES` differ
    and the chapter reads none of them (``class`` in every chapter but the third). The chapters' checks of the book
    run's empirical facts apply to such a run."""
    book = PROFILES["book"]
    differs = {k for k in book.to_dict() if k != "name" and getattr(profile, k) != getattr(book, k)}
    return differs <= set(CLASS_CHANGES) and not differs & set(fields)


def get_profile(profile: str | Profile, **overrides: Any) -> Profile:
    """Look a profile up by name (``smoke``, ``book``, ``class``, ``paper``), optionally overriding fields."""
    if isinstance(profile, Profile):
        base = profile
    elif isinstance(profile, str) and profile in PROFILES:
        base = PROFILES[profile]
    else:
        raise ValueError(f"profile: expected one of {sorted(PROFILES)}, got {profile!r}")
    unknown = set(overrides) - set(base.to_dict())
    if unknown:
        raise ValueError(f"profile overrides: unknown field(s) {sorted(unknown)}")
    return replace(base, **overrides) if overrides else base
