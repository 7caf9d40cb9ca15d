"""Chapter 1's tables, figures and sentences: the embedded datasets and their masks, the models' accuracies and
``_sub`` snapshots, the shipped models against this machine, a reader's own photo folder by file type, and the
exercises' measurements (the most confused pair of shapes, the spurious mark, the smoke profile).

Every sentence is chosen from the run's own numbers, with a *not measured* branch where a run cannot make the
measurement (no masks, no ``_sub`` snapshot, no shipped model, a folder without one of the file types).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image
from scipy.stats import fisher_exact, spearmanr

from .. import report
from ..data import load_dataset, shapes
from ..models import DEFAULT_MODELS, batched_logits, default_model_info, shipped
from ..models.registry import SUB_TOLERANCE
from ..models.training import train_classifier
from ..plotting import confusion_matrix, finish, image_grid, plot_confusion, save_table, to_hwc
from ..systems import load_system, parse_systems

#: the validation images of each ``_sub`` check (the first ones of the split: fewer where the split is smaller)
SUB_CHECK = inspect.signature(train_classifier).parameters["sub_check_size"].default
#: the CO-score chapter (07) leaves out of its counts and verdicts every system with fewer wrong predictions than
#: this among the images it scores (its default ``few_wrong``); chapter 1 applies it to the whole test split
FEW_WRONG_CO = 20
#: Fisher's exact test level of the PNG/JPEG gap and of the spurious mark's gap
FORMAT_ALPHA = MARK_ALPHA = 0.05
#: the photo folder's class folders -> the model output that stands for each (three of ``shapes``' eight)
PHOTO_CLASSES = {"disk": 0, "square": 2, "triangle": 3}


def dataset_label(spec: str) -> str:
    """A dataset's name in tables and file names: an image folder's own name."""
    return spec if not spec.startswith("imagefolder:") else Path(spec.split(":", 1)[1]).name


def fingerprint(t: torch.Tensor) -> str:
    """The first 12 hex digits of the SHA-256 of a tensor's bytes."""
    return hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()[:12]


def datasets_table(data: Mapping[str, Mapping[str, object]]) -> pd.DataFrame:
    """One row per dataset of ``data`` (spec -> split -> dataset): kind, classes, input shape, split sizes, whether it
    has masks, the fingerprint of its test inputs."""
    rows = []
    for spec, splits in data.items():
        test = splits["test"]
        rows.append({
            "dataset": dataset_label(spec),
            "kind": test.kind, "classes": test.num_classes, "input": "x".join(map(str, test.input_shape)),
            "train": len(splits["train"]), "val": len(splits["val"]), "test": len(test),
            "mask": test.masks is not None, "test sha256": fingerprint(test.inputs),
        })  # fmt: skip
    return pd.DataFrame(rows)


