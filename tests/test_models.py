"""Models: architecture invariants captum relies on, specs that round-trip exactly, clear errors."""

import json

import pytest
import torch
from torch import nn

from xai_lib.cache import cache_dir
from xai_lib.data import load_dataset
from xai_lib.models import (
    MLP,
    SmallResNet,
    SmallVGG,
    build_architecture,
    default_model_info,
    train_classifier,
)
from xai_lib.systems import load_model


def _torchvision_ok() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:
        return False
    return True


ARCHS = [
    (lambda: SmallVGG(3, 8), (2, 3, 32, 32)),
    (lambda: SmallResNet(3, 8), (2, 3, 32, 32)),
    (lambda: SmallResNet(1, 10), (2, 1, 16, 16)),
    (lambda: MLP(13, 3), (2, 13)),
]


@pytest.mark.parametrize("make,shape", ARCHS)
def test_every_relu_is_a_separate_non_inplace_module_used_once(make, shape):
    model = make().eval()
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    assert relus and all(not r.inplace for r in relus)
    calls = {id(r): 0 for r in relus}
    hooks = [r.register_forward_hook(lambda m, i, o: calls.__setitem__(id(m), calls[id(m)] + 1)) for r in relus]
    out = model(torch.rand(shape))
    for h in hooks:
        h.remove()
    assert set(calls.values()) == {1}, "a ReLU module is reused (captum's DeepLift needs one module per use)"
    assert out.shape == (2, 8 if shape[1] == 3 else (10 if len(shape) == 4 else 3))


@pytest.mark.filterwarnings("ignore:Setting forward, backward hooks:UserWarning")
@pytest.mark.parametrize("make,shape", ARCHS)
def test_captum_deeplift_completeness_on_our_architectures(make, shape):
    """DeepLift's attributions sum to f(x) - f(baseline) (its summation-to-delta property)."""
    from captum.attr import DeepLift

    torch.manual_seed(0)
    model = make().eval()
    x = torch.rand(shape, requires_grad=True)
    attr, delta = DeepLift(model).attribute(x, baselines=torch.zeros_like(x), target=1, return_convergence_delta=True)
    assert attr.shape == x.shape
    assert delta.abs().max().item() < 1e-3


def test_training_is_deterministic_and_learns():
    train, val = load_dataset("wine", "train", "smoke"), load_dataset("wine", "val", "smoke")
    states = []
    for _ in range(2):
        torch.manual_seed(0)
        model = MLP(13, 3)
        res = train_classifier(
            model, train, val, epochs=30, batch_size=16, lr=5e-3, seed=0, sub_target=0.7, progress=False
        )
        states.append(res)
    for k in states[0].final:
        assert torch.equal(states[0].final[k], states[1].final[k])
    assert states[0].history[-1]["val_accuracy"] > 0.85  # wine is nearly linearly separable
    assert states[0].sub is not None and abs(states[0].sub_val_accuracy - 0.7) <= 0.15


def test_registry_round_trip_through_factory_spec(tmp_path):
    net = load_model("resnet", "shapes", profile="smoke", progress=False)
    path = tmp_path / "w.pt"
    torch.save(net.state_dict(), path)
    again = load_model("xai_lib.models.architectures:SmallResNet", "shapes", weights=path, profile="smoke")
    x = load_dataset("shapes", "test", "smoke").inputs[:8]
    assert torch.equal(net(x), again(x))
    assert not any(p.requires_grad for p in again.parameters()) and not again.training


def test_sub_variant_differs_and_is_cached(fresh_cache, monkeypatch):
    monkeypatch.setenv("XAI_LIB_SHIPPED_MODELS", "0")  # trained here, not the shipped one
    full = load_model("vgg", "shapes_pair", profile="smoke", progress=False)
    sub = load_model("vgg_sub", "shapes_pair", profile="smoke", progress=False)
    files = list((cache_dir() / "models").glob("shapes_pair-vgg-*.pt"))
    assert len(files) == 1  # one training run gives both variants
    meta = json.loads(default_model_info("vgg", "shapes_pair", "smoke", progress=False)["meta"])
    assert meta["config"]["data"]["spec"] == "shapes_pair"
    x = load_dataset("shapes_pair", "test", "smoke").inputs[:4]
    if meta["sub_step"] is not None and meta["sub_step"] < 5:  # smoke: 5 steps in all
        assert not torch.equal(full(x), sub(x))


