"""Chapter 1's measures and sentences (xai_lib.experiments.embedded_benchmark) on hand-made tables with known
answers, every branch a re-run can take."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import fisher_exact

from xai_lib import report
from xai_lib.experiments import embedded_benchmark as eb


def test_listed_joins_names_as_prose():
    assert report.listed([]) == ""
    assert report.listed(["a"]) == "a"
    assert report.listed(["a", "b"]) == "a and b"
    assert report.listed(x for x in ("a", "b", "c")) == "a, b and c"


def test_mask_sentence_names_the_datasets_with_empty_parts():
    none = eb.mask_table({})
    assert eb.mask_sentence(none).startswith("Not measured")
    table = pd.DataFrame({"dataset": ["shapes", "shapes_pair"], "part share of image": [0.1, 0.02],
                          "part inside object": [1.0, 1.0], "images with empty part": [0, 3]})  # fmt: skip
    assert eb.mask_sentence(table).endswith("occur in shapes_pair (3 images).")
    assert eb.mask_sentence(table.iloc[:1]).endswith("no test image has an empty part.")


def test_mask_table_measures_a_part_inside_its_object():
    masks = torch.zeros(2, 4, 4, dtype=torch.bool)
    masks[0, :2, :2] = True  # 4 pixels in image 0, image 1 empty
    obj = torch.zeros_like(masks)
    obj[0, :2, :1] = True  # half of the part lies on the object
    test = SimpleNamespace(masks=masks, extra_masks={"object": obj})
    table = eb.mask_table({"toy": {"test": test}})
    row = table.iloc[0]
    assert row["part share of image"] == pytest.approx(4 / 32)
    assert row["part inside object"] == pytest.approx(0.5)
    assert row["images with empty part"] == 1


def accuracy_rows(**acc):
    return pd.DataFrame({"system": list(acc), "test accuracy": list(acc.values()),
                         "wrong predictions": [round((1 - a) * 100) for a in acc.values()]})  # fmt: skip


def test_error_sentence_compares_each_sub_model_with_its_twin():
    table = accuracy_rows(**{"s/vgg": 0.9, "s/vgg_sub": 0.8, "s/resnet": 0.85, "s/resnet_sub": 0.9})
    sentence = eb.error_sentence(table, list(table.system))
    assert sentence.startswith("The well-trained image models get between 10% and 15%")
    assert sentence.endswith("1 of the 2 _sub image models is less accurate than its well-trained twin.")
    # a _sub model without its twin in the run is not compared, and the sentence says which are
    partial = accuracy_rows(**{"s/vgg": 0.9, "s/vgg_sub": 0.8, "s/resnet_sub": 0.7})
    assert eb.error_sentence(partial, list(partial.system)).endswith(
        "The _sub image model with a well-trained twin in this run is less accurate than its well-trained twin."
    )
    # tied error rates name no "most"
    tied = accuracy_rows(**{"s/vgg": 0.9, "d/vgg": 0.9})
    assert eb.error_sentence(tied, list(tied.system)).startswith("The well-trained image models each get 10%")
    worse = accuracy_rows(**{"s/vgg": 0.9, "s/vgg_sub": 0.8})
    assert eb.error_sentence(worse, list(worse.system)).endswith("The _sub image model is less accurate than its "
                                                                 "well-trained twin.")  # fmt: skip
    assert eb.error_sentence(worse, []).startswith("Not measured")


def test_wrong_sentence_counts_systems_below_the_co_chapters_minimum():
    table = accuracy_rows(**{"s/vgg": 0.99, "s/vgg_sub": 0.7, "t/mlp": 0.95})  # 1, 30 and 5 wrong
    sentence = eb.wrong_sentence(table, few_wrong=20)
    assert sentence.startswith(
        "On the whole test split s/vgg and t/mlp make fewer than 20 wrong predictions (from 1 to 5)"
    )
    assert sentence.endswith("The _sub models are there for this: 1 of the 1 here make at least 20.")
    assert eb.wrong_sentence(table, few_wrong=1).startswith("Every system makes at least 1 wrong")


def test_sub_snapshot_glue_reports_the_target_or_not_measured():
    table = pd.DataFrame({"system": ["s/vgg_sub", "d/vgg_sub"], "_sub check accuracy": [0.78, 0.83],
                          "_sub check images": pd.array([eb.SUB_CHECK, 90], dtype="Int64"),
                          "_sub reached target": ["yes", "no"]})  # fmt: skip
    glued = eb.sub_snapshot_glue(table, 0.8)
    expected = "1 of the 2 _sub snapshots have a check accuracy below the target of 80% (the 2 range from 0.78 to 0.83)"
    assert glued["sub_snapshot_sentence"].startswith(expected + "; d/vgg_sub did not")
    assert (
        glued["sub_check_text"]
        == f"{eb.SUB_CHECK} validation images (fewer where the validation split is smaller: 90 for d)"
    )
    empty = eb.sub_snapshot_glue(table.assign(**{"_sub check accuracy": float("nan")}), 0.8)
    assert empty["sub_snapshot_sentence"].endswith("so where the snapshots sit against the target is unknown.")
    one = eb.sub_snapshot_glue(table.iloc[:1], 0.8)["sub_snapshot_sentence"]
    expected = "The _sub snapshot's check accuracy, 0.780, is below the target of 80%; it came within"
    assert one == f"{expected} {eb.SUB_TOLERANCE:.2f} of it."


def test_chance_sentence():
    assert eb.chance_sentence({"a": "ok", "b": "ok"}) == "None of the systems is flagged in the lines above"
    assert eb.chance_sentence({"a": "CAUTION near chance", "b": "ok"}).endswith("is flagged in the lines above: a")


def by_file_table(png: tuple[int, int], jpg: tuple[int, int]) -> pd.DataFrame:
    return pd.DataFrame({"size": [png[0], jpg[0]], "sum": [png[1], jpg[1]],
                         "mean": [png[1] / png[0], jpg[1] / jpg[0]]}, index=[".png", ".jpg"])  # fmt: skip


@pytest.mark.parametrize(
    ("png", "jpg", "outcome"),
    [((16, 16), (8, 1), "less often"), ((16, 1), (8, 8), "more often"), ((16, 12), (8, 6), "no gap"),
     ((16, 0), (8, 0), "not measured")],
)  # fmt: skip
def test_format_outcome_follows_fishers_test(png, jpg, outcome):
    p = fisher_exact([[png[1], png[0] - png[1]], [jpg[1], jpg[0] - jpg[1]]])[1]
    assert (p < eb.FORMAT_ALPHA) == (outcome in ("less often", "more often"))
    got, sentence = eb.format_outcome(by_file_table(png, jpg))
    assert got == outcome
    assert f"p = {p:.2g}" in sentence
    answers = eb.format_answers(got)
    assert answers["format_outcome"].lower().startswith(outcome.split()[0])


def test_format_outcome_without_jpegs_is_not_measured():
    table = by_file_table((16, 16), (8, 1)).loc[[".png"]]
    assert eb.format_outcome(table) == (
        "not measured",
        "Not measured: the folder lacks PNG files or JPEG files to compare.",
    )


@pytest.mark.parametrize(
    ("marked", "plain", "helps", "start"),
    [((20, 20), (20, 5), True, "it recognises class 0 better"),
     ((20, 5), (20, 20), False, "marked class-0 images"),
     ((3, 2), (4, 3), False, "no gap at the 5% level; with only 3 images"),
     ((5, 0), (5, 0), False, "it is wrong on every")],
)  # fmt: skip
def test_mark_sentence_branches(marked, plain, helps, start):
    sentence, got = eb.mark_sentence({True: marked, False: plain})
    assert got is helps
    assert sentence.split("): ", 1)[1].startswith(start)


def test_mark_sentence_without_one_side_is_not_measured():
    assert eb.mark_sentence({True: (0, 0), False: (5, 5)}) == (
        "Not measured: no class-0 test image carries the mark.", False)  # fmt: skip


def test_symmetric_confusions_count_both_directions():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    preds = torch.tensor([1, 0, 0, 1, 0, 2])  # 0 -> 1 once, 1 -> 0 once, 2 -> 0 once
    got = eb.symmetric_confusions(labels, preds, 3)
    np.testing.assert_array_equal(got, [[0, 2, 1], [2, 0, 0], [1, 0, 0]])


def test_most_confused_names_the_pair_and_its_ties(tmp_path):
    names = ("alpha", "beta", "gamma", "delta")  # not the generator's shapes: no drawn-gap part
    labels = torch.tensor([0, 0, 1, 2, 2, 3])
    preds = torch.tensor([1, 1, 0, 3, 3, 2])  # alpha/beta 3 confusions, gamma/delta 3
    test = SimpleNamespace(labels=labels, class_names=names, num_classes=4, inputs=torch.zeros(6, 3, 8, 8))
    sentence, pair, n = eb.most_confused(test, preds, tmp_path)
    assert (pair, n) == (frozenset({"alpha", "beta"}), 3)
    assert sentence == ("The well-trained VGG confuses alpha and beta most: 3 test images (2 true alpha predicted as "
                        "beta, 1 the other way), tied with gamma/delta.")  # fmt: skip
    right = SimpleNamespace(**{**vars(test), "labels": preds})
    assert eb.most_confused(right, preds, tmp_path)[2] == 0


def test_drawn_gap_is_symmetric_and_zero_for_one_shape():
    assert eb.drawn_gap("disk", "disk", 32, 6.0) == (0.0, 0.0)
    a = eb.drawn_gap("disk", "square", 32, 6.0)
    assert a == eb.drawn_gap("square", "disk", 32, 6.0)
    assert a[0] > 0 and 0 < a[1] < 1


def test_only_bare_registry_specs_can_be_shipped_models():
    from xai_lib.systems import SystemSpec

    loaded = {"shapes/vgg": SimpleNamespace(spec=SystemSpec("shapes", "vgg")),
              "mine": SimpleNamespace(spec=SystemSpec("shapes", "vgg", name="mine")),
              "shapes/resnet": SimpleNamespace(spec=SystemSpec("shapes", "resnet", image_size=32)),
              # a reader's own factory with its weights: not a registry model, never a shipped one
              "user": SimpleNamespace(spec=SystemSpec("shapes", "/tmp/net.py:make",
                                                      allow_random_weights=True))}  # fmt: skip
    assert eb.bare_registry(loaded) == {"shapes/vgg"}
    empty = eb.shipped_table(pd.DataFrame({"system": ["mine"], "test accuracy": [0.5]}), {}, "book", 0, set())
    assert not len(empty) and eb.shipped_sentence(empty, "book", 0).startswith("Not measured: none of this run's")