def mask_table(data: Mapping[str, Mapping[str, object]]) -> pd.DataFrame:
    """Per dataset with a discriminative-part mask and an object mask: the part's share of the image, the share of the
    part inside the object (1 when every part pixel lies on the object) and the test images with an empty part."""
    rows = []
    for spec, splits in data.items():
        test = splits["test"]
        if test.masks is None or "object" not in test.extra_masks:
            continue
        obj = test.extra_masks["object"]
        rows.append({
            "dataset": dataset_label(spec), "part share of image": test.masks.float().mean().item(),
            "part inside object": (test.masks & obj).sum().item() / max(test.masks.sum().item(), 1),
            "images with empty part": int((test.masks.sum((1, 2)) == 0).sum()),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["dataset", "part share of image", "part inside object",
                                       "images with empty part"])  # fmt: skip


def mask_sentence(table: pd.DataFrame) -> str:
    """What :func:`mask_table` shows, in one sentence."""
    if not len(table):
        return "Not measured: none of this run's datasets has masks of a discriminative part and of an object."
    empty = table[table["images with empty part"] > 0]
    where = report.listed(f"{d} ({n} images)" for d, n in zip(empty.dataset, empty["images with empty part"],
                                                              strict=True))  # fmt: skip
    return (f"In {report.listed(table.dataset)}, every pixel of the discriminative part lies on the visible "
            "object (the cell asserts it), and "
            + (f"test images with an empty part occur in {where}." if len(empty) else
               "no test image has an empty part."))  # fmt: skip


def show_examples(test, title: str, n: int, path: Path) -> None:
    """A grid of test images per class with the contour of their mask (the cue's in ``shapes_spurious``, the marked
    images only); nothing for tabular data."""
    if test.kind != "image":
        return
    per_class = max(1, n // test.num_classes)
    idx = torch.cat([torch.nonzero(test.labels == c).flatten()[:per_class] for c in range(test.num_classes)])
    idx = idx[: max(n, test.num_classes)]
    drawn = "spurious mark (cue)" if "cue" in test.extra_masks else "discriminative part"
    masks = test.extra_masks.get("cue", test.masks)
    if "cue" in test.extra_masks:
        idx = torch.nonzero(test.extra_masks["cue"].any((1, 2))).flatten()[:n]
    fig = image_grid(test.inputs[idx], [test.class_names[i] for i in test.labels[idx]],
                     None if masks is None else masks[idx], ncols=min(8, len(idx)))  # fmt: skip
    fig.suptitle(f"{title} (test split){f'; contour: {drawn}' if masks is not None else ''}",
                 y=1.02, fontsize=10)  # fmt: skip
    finish(fig, path, tight=False)


def accuracy_table(specs, prof, seed: int, device, data) -> tuple[pd.DataFrame, dict, dict]:
    """Loads every system of ``specs`` and predicts its test split: the accuracy table (parameters, outputs, test
    accuracy, wrong predictions, and for a default ``_sub`` model the check accuracy of its snapshot as recorded when
    it was trained), the loaded systems and their predictions, by system name."""
    default_pairs = set(DEFAULT_MODELS)
    loaded, preds, rows = {}, {}, []
    for spec in specs:
        system = load_system(spec, prof, seed, device)
        test = system.data("test")
        pred = batched_logits(system.model, test.inputs).argmax(1)
        loaded[system.name], preds[system.name] = system, pred
        # a default _sub model's snapshot, as recorded when it was trained (your own models have none)
        snap_acc, snap_n, snap_reached = float("nan"), None, ""
        base = spec.model.removesuffix("_sub")
        if spec.model.endswith("_sub") and (spec.dataset, base) in default_pairs and spec.image_size is None:
            meta = json.loads(default_model_info(base, spec.dataset, prof, seed, progress=False)["meta"])
            if meta.get("sub_val_accuracy") is not None:
                snap_acc = float(meta["sub_val_accuracy"])
                snap_n = min(SUB_CHECK, len(data[spec.dataset]["val"]))
                snap_reached = "yes" if meta.get("sub_reached") else "no"
        rows.append({"system": system.name, "parameters": sum(p.numel() for p in system.model.parameters()),
                     "outputs": system.num_outputs, "test accuracy": (pred == test.targets).float().mean().item(),
                     "wrong predictions": int((pred != test.targets).sum()), "_sub check accuracy": snap_acc,
                     "_sub check images": snap_n, "_sub reached target": snap_reached})  # fmt: skip
    table = pd.DataFrame(rows)
    table["_sub check images"] = table["_sub check images"].astype("Int64")
    return table, loaded, preds


def _error_range(rows: pd.DataFrame, kind: str) -> str:
    """The share of wrong test predictions of ``rows``' models, said as a range (or "not measured")."""
    errors = 1 - rows.set_index("system")["test accuracy"]
    if not len(errors):
        return f"the error rate of {kind} image models is not measured (this run has none)"
    if len(errors) == 1:
        return f"the {kind} image model {errors.index[0]} gets {errors.iloc[0]:.0%} of the test images wrong"
    if f"{errors.min():.0%}" == f"{errors.max():.0%}":
        return f"the {kind} image models each get {errors.max():.0%} of the test images wrong"
    return (f"the {kind} image models get between {errors.min():.0%} and {errors.max():.0%} of the test images wrong "
            f"(most: {errors.idxmax()})")  # fmt: skip


def error_sentence(table: pd.DataFrame, image_systems: Sequence[str]) -> str:
    """The error rates of the well-trained and ``_sub`` image models of :func:`accuracy_table`, and whether each
    ``_sub`` model is less accurate than its twin (``image_systems``: the names of the image systems)."""
    image_rows = table[table.system.isin(list(image_systems))]
    if not len(image_rows):
        return "Not measured: this run has no image models, so their error rates are not measured here."
    well = image_rows[~image_rows.system.str.endswith("_sub")]
    sub = image_rows[image_rows.system.str.endswith("_sub")]
    sentence = _error_range(well, "well-trained") + "; " + _error_range(sub, "_sub") + "."
    twins = [(n, n.removesuffix("_sub")) for n in sub.system if n.removesuffix("_sub") in set(well.system)]
    by_name = table.set_index("system")["test accuracy"]
    if twins:
        n_worse, n_twins = int(sum(by_name[s_] < by_name[w_] for s_, w_ in twins)), len(twins)
        which = "" if n_twins == len(sub) else " with a well-trained twin in this run"  # the twins only are compared
        twin = "less accurate than its well-trained twin."
        if n_worse == n_twins:
            sentence += (
                f" Every _sub image model{which} is {twin}"
                if n_twins > 1
                else f" The _sub image model{which} is {twin}"
            )
        elif n_worse == 0:
            sentence += (f" No _sub image model{which} is {twin}" if n_twins > 1 else
                         f" The _sub image model{which} is not {twin}")  # fmt: skip
        else:
            verb, them = ("is", "its well-trained twin") if n_worse == 1 else ("are", "their well-trained twins")
            sentence += f" {n_worse} of the {n_twins} _sub image models{which} {verb} less accurate than {them}."
    return sentence[0].upper() + sentence[1:]


def wrong_sentence(table: pd.DataFrame, few_wrong: int = FEW_WRONG_CO) -> str:
    """Which systems make fewer than ``few_wrong`` wrong predictions on the whole test split (the CO-score chapter
    cannot compare wrong with correct predictions there), and how many ``_sub`` models make enough."""
    few = table[table["wrong predictions"] < few_wrong]
    subs = table[table.system.str.endswith("_sub")]
    n_subs_enough = int((subs["wrong predictions"] >= few_wrong).sum())
    sub_part = (f" The _sub models are there for this: {n_subs_enough} of the {len(subs)} here make at least "
                f"{few_wrong}." if len(subs) else "")  # fmt: skip
    if not len(few):
        return (f"{'Every system' if len(table) > 1 else 'The system'} makes at least {few_wrong} "
                "wrong predictions on the whole test split, the least the CO-score chapter (07) needs to compare "
                "wrong predictions with correct ones; it scores part of the test split, where a system can "
                "still have fewer." + sub_part)  # fmt: skip
    lo_w, hi_w = int(few["wrong predictions"].min()), int(few["wrong predictions"].max())
    return (f"On the whole test split {report.listed(few.system)} {'makes' if len(few) == 1 else 'make'} fewer than "
            f"{few_wrong} wrong predictions ({lo_w if lo_w == hi_w else f'from {lo_w} to {hi_w}'}), the least the "
            "CO-score chapter (07) needs to compare wrong "
            "predictions with correct ones: there that comparison is not measured (the chapter scores part "
            "of the test split, so other systems can fall short there too)." + sub_part)  # fmt: skip


def sub_snapshot_glue(table: pd.DataFrame, sub_target: float) -> dict[str, str]:
    """``sub_snapshot_sentence`` (how far the recorded ``_sub`` snapshots lie from ``sub_target``) and
    ``sub_check_text`` (on how many validation images they were checked)."""
    snaps = table.dropna(subset=["_sub check accuracy"])
    if not len(snaps):
        reason = ("no _sub model of this run has a recorded snapshot (your own models have none), so where the "
                  "snapshots sit against the target is unknown")  # fmt: skip
        return {"sub_snapshot_sentence": report.not_measured(reason, start=True) + ".",
                "sub_check_text": f"{SUB_CHECK} validation images"}  # fmt: skip
    n_below = int((snaps["_sub check accuracy"] < sub_target).sum())
    missed = list(snaps.system[snaps["_sub reached target"] == "no"])
    if len(snaps) == 1:
        acc = float(snaps["_sub check accuracy"].iloc[0])
        sentence = (f"The _sub snapshot's check accuracy, {acc:.3f}, is {'below' if acc < sub_target else 'not below'} "
                    f"the target of {sub_target:.0%}; it {'did not come' if missed else 'came'} within "
                    f"{SUB_TOLERANCE:.2f} of it.")  # fmt: skip
    else:
        sentence = (
            f"{n_below} of the {len(snaps)} _sub snapshots have a check accuracy below the target of "
            f"{sub_target:.0%} (the {len(snaps)} range from {snaps['_sub check accuracy'].min():.2f} to "
            f"{snaps['_sub check accuracy'].max():.2f}); "
            + (f"{report.listed(missed)} did not come within {SUB_TOLERANCE:.2f} of it." if missed else
               f"every one came within {SUB_TOLERANCE:.2f} of it.")
        )  # fmt: skip
    fewer = snaps[snaps["_sub check images"] < SUB_CHECK]
    fewer = fewer.assign(system=fewer.system.str.split("/").str[0]).drop_duplicates("system")  # one row per dataset
    check_text = f"{SUB_CHECK} validation images" + (
        " (fewer where the validation split is smaller: "
        + report.listed(f"{n} for {name}" for name, n in zip(fewer.system, fewer["_sub check images"], strict=True))
        + ")" if len(fewer) else ""
    )  # fmt: skip
    return {"sub_snapshot_sentence": sentence, "sub_check_text": check_text}


def chance_sentence(descriptions: Mapping[str, str]) -> str:
    """Which systems' description lines carry a near-chance CAUTION."""
    near_chance = [name for name, line in descriptions.items() if "CAUTION" in line]
    if not near_chance:
        return (
            f"{'None of the systems is' if len(descriptions) > 1 else 'The system is not'} flagged in the lines above"
        )
    return (f"{len(near_chance)} of the {len(descriptions)} systems {'is' if len(near_chance) == 1 else 'are'} "
            f"flagged in the lines above: {report.listed(near_chance)}")  # fmt: skip


def bare_registry(loaded: Mapping) -> set[str]:
    """The names of the systems of ``loaded`` given as a bare registry spec (dataset and model only: no weights,
    normalisation, class mapping, image size or name of the reader's), the only ones a shipped model can be."""
    from ..systems import SystemSpec

    def bare(spec) -> bool:
        try:  # a model that is not in the registry cannot even be specified bare (it needs weights)
            return spec == SystemSpec(spec.dataset, spec.model)
        except ValueError:
            return False

    return {n for n, s in loaded.items() if bare(s.spec)}


def shipped_table(accuracy: pd.DataFrame, data, models_profile: str, seed: int, bare: set[str]) -> pd.DataFrame:
    """Per shipped model of this run (``bare``: :func:`bare_registry`): the test accuracy recorded when it was shipped
    against the one computed here, whether the data generated here have the fingerprints the manifest records, and
    its weights digest."""
    rows, prints_here = [], {}  # the data fingerprints of this run's splits (the manifest records those each model saw)
    here_acc = accuracy.set_index("system")["test accuracy"]
    for entry in shipped.entries():
        for variant, suffix in (("final", ""), ("sub", "_sub")):
            name = f"{entry['dataset']}/{entry['arch']}{suffix}"
            if entry["profile"] != models_profile or entry["seed"] != seed or name not in bare:
                continue
            here = float(here_acc.loc[name])
            if entry["dataset"] not in prints_here:
                prints_here[entry["dataset"]] = {s_: data[entry["dataset"]][s_].fingerprint()
                                                 for s_ in ("train", "val", "test")}  # fmt: skip
            same_data = all(prints_here[entry["dataset"]][s_] == f for s_, f in entry["data_fingerprints"].items())
            rows.append({"system": name, "shipped test accuracy": entry["test_accuracy"][variant],
                         "test accuracy here": here, "same": here == entry["test_accuracy"][variant],
                         "data as shipped": same_data, "weights digest": entry["weights"][variant]})  # fmt: skip
    return pd.DataFrame(rows, columns=["system", "shipped test accuracy", "test accuracy here", "same",
                                       "data as shipped", "weights digest"])  # fmt: skip


def shipped_sentence(table: pd.DataFrame, models_profile: str, seed: int) -> str:
    """What :func:`shipped_table` shows: whether every shipped model reaches its recorded accuracy here, and for
    those that do not, whether the data or the kernels differ."""
    if not len(table):
        return ("Not measured: none of this run's systems is a shipped model (the book ships the default models of the "
                "smoke and book profiles, seed 0, given by dataset and model alone).")  # fmt: skip
    shown = {s.removesuffix("_sub") for s in table.system}
    trained_with = next(e["trained_with"] for e in shipped.entries() if e["profile"] == models_profile
                        and e["seed"] == seed and f"{e['dataset']}/{e['arch']}" in shown)  # fmt: skip
    n_same, n_shipped = int(table.same.sum()), len(table)
    where = (f"where they were trained ({trained_with['cpu']}, torch {trained_with['torch'].split('+')[0]}, "
             f"{trained_with['threads']} threads, kernels capped at {trained_with['capability']})")  # fmt: skip
    other_data = list(table.system[~table["data as shipped"]])
    data_text = ("every split generated here has the fingerprints recorded for it in the manifest" if not other_data
                 else f"the data generated here differ from the data recorded in the manifest for "
                 f"{report.listed(other_data)}")  # fmt: skip
    if n_same == n_shipped:
        return f"All {n_shipped} shipped models of this run reach the same test accuracy here as {where}; {data_text}."
    differ = table[~table.same]
    differ_same_data = list(differ.system[differ["data as shipped"]])
    differ_other_data = list(differ.system[~differ["data as shipped"]])
    causes = []
    if differ_other_data:
        causes.append(f"{report.listed(differ_other_data)} {'is' if len(differ_other_data) == 1 else 'are'} tested on "
                      "other data than when shipped (the data fingerprints differ), which alone can move the "
                      "accuracy")  # fmt: skip
    if differ_same_data:
        causes.append(f"for {report.listed(differ_same_data)} the weights are the same files (their SHA-256 is checked "
                      "as they load) and the data are the same (the fingerprints match), so the difference comes "
                      "from the kernels this machine computes with (see How to run: the same numbers on every "
                      "machine)")  # fmt: skip
    return (f"{'None' if n_same == 0 else n_same} of the {n_shipped} shipped models of this run "
            f"{'reaches' if n_same == 1 else 'reach'} the same test accuracy here as {where}: " + "; ".join(causes)
            + ".")  # fmt: skip


def plot_training_curves(specs, prof, seed: int, data, path: Path) -> None:
    """Validation accuracy per epoch of every default model of ``specs`` (a default dataset and architecture at the
    profile's image size) against the fraction of training done, with the ``_sub`` snapshot as a large dot; nothing
    when ``specs`` holds none."""
    pairs = list(dict.fromkeys((s.dataset, s.model.removesuffix("_sub")) for s in specs
                               if (s.dataset, s.model.removesuffix("_sub")) in set(DEFAULT_MODELS)
                               and s.image_size is None))  # fmt: skip
    if not pairs:
        return
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for d, a in pairs:
        meta = json.loads(default_model_info(a, d, prof, seed, progress=False)["meta"])
        hist = pd.DataFrame(meta["history"])
        epochs = len(hist)
        (line,) = ax.plot(
            hist["epoch"] / epochs, hist["val_accuracy"], marker=".", label=f"{d} / {a} ({epochs} epochs)"
        )
        if meta["sub_step"] is not None:
            steps_per_epoch = -(-len(data[d]["train"]) // meta["config"]["train"]["batch_size"])
            ax.plot(meta["sub_step"] / steps_per_epoch / epochs, meta["sub_val_accuracy"], "o", ms=8,
                    color=line.get_color())  # fmt: skip
    ax.set_xlabel("fraction of training")
    ax.set_ylabel("validation accuracy")
    ax.legend(fontsize=7, ncol=2)
    finish(fig, path)


def plot_confusions(dataset_specs: Sequence[str], loaded: Mapping, preds: Mapping, out: Path) -> None:
    """One figure per dataset: the confusion matrix of each of its systems (an "other output" column for
    predictions on outputs that stand for no class)."""
    for spec in dataset_specs:
        names = [n for n in loaded if loaded[n].spec.dataset == spec]
        if not names:
            continue
        test = loaded[names[0]].data("test")
        fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4), squeeze=False)
        for ax, name in zip(axes[0], names, strict=True):
            pred_class = loaded[name].data("test").classes_of(preds[name])
            extra = int((pred_class == test.num_classes).any())  # predictions on outputs that stand for no class
            cm = confusion_matrix(test.labels, pred_class, test.num_classes + extra)
            labels = list(test.class_names) + (["other output"] if extra else [])
            plot_confusion(cm, labels, ax, title=f"{name}: acc {np.trace(cm) / cm.sum():.3f}")
        finish(fig, out / f"confusion_{Path(spec).name}.png")


def photo_folder_spec(root: Path, prof, seed: int, per_class: int = 8) -> str:
    """A reader's own system, made for real under ``root``: ``shapes`` test images of :data:`PHOTO_CLASSES` saved as
    a class folder (every third a JPEG at 1.5 times the size, every third an RGBA PNG, the others PNGs at the training
    size), the book's ResNet saved as "your" weights, and a class mapping onto three of its eight outputs. Returns the
    system spec as a JSON string."""
    src = load_dataset("shapes", "test", prof, seed)
    folder = Path(root) / "my_photos"
    for name, c in PHOTO_CLASSES.items():
        (folder / name).mkdir(parents=True)
        for k, i in enumerate(torch.nonzero(src.labels == c).flatten()[:per_class].tolist()):
            img = Image.fromarray((to_hwc(src.inputs[i]) * 255).round().astype(np.uint8))
            side = img.size[0]
            if k % 3 == 1:  # a JPEG at 1.5 times the size
                img.resize((3 * side // 2, 3 * side // 2), Image.BILINEAR).save(folder / name / f"{k}.jpg", quality=95)
            elif k % 3 == 2:  # an RGBA PNG
                img.convert("RGBA").save(folder / name / f"{k}.png")
            else:
                img.save(folder / name / f"{k}.png")
    weights_file = Path(root) / "my_weights.pt"
    torch.save(load_system(parse_systems("shapes/resnet")[0], prof, seed).model.state_dict(), weights_file)
    return json.dumps([{
        "dataset": f"imagefolder:{folder}", "model": "xai_lib.models.architectures:SmallResNet",
        "weights": str(weights_file), "class_index": PHOTO_CLASSES, "image_size": prof.image_size,
        "name": "my_photos/resnet",
    }])  # fmt: skip


def accuracy_by_file_type(system) -> pd.DataFrame:
    """Per file suffix of an image-folder system (all splits): images (``size``), correct predictions (``sum``) and
    accuracy (``mean``)."""
    rows = []
    for split in ("train", "val", "test"):
        d = system.data(split)
        right = (batched_logits(system.model, d.inputs).argmax(1) == d.targets).tolist()
        rows += [{"file type": Path(f).suffix, "correct": r} for f, r in zip(d.files, right, strict=True)]
    return pd.DataFrame(rows).groupby("file type").correct.agg(["size", "sum", "mean"])


def format_outcome(by_file: pd.DataFrame, alpha: float = FORMAT_ALPHA) -> tuple[str, str]:
    """PNG files against the 1.5x-resized JPEGs of :func:`accuracy_by_file_type`: Fisher's exact test on the 2x2
    table (file type x correct) at ``alpha`` decides. Returns the outcome (``"less often"``, ``"more often"``, ``"no
    gap"`` or ``"not measured"``) and the sentence that reports it. The two groups hold different images, and the
    JPEGs differ from the PNGs in two ways (resized, then compressed), so a gap is not attributed to either."""
    if not {".png", ".jpg"} <= set(by_file.index):
        return "not measured", "Not measured: the folder lacks PNG files or JPEG files to compare."
    (n_png, k_png), (n_jpg, k_jpg) = (by_file.loc[t, ["size", "sum"]].astype(int) for t in (".png", ".jpg"))
    p = fisher_exact([[k_png, n_png - k_png], [k_jpg, n_jpg - k_jpg]])[1]
    seen = (f"The model is right on {k_png / n_png:.0%} of the {n_png} PNG files and {k_jpg / n_jpg:.0%} of the "
            f"{n_jpg} 1.5x-resized JPEGs (Fisher's exact test p = {p:.2g})")  # fmt: skip
    unpaired = (" The two groups hold different images, and the JPEGs were both resized and compressed, so this "
                "comparison does not say whether the images, the resizing or the compression make the "
                "difference.")  # fmt: skip
    if p < alpha and k_png / n_png > k_jpg / n_jpg:
        return "less often", seen + ": the 1.5x-resized JPEGs are recognised less often." + unpaired
    if p < alpha:
        return "more often", seen + ": the 1.5x-resized JPEGs are recognised more often." + unpaired
    if k_png == k_jpg == 0:
        none_right = (": it is wrong on every file of both groups, so it does not recognise these images whatever "
                      "their file type, and a gap between the groups is not measured.")  # fmt: skip
        return "not measured", seen + none_right
    return "no gap", (seen + f": no gap between the two groups at the {alpha:.0%} level; with this few "
                      "images only a large gap would show.")  # fmt: skip


def format_answers(outcome: str, alpha: float = FORMAT_ALPHA) -> dict[str, str]:
    """The prediction exercise's answer (``format_outcome``) and the same as a short phrase for use inside a
    sentence (``format_outcome_short``), for an outcome of :func:`format_outcome`."""
    answer = {
        "less often": f"Less often: the JPEGs are recognised less often than the PNGs (Fisher's exact test at the "
                      f"{alpha:.0%} level).",
        "more often": f"More often: the JPEGs are recognised more often than the PNGs (Fisher's exact test at the "
                      f"{alpha:.0%} level).",
        "no gap": f"No gap shows: Fisher's exact test finds no difference between the JPEGs and the PNGs at the "
                  f"{alpha:.0%} level, which with this few images rules out only a large gap.",
        "not measured": "Not measured: the model is wrong on every file of both kinds, or the folder lacks one kind.",
    }[outcome]  # fmt: skip
    short = {
        "less often": "the JPEGs are recognised less often", "more often": "the JPEGs are recognised more often",
        "no gap": "no gap shows at this number of images", "not measured": "not measured on this run",
    }[outcome]  # fmt: skip
    return {"format_outcome": answer, "format_outcome_short": short}


def drawn_gap(name_a: str, name_b: str, side: int, radius: float) -> tuple[float, float]:
    """How far apart two shapes are as the generator draws them at one centre and ``radius``, over twelve rotations:
    the mean number of pixels they differ on, and that as a share of the pixels either covers."""
    differ, union = [], []
    for angle in np.linspace(0, 2 * np.pi, 12, endpoint=False):
        m_a, m_b = (shapes._shape_mask(n, side, side / 2, side / 2, radius, angle) for n in (name_a, name_b))
        differ.append(int((m_a ^ m_b).sum()))
        union.append(int((m_a | m_b).sum()))
    return float(np.mean(differ)), float(np.mean(differ)) / float(np.mean(union))


def symmetric_confusions(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> np.ndarray:
    """The confusion matrix plus its transpose with a zero diagonal: entry (i, j) counts confusions of the pair in
    either direction."""
    cm = confusion_matrix(labels, predictions, num_classes)
    both_ways = cm + cm.T
    np.fill_diagonal(both_ways, 0)
    return both_ways


def most_confused(
    test, predictions: torch.Tensor, out: Path, name: str = "shapes/vgg", model: str = "well-trained VGG"
) -> tuple[str, frozenset, int]:
    """The pair of classes the system ``name`` (``model`` in words) confuses most on ``test`` (ties named), and for two
    shapes how much they differ as drawn, with the rank correlation over every pair of shapes between that and the
    confusions (the pairs saved to ``confused_pairs.csv`` in ``out``). Returns the sentence, the pair and its
    count."""
    cm = confusion_matrix(test.labels, predictions, test.num_classes)
    off = symmetric_confusions(test.labels, predictions, test.num_classes)
    i, j = (int(v) for v in np.unravel_index(off.argmax(), off.shape))
    n_confused, a, b = int(off[i, j]), test.class_names[i], test.class_names[j]
    if n_confused == 0:
        return f"The {model} confuses no pair of classes on the test split.", frozenset(), 0
    top = np.argwhere(np.triu(off) == n_confused)  # the pairs (row < column) that reach the largest count
    ties = [f"{test.class_names[u]}/{test.class_names[v]}" for u, v in top if (u, v) != (min(i, j), max(i, j))]
    sentence = (f"The {model} confuses {a} and {b} most: {n_confused} test images ({cm[i, j]} "
                f"true {a} predicted as {b}, {cm[j, i]} the other way)"
                + (f", tied with {', '.join(ties)}." if ties else "."))  # fmt: skip
    if not {a, b} <= set(shapes.MULTI_CLASSES):
        return sentence, frozenset((a, b)), n_confused
    # the generator's masks of both at one centre and radius (the middle of shapes.render_multi's radius range, 0.14
    # to 0.24 of the side): is a pair confused more often the less its shapes differ as drawn?
    side = test.inputs.shape[-1]
    radius = 0.19 * side
    pixels_ab, gap_ab = drawn_gap(a, b, side, radius)
    index = {n: k for k, n in enumerate(test.class_names)}
    pairs = pd.DataFrame([
        {"pair": f"{u}/{v}", "confusions": int(off[index[u], index[v]]),
         "share differing": drawn_gap(u, v, side, radius)[1]}
        for k, u in enumerate(shapes.MULTI_CLASSES) for v in shapes.MULTI_CLASSES[k + 1:]
        if u in index and v in index
    ])  # fmt: skip
    save_table(pairs, out / "confused_pairs.csv")
    rho, p_rho = spearmanr(pairs["share differing"], pairs["confusions"])
    rank_ab = int((pairs["share differing"] < gap_ab).sum()) + 1
    never = int((pairs["confusions"] == 0).sum())
    relation = (
        "pairs that differ on a smaller share tend to be confused more often (a negative rank correlation, "
        "not a rule: one model"
        if p_rho < 0.05 and rho < 0 else
        "pairs that differ on a larger share tend to be confused more often, the opposite of what resemblance "
        "would predict (a positive rank correlation, not a rule: one model" if p_rho < 0.05 else
        f"the rank correlation between how much two shapes differ as drawn and how often they are confused is "
        f"{'negative' if rho < 0 else 'positive'} but not significant at 0.05 (with {never} of the "
        f"{len(pairs)} pairs never confused, only a strong relation could show; one model"
    )  # fmt: skip
    sentence += (
        f" Drawn by the generator at the same centre, rotation and radius parameter ({radius:.1f} pixels, the "
        f"middle of its range, at {side}x{side} pixels; the shapes' sizes at one radius differ), a {a} and a {b} "
        f"differ on {pixels_ab:.0f} pixels on "
        f"average, {gap_ab:.0%} of the pixels either covers ({rank_ab - 1} of the {len(pairs)} pairs of "
        f"shapes differ on a smaller share). Over all pairs, {relation}; Spearman's rho {rho:.2f}, p = "
        f"{p_rho:.2g}; the pairs share classes, so the p-value is optimistic; confusions of {name} in "
        "either direction, confused_pairs.csv)."
    )  # fmt: skip
    return sentence, frozenset((a, b)), n_confused


def mark_sentence(counts: Mapping[bool, tuple[int, int]], alpha: float = MARK_ALPHA) -> tuple[str, bool]:
    """Class-0 accuracy with and without the spurious mark (``counts``: mark present -> (images, correct)), Fisher's
    exact test at ``alpha`` deciding the gap. Returns the sentence and whether the mark helps (a significant gap in
    favour of marked images)."""
    (n_marked, k_marked), (n_plain, k_plain) = counts[True], counts[False]
    if n_marked == 0 or n_plain == 0:
        return f"Not measured: no class-0 test image {'carries' if n_marked == 0 else 'lacks'} the mark.", False
    p = fisher_exact([[k_marked, n_marked - k_marked], [k_plain, n_plain - k_plain]])[1]
    helps = bool(p < alpha and k_marked / n_marked > k_plain / n_plain)
    sentence = (f"The ResNet is right on {k_marked / n_marked:.0%} of the {n_marked} class-0 test images with the "
                f"mark and on {k_plain / n_plain:.0%} of the {n_plain} without it (Fisher's exact test "
                f"p = {p:.2g}): ")  # fmt: skip
    if helps:
        return sentence + ("it recognises class 0 better when the mark is there (different images, so a sign that it "
                           "uses the mark, not a measured effect of it)."), True  # fmt: skip
    if p < alpha:
        return sentence + ("marked class-0 images are recognised less often here (different images, so not a "
                           "measured effect of the mark)."), False  # fmt: skip
    if k_marked == k_plain == 0:
        return sentence + ("it is wrong on every class-0 test image, with or without the mark, so whether it uses the "
                           "mark is not measured."), False  # fmt: skip
    fewest = min(n_marked, n_plain)
    return sentence + (f"no gap at the {alpha:.0%} level; with only {fewest} image{'s' if fewest > 1 else ''} "
                       "on one side, only a large gap would show."), False  # fmt: skip


def smoke_comparison(names: Sequence[str], prof, smoke, seed: int, device, accuracy_here: pd.Series,
                     models_profile: str) -> tuple[pd.DataFrame, str, bool | None]:  # fmt: skip
    """The same systems at the ``smoke`` profile against this run's (``accuracy_here``: test accuracy by system, the
    systems missing there loaded at ``prof``). Returns the table, the sentence, and whether every smoke model is less
    accurate (None when this run is itself at ``smoke``)."""
    rows = []
    for name in names:
        small = load_system(parse_systems(name)[0], smoke, seed, device)
        here = accuracy_here[name] if name in accuracy_here.index else load_system(
            parse_systems(name)[0], prof, seed, device).accuracy()  # fmt: skip
        rows.append({"system": name, "smoke test accuracy": small.accuracy(), f"{models_profile} test accuracy": here,
                     "chance": 1 / small.data("test").num_classes,
                     "near chance": "CAUTION" in small.describe()})  # fmt: skip
    table = pd.DataFrame(rows)
    smoke_acc, here_acc = table["smoke test accuracy"], table[f"{models_profile} test accuracy"]
    sentence = (
        f"At the smoke profile ({smoke.n_train} training images of {smoke.image_size}x{smoke.image_size} pixels, "
        f"{smoke.epochs} epoch{'s' if smoke.epochs > 1 else ''}, {smoke.n_test} test images) the shapes models reach "
        + report.listed(f"{v:.0%} ({n})" for v, n in zip(smoke_acc, table.system, strict=True))
        + f" test accuracy (chance: 1 in {round(1 / table.chance.iloc[0])}; "
        f"{int(table['near chance'].sum())} of {len(table)} flagged as near chance)"
    )
    if prof.name == "smoke":
        sentence += "; this run is itself at the smoke profile, so run the chapter at the book profile to compare."
        return table, sentence, None
    below = smoke_acc < here_acc
    lower = bool(below.all())
    compared = f"the {report.listed(f'{v:.0%}' for v in here_acc)} of the same models at the {models_profile} profile"
    if lower or not below.any():
        sentence += f", {'below' if lower else 'not below'} {compared}."
    else:
        verb = "is" if int(below.sum()) == 1 else "are"
        sentence += f"; against {compared}, only {report.listed(table.system[below])} {verb} lower."
    return table, sentence, lower