def test_corrupted_model_cache_is_rebuilt_identically(fresh_cache, monkeypatch):
    monkeypatch.setenv("XAI_LIB_SHIPPED_MODELS", "0")  # trained here, not the shipped one
    a = load_model("mlp", "breast_cancer", profile="smoke", progress=False)
    (f,) = (cache_dir() / "models").glob("breast_cancer-mlp-*.pt")
    f.write_bytes(b"\0" * 64)
    b = load_model("mlp", "breast_cancer", profile="smoke", progress=False)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def no_module() -> str:
    return "not a model"


@pytest.mark.parametrize(
    "spec,kwargs,match",
    [
        ("alexnet", {}, "model"),
        ("", {}, "model"),
        ("vgg", {"weights": __file__}, "weights from the cache"),
        ("mlp", {}, "tabular"),
        ("no_such_module_xyz:make", {"allow_random_weights": True}, "cannot import"),
        ("xai_lib.models:no_such_factory", {"allow_random_weights": True}, "no callable"),
        ("/nonexistent/nets.py:make", {"allow_random_weights": True}, "does not exist"),
        ("tests.test_models:no_module", {"allow_random_weights": True}, "nn.Module"),
        ("xai_lib.models.architectures:SmallVGG", {"weights": "/nonexistent/w.pt"}, "weights file"),
        ("xai_lib.models.architectures:SmallVGG", {}, "needs a 'weights' file"),
        ("vgg", {"device": "tpu"}, "device"),
    ],
)
def test_bad_model_specs_raise_clear_errors(spec, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_model(spec, "shapes", profile="smoke", progress=False, **kwargs)


def test_state_dict_that_does_not_fit_is_refused(tmp_path):
    path = tmp_path / "vgg.pt"
    torch.save(SmallVGG(3, 8).state_dict(), path)
    with pytest.raises(ValueError, match="does not fit"):
        load_model("xai_lib.models.architectures:SmallResNet", "shapes", weights=path, profile="smoke")
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match="state dict"):
        load_model("xai_lib.models.architectures:SmallResNet", "shapes", weights=path, profile="smoke")
    torch.save({"state_dict": SmallResNet(3, 8).state_dict(), "epoch": 3}, path)  # a training checkpoint
    assert isinstance(load_model("xai_lib.models.architectures:SmallResNet", "shapes", weights=path, profile="smoke"),
                      SmallResNet)  # fmt: skip


def test_build_architecture_checks_data_kind():
    d = load_dataset("wine", "val", "smoke")
    assert isinstance(build_architecture("mlp", d), MLP)
    with pytest.raises(ValueError, match="image data"):
        build_architecture("vgg", d)


@pytest.mark.skipif(not _torchvision_ok(), reason="torchvision does not import with this torch build")
def test_torchvision_spec_round_trip(tmp_path):
    import torchvision

    net = torchvision.models.get_model("resnet18", weights=None, num_classes=1000).eval()
    path = tmp_path / "r18.pt"
    torch.save(net.state_dict(), path)
    # the class count comes from the state dict (1000 outputs), not from the dataset's 8 classes
    index = {name: 10 * i for i, name in enumerate(load_dataset("shapes", "test", "smoke").class_names)}
    again = load_model("torchvision:resnet18", "shapes", weights=path, profile="smoke", class_index=index)
    x = load_dataset("shapes", "test", "smoke").inputs[:2]
    assert torch.equal(net(x), again(x))


@pytest.mark.skipif(_torchvision_ok(), reason="torchvision imports here")
def test_torchvision_spec_without_torchvision_is_a_clear_error():
    with pytest.raises(ValueError, match="needs torchvision"):
        load_model("torchvision:resnet18", "shapes", profile="smoke", allow_random_weights=True)
