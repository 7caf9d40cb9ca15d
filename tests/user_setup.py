"""What a researcher brings, built in a temporary folder for the tests: a model defined in a file outside the
package (torchvision-style: one ``nn.ReLU(inplace=True)`` shared by every block, BatchNorm, adaptive pooling,
only a ``num_classes`` argument, 1000 outputs), its trained weights, normalisation statistics, an ImageNet-style
``imagenet_class_index.json``, and a folder of photos named by WordNet synset, in mixed sizes and modes (RGB and
palette PNG, JPEG, grayscale, RGBA with transparency, 16-bit grayscale)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

USER_MODULE = """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride, relu):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = relu  # the network's one ReLU module, shared
        self.down = None
        if stride != 1 or c_in != c_out:
            self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        identity = x if self.down is None else self.down(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TinyResNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(3, 12, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(12)
        self.maxpool = nn.MaxPool2d(2)
        self.layer1 = Block(12, 12, 1, self.relu)
        self.layer2 = Block(12, 24, 2, self.relu)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(24, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def make_net(num_classes=1000):
    return TinyResNet(num_classes)
"""

#: three ImageNet synsets and their indices in imagenet_class_index.json (tench, English springer, cassette player)
SYNSETS = {"n01440764": (0, "tench"), "n02102040": (217, "English_springer"), "n02979186": (482, "cassette_player")}
SHAPE_OF = {"n01440764": 0, "n02102040": 2, "n02979186": 3}  # disk, square, triangle of `shapes`
MEAN, STD = (0.45, 0.45, 0.45), (0.25, 0.25, 0.25)
SIZES = [(48, 48), (64, 40), (40, 56), (72, 72), (50, 38)]
IMAGE_SIZE = 32


def _save(img: np.ndarray, path_stem: Path, k: int) -> Path:
    """Save an RGB uint8 image in one of six formats/modes, at one of several sizes (aspect ratios differ)."""
    im = Image.fromarray(img).resize(SIZES[k % len(SIZES)], Image.BILINEAR)
    kind = k % 6
    if kind == 0:
        path = path_stem.with_suffix(".png")
        im.save(path)
    elif kind == 1:
        path = path_stem.with_suffix(".jpg")
        im.save(path, quality=95)
    elif kind == 2:
        path = path_stem.with_suffix(".png")
        im.convert("L").save(path)
    elif kind == 3:  # RGBA: opaque image with a transparent top-left corner
        rgba = im.convert("RGBA")
        a = np.asarray(rgba).copy()
        a[:4, :4, 3] = 0
        path = path_stem.with_suffix(".png")
        Image.fromarray(a, "RGBA").save(path)
    elif kind == 4:
        path = path_stem.with_suffix(".png")
        im.convert("P", palette=Image.ADAPTIVE).save(path)
    else:  # 16-bit grayscale
        g = (np.asarray(im.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        path = path_stem.with_suffix(".png")
        Image.fromarray(g).save(path)
    return path


def make_photo_folder(root: Path, per_class: int = 20, seed: int = 0) -> Path:
    """``root/photos/<synset>/img_k.<ext>``: shapes scenes of three classes, in mixed sizes and modes."""
    from xai_lib.data import shapes

    folder = root / "photos"
    for synset, cls in SHAPE_OF.items():
        (folder / synset).mkdir(parents=True, exist_ok=True)
        k = 0
        i = 0
        while k < per_class:
            rng = shapes._rng(seed, "train", 10_000 + 97 * cls + i)
            i += 1
            scene = shapes.render_multi(rng, cls, 48)
            img = (np.clip(scene.image, 0, 1) * 255).round().astype(np.uint8)
            _save(img, folder / synset / f"img_{k:02d}", k)
            k += 1
    return folder


def write_class_index(root: Path) -> Path:
    """A subset of ImageNet's ``imagenet_class_index.json`` layout: ``{"0": ["n01440764", "tench"], ...}``."""
    path = root / "imagenet_class_index.json"
    path.write_text(json.dumps({str(i): [s, name] for s, (i, name) in SYNSETS.items()}))
    return path


def write_user_module(root: Path) -> Path:
    path = root / "user_nets.py"
    path.write_text(USER_MODULE)
    return path


def train_user_model(root: Path, folder: Path, module: Path, epochs: int = 40, seed: int = 0) -> Path:
    """Train the user's network on the folder's train split in *normalised* space with 1000 outputs (the
    class-index targets), as the user would have; save the state dict; return its path."""
    import importlib.util

    from xai_lib.data import load_dataset

    spec = importlib.util.spec_from_file_location("user_nets_for_training", module)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(seed)
    net = mod.make_net(num_classes=1000)
    train = load_dataset(f"imagefolder:{folder}", "train", "smoke", seed, IMAGE_SIZE)
    targets = torch.tensor([SYNSETS[c][0] for c in train.class_names])[train.labels]
    mean, std = torch.tensor(MEAN).reshape(1, 3, 1, 1), torch.tensor(STD).reshape(1, 3, 1, 1)
    x = (train.inputs - mean) / std
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(x), generator=gen).split(16):
            loss = torch.nn.functional.cross_entropy(net(x[idx]), targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    path = root / "user_weights.pt"
    torch.save(net.state_dict(), path)
    return path


def build(root: Path, per_class: int = 20) -> dict:
    """Everything at once; returns the system as a JSON-ready dict plus the pieces."""
    folder = make_photo_folder(root, per_class)
    module = write_user_module(root)
    index = write_class_index(root)
    weights = train_user_model(root, folder, module)
    system = {
        "dataset": f"imagefolder:{folder}",
        "model": f"{module}:make_net",
        "weights": str(weights),
        "normalize": {"mean": list(MEAN), "std": list(STD)},
        "image_size": IMAGE_SIZE,
        "class_index": str(index),
        "classes": ["n01440764", "n02979186"],
        "name": "photos/tinyresnet",
    }
    return {"system": system, "folder": folder, "module": module, "weights": weights, "class_index": index}


def load_user_net(user: dict) -> torch.nn.Module:
    """The user's network as the user would load it, without xai_lib: their file, their factory, their weights."""
    spec = importlib.util.spec_from_file_location("independent_user_nets", user["module"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.make_net(num_classes=1000)
    net.load_state_dict(torch.load(user["weights"]))
    return net.eval()
