"""Cache, profiles, runtime, parameter validation, plotting helpers and the chapter executor."""

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from xai_lib import cache, params, plotting
from xai_lib.profiles import PROFILES, get_profile
from xai_lib.runtime import pin_threads, resolve_device, seed_everything


def test_config_key_is_order_independent_and_sensitive():
    assert cache.config_key({"a": 1, "b": [1, 2]}) == cache.config_key({"b": [1, 2], "a": 1})
    assert cache.config_key({"a": 1}) != cache.config_key({"a": 2})


def test_checked_file_detects_any_change(tmp_path):
    p = tmp_path / "x.bin"
    cache.save_checked(p, b"hello world")
    assert cache.load_checked(p) == b"hello world"
    p.write_bytes(b"hello worle")
    assert cache.load_checked(p) is None
    assert cache.load_checked(tmp_path / "missing") is None


def test_cached_bytes_builds_once(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return b"payload"

    p = tmp_path / "c.bin"
    assert cache.cached_bytes(p, build) == b"payload"
    assert cache.cached_bytes(p, build) == b"payload"
    assert len(calls) == 1


def test_atomic_write_never_exposes_a_partial_file(tmp_path):
    p = tmp_path / "big.bin"
    cache.atomic_write_bytes(p, b"a" * 1_000_000)
    seen = set()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            seen.add(len(p.read_bytes()))

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(20):
        cache.atomic_write_bytes(p, b"b" * 2_000_000)
        cache.atomic_write_bytes(p, b"a" * 1_000_000)
    stop.set()
    t.join()
    assert seen <= {1_000_000, 2_000_000}
    assert not list(tmp_path.glob("*.tmp"))


def test_profiles_are_defined_once_and_ordered_by_size():
    assert set(PROFILES) == {"smoke", "book", "class", "paper"}
    s, b, p = PROFILES["smoke"], PROFILES["book"], PROFILES["paper"]
    assert s.n_train < b.n_train < p.n_train and s.epochs < b.epochs < p.epochs
    assert get_profile("book", epochs=3).epochs == 3 and PROFILES["book"].epochs == b.epochs
    with pytest.raises(ValueError, match="profile"):
        get_profile("fast")
    with pytest.raises(ValueError, match="unknown field"):
        get_profile("book", epoch=3)


def test_the_class_profile_is_the_book_with_fewer_chapter_3_images():
    from xai_lib.profiles import CLASS_CHANGES, computes_as_book

    book, klass = PROFILES["book"], PROFILES["class"]
    # the same data and training settings: the shipped book models and supports are the class's (content-keyed)
    assert klass.training_config() == book.training_config()
    differs = {k for k, v in klass.to_dict().items() if k != "name" and v != getattr(book, k)}
    assert differs == set(CLASS_CHANGES) == {"idgi_table_images", "pair_check_images"}
    assert klass.idgi_table_images < book.idgi_table_images and klass.pair_check_images <= klass.idgi_table_images
    # chapters that do not read the changed sizes compute at class what they compute at book; chapter 3 does not
    assert computes_as_book(book) and computes_as_book(book, "idgi_table_images")
    assert computes_as_book(klass, "gax_images") and not computes_as_book(klass, "idgi_table_images")
    assert not computes_as_book(PROFILES["smoke"]) and not computes_as_book(get_profile("book", n_boot=10))
    assert not computes_as_book(get_profile("class", n_boot=10))


def test_runtime_helpers():
    assert pin_threads(1) == 1 and torch.get_num_threads() == 1
    pin_threads(2)
    with pytest.raises(ValueError, match="n"):
        pin_threads(0)
    g1, g2 = seed_everything(5), seed_everything(5)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("quantum")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_params_validation(tmp_path):
    assert params.float_list("a1_values", "0.95, 0.7") == [0.95, 0.7]
    with pytest.raises(ValueError, match="a1_values"):
        params.float_list("a1_values", "0.9,abc")
    with pytest.raises(ValueError, match="a1_values"):
        params.float_list("a1_values", "1.5", lo=0, hi=1)
    with pytest.raises(ValueError, match="n_steps"):
        params.positive_int("n_steps", 0)
    with pytest.raises(ValueError, match="n_steps"):
        params.positive_int("n_steps", True)
    with pytest.raises(ValueError, match="method"):
        params.choice("method", "x", ["ig"])
    assert params.step_sweep("steps_sweep", "64, 4,16,4") == [4, 16, 64]
    for bad in ("200", "4,4", "4,2.5", "0,4"):
        with pytest.raises(ValueError, match="steps_sweep"):
            params.step_sweep("steps_sweep", bad)
    assert params.positive_number("k_eta", 2) == 2.0
    for bad in (0, -1.2, float("nan"), "1"):
        with pytest.raises(ValueError, match="k_eta"):
            params.positive_number("k_eta", bad)
    assert params.output_dir("output_dir", str(tmp_path / "a" / "b")).is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="output_dir"):
        params.output_dir("output_dir", str(tmp_path / "file"))


