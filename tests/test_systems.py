"""Systems: one parser for every chapter, preprocessing folded into the model (chain rule), class mapping onto
models with more outputs than classes, image folders as users have them, and captum-safe activations."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from tests import user_setup
from xai_lib.attribution import IG
from xai_lib.data import load_dataset
from xai_lib.data.imagefolder import read_image
from xai_lib.data.labels import resolve_output_index
from xai_lib.models.activations import UnsupportedModel, hooked_types, separate_activations
from xai_lib.models.preprocess import Preprocessed, parse_normalize
from xai_lib.systems import SystemSpec, load_system, parse_system, parse_systems, single


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    return user_setup.build(tmp_path_factory.mktemp("user"), per_class=12)


# -- parsing --------------------------------------------------------------------------------------------------
def test_shorthand_json_and_files_parse_to_the_same_specs(tmp_path):
    short = parse_systems("shapes/vgg, digits/resnet_sub, shapes_pair/vgg:0:1")
    as_json = parse_systems(json.dumps([s.to_dict() for s in short]))
    assert short == as_json
    (tmp_path / "s.json").write_text(json.dumps([s.to_dict() for s in short]))
    (tmp_path / "s.yaml").write_text("- {dataset: shapes, model: vgg}\n- {dataset: digits, model: resnet_sub}\n")
    assert parse_systems(str(tmp_path / "s.json")) == short
    assert parse_systems(str(tmp_path / "s.yaml")) == short[:2]
    assert short[2].classes == (0, 1) and short[1].label == "digits/resnet_sub"


def test_paths_and_factories_are_taken_verbatim(user):
    sys_dict = user["system"]
    spec = parse_system(json.dumps(sys_dict))
    assert spec.dataset == sys_dict["dataset"] and spec.model == sys_dict["model"]  # colons and slashes intact
    assert spec.label == "photos/tinyresnet"
    assert parse_systems([sys_dict, {**sys_dict, "name": "other"}])[1].label == "other"


@pytest.mark.parametrize(
    "value,match",
    [
        ('[{"dataset": "shapes", "model": "vgg", "wieghts": "x"}]', r"unknown key\(s\) \['wieghts'\]"),
        ('[{"dataset": "shapes"}]', r"needs \['model'\]"),
        ("imagefolder:/data/photos/vgg", "not a shorthand"),
        ("shapes/mypkg.nets:make", "not a shorthand"),
        ('[{"dataset": "shapes", "model": "mypkg.nets:make"}]', "needs a 'weights' file"),
        ('[{"dataset": "shapes", "model": "mypkg.nets:make", "weights": "/no/such.pt"}]', "does not exist"),
        ('[{"dataset": "imagefolder:/no/such/folder", "model": "vgg"}]', "does not exist"),
        ('[{"dataset": "shapes", "model": "vgg", "normalize": "imagenet"}]', "registry models"),
        ('[{"dataset": "shapes", "model": "x:y", "allow_random_weights": true, "normalize": "zscore"}]', "normalize"),
        ('[{"dataset": "shapes", "model": "vgg", "resize": "crop"}]', "imagefolder datasets only"),
        ("shapes/vgg,shapes/vgg", "appear twice"),
        ("[{not json", "not valid JSON"),
        ("/no/such/systems.json", "does not exist"),
    ],
)
def test_bad_systems_are_errors_naming_the_parameter(value, match):
    with pytest.raises(ValueError, match=match) as err:
        parse_systems(value)
    assert str(err.value).startswith("systems")


def test_single_system_shorthand_and_override(user):
    a = single(None, dataset="shapes", model="vgg")
    assert a == SystemSpec(dataset="shapes", model="vgg")
    b = single(json.dumps(user["system"]), dataset="shapes", model="vgg")
    assert b.model == user["system"]["model"]
    with pytest.raises(ValueError, match="^dataset/model/weights: .*weights"):
        single(None, dataset="shapes", model="mypkg:make")


# -- preprocessing folded into the model ------------------------------------------------------------------------
def test_normalised_model_attributions_follow_the_chain_rule():
    torch.manual_seed(0)
    inner = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 5)).double()
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    outer = Preprocessed(inner, mean, std).double()
    m, s = (
        torch.tensor(mean, dtype=torch.float64).reshape(1, 3, 1, 1),
        torch.tensor(std, dtype=torch.float64).reshape(1, 3, 1, 1),
    )
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    z = (x - m) / s
    assert torch.equal(outer(x), inner(z))
    # gradient with respect to pixels = gradient with respect to the normalised input / std
    _, g_pix = IG(outer).grad_fn(x, torch.tensor([1, 3]))
    _, g_z = IG(inner).grad_fn(z, torch.tensor([1, 3]))
    torch.testing.assert_close(g_pix, g_z / s, rtol=1e-12, atol=1e-14)
    # IG from a black image in pixel space = IG in normalised space from the normalised black image
    ig_pix = IG(outer).attribute(x, target=torch.tensor([1, 3]), baselines=torch.zeros_like(x), n_steps=16)
    ig_z = IG(inner).attribute(z, target=torch.tensor([1, 3]), baselines=(torch.zeros_like(x) - m) / s, n_steps=16)
    torch.testing.assert_close(ig_pix, ig_z, rtol=1e-10, atol=1e-12)


def test_parse_normalize_forms():
    assert parse_normalize("none") is None and parse_normalize(None) is None
    assert parse_normalize("imagenet")[1] == (0.229, 0.224, 0.225)
    assert parse_normalize({"mean": [0.5], "std": [0.25]}) == ((0.5,), (0.25,))
    for bad in ("zscore", {"mean": [0.5]}, {"mean": [0.5], "std": [0]}, {"mean": [0.5, 1], "std": [1]}):
        with pytest.raises(ValueError, match="normalize"):
            parse_normalize(bad)


# -- class mapping ------------------------------------------------------------------------------------------------
def test_class_index_forms(tmp_path):
    names = ("n01440764", "n02102040")
    assert resolve_output_index(names, None, 2) is None
    assert resolve_output_index(("0", "17", "281"), None, 1000) == (0, 17, 281)  # integer folder names
    assert resolve_output_index(names, {"n01440764": 0, "n02102040": 217}, 1000) == (0, 217)
    layout = {"0": ["n01440764", "tench"], "217": ["n02102040", "English_springer"]}
    (tmp_path / "idx.json").write_text(json.dumps(layout))
    assert resolve_output_index(names, str(tmp_path / "idx.json"), 1000) == (0, 217)
    assert resolve_output_index(("tench", "English_springer"), layout, 1000) == (0, 217)  # labels work too
    (tmp_path / "LOC_synset_mapping.txt").write_text("n01440764 tench, Tinca tinca\nn09999999 x\nn02102040 springer\n")
    assert resolve_output_index(names, str(tmp_path / "LOC_synset_mapping.txt"), 3) == (0, 2)
    assert resolve_output_index(names, ["n02102040", "n01440764"], 2) == (1, 0)  # a permutation is kept
    with pytest.raises(ValueError, match="class_index: the model has 1000 outputs"):
        resolve_output_index(names, None, 1000)
    with pytest.raises(ValueError, match=r"no output index for class\(es\) \['n02102040'\]"):
        resolve_output_index(names, {"n01440764": 0}, 1000)
    with pytest.raises(ValueError, match="outside"):
        resolve_output_index(names, {"n01440764": 0, "n02102040": 1000}, 1000)
    with pytest.raises(ValueError, match="same output"):
        resolve_output_index(names, {"n01440764": 3, "n02102040": 3}, 1000)


# -- image folders as they come -----------------------------------------------------------------------------------
def test_image_modes_sizes_and_geometry(tmp_path):
    rgba = np.zeros((20, 40, 4), np.uint8)
    rgba[..., 0] = 255  # red, fully transparent on the left half
    rgba[:, 20:, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png", 10, resize="crop")
    assert out.shape == (10, 10, 3)
    # the centre crop of a 40x20 image keeps columns 10..30: transparent (white) left, opaque red right
    assert (out[:, :4] == 255).all() and (out[:, -4:] == [255, 0, 0]).all()
    stretched = read_image(tmp_path / "a.png", 10, resize="stretch")
    assert (stretched[:, :3] == 255).all() and (stretched[:, -3:] == [255, 0, 0]).all()
    g16 = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png", 8, channels=1, resize="stretch")
    assert out.shape == (8, 8, 1) and int(out.max()) == round(63000 / 65535 * 255)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ValueError, match="broken.jpg"):
        read_image(tmp_path / "broken.jpg", 8)


def test_folder_loads_mixed_files_is_cached_and_names_a_corrupt_file(user, monkeypatch):
    spec = f"imagefolder:{user['folder']}"
    test = load_dataset(spec, "test", "smoke", 0, 32)
    assert test.inputs.shape[1:] == (3, 32, 32) and test.files is not None and len(test.files) == len(test)
    assert test.class_names == tuple(sorted(user_setup.SYNSETS))
    import xai_lib.data.imagefolder as imf

    monkeypatch.setattr(imf, "read_image", lambda *a, **k: (_ for _ in ()).throw(AssertionError("not cached")))
    again = load_dataset(spec, "test", "smoke", 0, 32)  # served from the content-keyed cache
    assert torch.equal(again.inputs, test.inputs)
    monkeypatch.undo()
    bad = user["folder"] / "n01440764" / "zz_corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    try:
        with pytest.raises(ValueError, match="zz_corrupt.png"):
            load_dataset(spec, "test", "smoke", 0, 32)  # a new file changes the key: re-read, and fails clearly
    finally:
        bad.unlink()


# -- the user's system, end to end -------------------------------------------------------------------------------
def _independent_accuracy(user, split_files) -> float:
    """Accuracy computed without xai_lib's loader: PIL, the documented crop, the user's own normalisation."""
    net = user_setup.load_user_net(user)
    correct = []
    for rel in split_files:
        with Image.open(user["folder"] / rel) as im:
            rgba = im.convert("RGBA") if im.mode in ("RGBA", "P", "LA") else None
            if im.mode == "I;16":
                im = Image.fromarray((np.asarray(im) / 257).round().astype(np.uint8))
            if rgba is not None and im.mode != "P" or (im.mode == "P" and "transparency" in im.info):
                im = Image.alpha_composite(Image.new("RGBA", im.size, (255,) * 4), im.convert("RGBA"))
            im = im.convert("RGB")
            w, h = im.size
            s = 32 / min(w, h)
            im = im.resize((max(32, round(w * s)), max(32, round(h * s))), Image.BILINEAR)
            left, top = (im.size[0] - 32) // 2, (im.size[1] - 32) // 2
            im = im.crop((left, top, left + 32, top + 32))
        x = torch.from_numpy(np.asarray(im, np.float32) / 255).permute(2, 0, 1)[None]
        x = (x - torch.tensor(user_setup.MEAN).reshape(1, 3, 1, 1)) / torch.tensor(user_setup.STD).reshape(1, 3, 1, 1)
        with torch.no_grad():
            pred = int(net(x).argmax(1))
        correct.append(pred == user_setup.SYNSETS[rel.split("/")[0]][0])
    return float(np.mean(correct))


def test_user_system_end_to_end(user):
    system = load_system(parse_system(json.dumps(user["system"])), "smoke", 0, "cpu")
    assert system.num_outputs == 1000 and system.output_index == (0, 217, 482)
    test = system.data("test")
    assert torch.equal(test.targets, torch.tensor([0, 217, 482])[test.labels])
    assert system.accuracy("test") == pytest.approx(_independent_accuracy(user, test.files))
    assert system.accuracy("train") > 0.5  # the user's model recognises its data (well above 1/3)
    assert system.class_pair() == (0, 2)
    assert "CAUTION" not in system.describe("train")
    # the same system without its normalisation is what silently breaks a chapter: here it is flagged
    raw = load_system(parse_system(json.dumps({**user["system"], "normalize": "none", "name": "raw"})), "smoke")
    assert raw.accuracy("train") < system.accuracy("train")


def test_user_system_errors(user):
    base = user["system"]
    with pytest.raises(ValueError, match="class_index: the model has 1000 outputs"):
        load_system(parse_system({**base, "class_index": None}), "smoke")
    with pytest.raises(ValueError, match="normalize has 1 channel values"):
        load_system(parse_system({**base, "normalize": {"mean": [0.5], "std": [0.2]}}), "smoke")
    with pytest.raises(ValueError, match=r"(?s)weights: .* does not fit the model: .*size mismatch for fc.weight"):
        load_system(parse_system({**base, "num_outputs": 10}), "smoke")


# -- captum-safe activations ---------------------------------------------------------------------------------------
def _relu_calls(model, x):
    calls = {}
    handles = [m.register_forward_hook(lambda mod, i, o: calls.__setitem__(id(mod), calls.get(id(mod), 0) + 1))
               for m in model.modules() if isinstance(m, nn.ReLU)]  # fmt: skip
    model(x)
    for h in handles:
        h.remove()
    return calls


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_separate_activations_makes_deeplift_exact_on_a_shared_inplace_relu(user):
    import copy

    from captum.attr import DeepLift

    system = load_system(parse_system(user["system"]), "smoke")
    model = system.model
    x = system.data("test").inputs[:3]
    assert max(_relu_calls(model, x).values()) > 1  # the user's model reuses its ReLU
    safe = separate_activations(model, x)
    assert safe is not model and separate_activations(model, x) is safe  # cached per model
    assert torch.equal(safe(x), model(x))
    calls = _relu_calls(safe, x)
    assert set(calls.values()) == {1}
    assert all(not m.inplace for m in safe.modules() if isinstance(m, nn.ReLU))
    assert any(m.inplace for m in model.modules() if isinstance(m, nn.ReLU))  # the caller's model is untouched
    # DeepLift's summation-to-delta is exact for linear layers and ReLUs (captum's MaxPool rule is not: the
    # property is checked with the max-pooling replaced by the identity, on both sides)
    plain = copy.deepcopy(model)
    plain.net.maxpool = nn.Identity()
    with pytest.raises(RuntimeError, match="DeepLift"):  # captum on the model as the user wrote it
        DeepLift(plain).attribute(x.clone().requires_grad_(True), baselines=torch.zeros_like(x), target=217)
    xr = x.clone().requires_grad_(True)
    attr, delta = DeepLift(separate_activations(plain, x)).attribute(
        xr, baselines=torch.zeros_like(x), target=217, return_convergence_delta=True
    )
    assert delta.abs().max() < 1e-4


def test_safe_models_are_returned_unchanged_and_untraceable_reuse_is_refused():
    from xai_lib.models import SmallVGG

    ours = SmallVGG(3, 4).eval()
    assert separate_activations(ours, torch.rand(1, 3, 16, 16)) is ours

    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.relu = nn.ReLU()

        def forward(self, x):
            if x.sum() > 0:  # data-dependent control flow: torch.fx cannot trace it
                x = self.relu(self.lin(x))
            return self.relu(self.lin(x))

    with pytest.raises(UnsupportedModel, match="called more than once"):
        separate_activations(Branchy().eval(), torch.ones(1, 4))
    assert nn.ReLU in hooked_types()