def test_confusion_matrix_known_counts():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    preds = torch.tensor([0, 1, 1, 1, 0, 2])
    cm = plotting.confusion_matrix(labels, preds, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])


def test_to_hwc_and_saving(tmp_path):
    assert plotting.to_hwc(torch.zeros(3, 4, 5)).shape == (4, 5, 3)
    assert plotting.to_hwc(torch.zeros(1, 4, 5)).shape == (4, 5)
    df = pd.DataFrame({"a": [1, 2]})
    path = plotting.save_table(df, tmp_path / "t.csv")
    assert pd.read_csv(path).equals(df)


def test_finish_lays_out_saves_and_shows(tmp_path, monkeypatch):
    """The figure epilogue: tight layout (not on a constrained-layout figure, not with tight=False), the PNG written
    as save_figure writes it, then plt.show (Agg: nothing to show; the figure stays open, as plt.show leaves it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown, laid = [], []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(True))
    for layout, tight, expect_tight in ((None, True, True), (None, False, False), ("constrained", True, False)):
        fig, ax = plt.subplots(layout=layout)
        ax.plot([0, 1], [1, 0])
        monkeypatch.setattr(fig, "tight_layout", lambda *a, **k: laid.append(True))
        assert plotting.finish(fig, tmp_path / "f.png", tight=tight) is None
        assert laid == [True] * expect_tight and len(shown) == 1
        assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert plt.fignum_exists(fig.number)  # closed by the inline backend's show, not by finish
        plt.close(fig)
        laid.clear()
        shown.clear()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    fig.tight_layout()
    plotting.save_figure(fig, tmp_path / "direct.png")
    fig2, ax2 = plt.subplots()
    ax2.plot([0, 1], [1, 0])
    plotting.finish(fig2, tmp_path / "finished.png")
    assert (tmp_path / "finished.png").read_bytes() == (tmp_path / "direct.png").read_bytes()
    plt.close("all")


def test_animation_html_is_self_contained():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 0])
    html = plotting.animation_html(fig, lambda i: line.set_ydata([i, i]), frames=3)
    assert "<script" in html and html.count("data:image/png;base64") == 3


def test_executor_key_tracks_library_and_parameters():
    from data_scripts import execute_chapters as ex

    names = ex.chapters()
    assert names and all((ex.NOTEBOOKS / f"{n}.ipynb").exists() for n in names)
    k = ex.content_key(names[0], {})
    assert k == ex.content_key(names[0], {})
    assert k != ex.content_key(names[0], {"profile": "smoke"})


def test_executor_key_covers_every_input_of_a_chapter(tmp_path, monkeypatch):
    """The digest a chapter records changes with its source, the library's code, reference tables and shipped
    models' manifest; the scorecard's also with the chapters whose cards it reads."""
    import shutil

    from data_scripts import execute_chapters as ex

    root = tmp_path / "repo"
    for sub in ("notebooks", "xai_lib", "data_scripts"):
        shutil.copytree(ex.ROOT / sub, root / sub, ignore=shutil.ignore_patterns("__pycache__", "outputs", "*.pt"))
    monkeypatch.setattr(ex, "ROOT", root)
    monkeypatch.setattr(ex, "NOTEBOOKS", root / "notebooks")
    monkeypatch.setattr(ex, "__file__", str(root / "data_scripts" / "execute_chapters.py"))
    before = {n: ex.content_key(n, {}) for n in ("02_idgi_noise", "09_scorecard")}
    quiz = "notebooks/quizzes/02_idgi_noise.json"  # the chapter's quiz is embedded in its output
    for path in ("xai_lib/reference/idgi_tables.csv", "xai_lib/models/shipped/manifest.json", "xai_lib/gad.py", quiz):
        original = (root / path).read_bytes()
        (root / path).write_bytes(original + b"\n")
        assert ex.content_key("02_idgi_noise", {}) != before["02_idgi_noise"], path
        (root / path).write_bytes(original)
    assert {n: ex.content_key(n, {}) for n in before} == before
    (root / "notebooks" / "03_idgi_tables.ipynb").write_bytes(b"{}")
    assert ex.content_key("09_scorecard", {}) != before["09_scorecard"]
    assert ex.content_key("02_idgi_noise", {}) == before["02_idgi_noise"]


def test_committed_chapters_were_computed_from_the_committed_sources():
    """Each committed notebook records the digest of its inputs: a change of a chapter, the library or the shipped
    models without re-executing the chapters (``make notebooks``) leaves the book stale, and ``make book`` on a
    fresh clone would rewrite tracked files."""
    from data_scripts import execute_chapters as ex

    assert ex.stale() == [], "re-execute these chapters (make notebooks) and commit them"


def test_every_committed_card_is_covered_by_the_seed_study():
    """A card's seed columns come from ``xai_lib/reference/seed_verdicts.csv``, keyed by the card's settings text and
    each claim's (artefact, claim): editing either without re-running the seed study silently turns a chapter's
    verdicts into "not measured" across seeds. Every claim of a committed card whose chapter trains a model must be
    found there."""
    from xai_lib import report

    cards = report.read_cards(Path(__file__).resolve().parents[1] / "notebooks")
    trained = cards[cards["across seeds"] != report.NOT_APPLICABLE]
    assert len(trained), "no committed card with a trained model"
    missing = trained[trained["across seeds"] == "not measured"]
    assert missing.empty, (
        "re-run the seed study for these claims (python -m data_scripts.seed_study --chapter ...): "
        + "; ".join(f"{r.chapter}: {r.artefact}" for r in missing.itertuples())
    )


def test_committed_chapters_carry_figures_and_no_stderr():
    """The rendered book shows what the committed notebooks hold: figures present, no warnings or errors."""
    import nbformat

    from data_scripts import execute_chapters as ex

    for name in ex.chapters():
        nb = nbformat.read(ex.NOTEBOOKS / f"{name}.ipynb", as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        if name != "09_scorecard":  # the scorecard is a table of the other chapters' cards
            assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no figure in the outputs"
        bad = [o for o in outputs if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
        assert not bad, f"{name}: stderr or error outputs: {bad[:1]}"
        assert len({c.id for c in nb.cells}) == len(nb.cells)


def test_progress_redraws_settle_to_what_a_screen_shows():
    import nbformat

    from data_scripts.execute_chapters import settle_progress

    def out(text, name="stdout"):
        return nbformat.v4.new_output("stream", name=name, text=text)

    settled = settle_progress([out("a\n"), out("p: 0%"), out("p: 50%"), out("p: 100%"), out("\np: done\n"),
                               out("x\r y\r z\n"), out("warn\n", "stderr"), out("b\n")])  # fmt: skip
    assert [(o.name, o.text) for o in settled] == [
        ("stdout", "a\np: 100%\np: done\n z\n"),
        ("stderr", "warn\n"),
        ("stdout", "b\n"),
    ]


def test_papermill_parses_every_parameter_line(caplog):
    """``papermill --help-notebook`` and papermill's type inference read each chapter's parameters cell: a line it
    cannot parse (an ``=`` inside a comment, for instance) is skipped with a warning a user would see."""
    import logging

    import nbformat
    from papermill.translators import PythonTranslator

    from data_scripts import execute_chapters as ex

    for name in ex.chapters():
        nb = nbformat.read(ex.NOTEBOOKS / f"{name}.ipynb", as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="papermill"):
            parsed = PythonTranslator.inspect(cell)
        assert not [r.getMessage() for r in caplog.records], name
        assigned = [line.split("=")[0].split(":")[0].strip() for line in cell.source.splitlines()
                    if line and not line.startswith((" ", "#", ")", "]", "}"))]  # fmt: skip
        assert [p.name for p in parsed] == assigned, name


def test_the_install_cell_is_the_same_in_every_chapter():
    """The cell that installs xai_lib on Colab/Binder runs before the library exists, so it cannot be imported from
    it: each chapter carries a copy, and the copies stay identical (and hidden from the rendered page)."""
    import nbformat

    from data_scripts import execute_chapters as ex

    copies = {}
    for name in ex.chapters():
        nb = nbformat.read(ex.NOTEBOOKS / f"{name}.ipynb", as_version=4)
        cells = [c for c in nb.cells if c.cell_type == "code" and "def _install_xai_lib()" in c.source]
        assert len(cells) == 1, f"{name}: expected one install cell, found {len(cells)}"
        assert "remove-cell" in cells[0].metadata.get("tags", []), name
        copies[name] = cells[0].source
    first = next(iter(copies.values()))
    assert [n for n, src in copies.items() if src != first] == []


def _library_imports() -> dict[str, set[str]]:
    """Each top-level unit of ``xai_lib`` (a module or a subpackage) -> the units it imports, at any level of the
    code (function-level imports included)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "xai_lib"

    def unit(parts: list[str]) -> str:
        return parts[1] if len(parts) > 1 else ""

    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = ["xai_lib", *path.relative_to(root).with_suffix("").parts]
        package = parts[:-1] if path.name != "__init__.py" else parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package[: len(package) - (node.level - 1)]
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                target = unit([*base, *name.split(".")])
                if target and unit(parts) and target != unit(parts):
                    graph.setdefault(unit(parts), set()).add(target)
    return graph


def test_the_library_has_no_import_cycle():
    """Imports go one way (kernels -> runtime -> models/data -> systems -> methods/metrics -> experiments): no unit of
    ``xai_lib`` imports, directly or through others, a unit that imports it."""
    graph = _library_imports()

    def reaches(a: str, b: str, seen: set[str]) -> bool:
        return any(n == b or (n not in seen and reaches(n, b, seen | {n})) for n in graph.get(a, ()))

    cycles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if reaches(b, a, {b})})
    assert not cycles, cycles
    assert "systems" not in graph.get("models", set()) and "captum_glue" not in graph.get("models", set())
    assert "models" not in graph.get("metrics", set()) and "models" not in graph.get("gax", set())
