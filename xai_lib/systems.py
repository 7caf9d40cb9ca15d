"""Systems: a dataset, a model, its weights, its preprocessing and its label mapping, named once.

Every chapter that runs a model takes its systems from one parameter, parsed here and nowhere else. A system
is a JSON object; every key but ``dataset`` and ``model`` is optional:

=====================  =================================================================================
key                    meaning
=====================  =================================================================================
``dataset``            ``shapes``, ``shapes_pair``, ``shapes_spurious``, ``digits``, ``breast_cancer``, ``wine``
                       or ``imagefolder:/absolute/path`` (one subfolder per class)
``model``              a registry name (``vgg``, ``resnet``, ``mlp``, each optionally ``_sub``), a factory
                       ``package.module:function`` or ``/path/to/file.py:function``, or ``torchvision:NAME``
``weights``            a state-dict file (required for factory and torchvision models)
``allow_random_weights``  ``true`` runs a factory model without weights (a demo; never a result)
``normalize``          ``"none"`` (default), ``"imagenet"`` or ``{"mean": [...], "std": [...]}``: folded into the
                       model, so attributions and metrics stay in pixel space [0, 1]
``image_size``         the image side the model sees (default: the profile's)
``resize``             ``"crop"`` (default: shorter side scaled, centre crop) or ``"stretch"`` (image folders)
``crop_fraction``      share of the shorter side the centre crop keeps (default 1; 0.875 = resize 256, crop 224)
``channels``           3 (default) or 1: how image-folder files are converted
``class_index``        which model output stands for each class (see :mod:`xai_lib.data.labels`)
``num_outputs``        the model's number of outputs (default: from the weights' classifier, else the classes)
``classes``            a pair of classes (names or ids) for the chapters that compare two classes (GAD)
``name``               the label used in tables (default ``dataset/model``, shortened for paths)
=====================  =================================================================================

A ``systems`` parameter is a JSON list of such objects, a path to a ``.json``/``.yaml`` file holding the list,
or, for the book's own data and models, the shorthand ``"shapes/vgg,digits/resnet_sub"`` (``dataset/model``
items; ``dataset/model:a:b`` adds a class pair). Paths and ``module:factory`` specs are taken verbatim from
JSON, never split. Unknown keys, missing files and a factory without weights stop with an error naming the
parameter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .data import EMBEDDED, Dataset, load_dataset
from .data.labels import resolve_output_index
from .models.loading import (
    call_factory,
    import_factory,
    load_weights,
    output_width,
    outputs_in_state,
    read_state_dict,
    torchvision_model,
    weights_digest,
)
from .models.preprocess import parse_normalize, wrap
from .models.registry import REGISTRY, default_model, split_registry_name
from .profiles import Profile, get_profile
from .runtime import resolve_device

FOLDER_KEYS = ("resize", "crop_fraction", "channels")


@dataclass(frozen=True)
class SystemSpec:
    """One system, validated (see the module notes for each key)."""

    dataset: str
    model: str
    weights: str | None = None
    allow_random_weights: bool = False
    normalize: Any = "none"
    image_size: int | None = None
    resize: str | None = None
    crop_fraction: float | None = None
    channels: int | None = None
    class_index: Any = None
    num_outputs: int | None = None
    classes: tuple[Any, Any] | None = None
    name: str | None = None
    param: str = field(default="systems", compare=False, repr=False)

    def __post_init__(self) -> None:
        p = self.param
        for key in ("dataset", "model"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{p}: '{key}' must be a non-empty string, got {value!r}")
        if not (self.dataset in EMBEDDED or self.dataset.startswith("imagefolder:")):
            raise ValueError(
                f"{p}: dataset must be one of {list(EMBEDDED)} or 'imagefolder:PATH', got {self.dataset!r}"
            )
        if self.dataset.startswith("imagefolder:"):
            folder = Path(self.dataset.split(":", 1)[1]).expanduser()
            if not folder.is_dir():
                raise ValueError(f"{p}: dataset folder {str(folder)!r} does not exist")
        elif any(getattr(self, k) is not None for k in FOLDER_KEYS):
            raise ValueError(f"{p}: {list(FOLDER_KEYS)} apply to imagefolder datasets only, not {self.dataset!r}")
        registry = split_registry_name(self.model) is not None
        if not registry and ":" not in self.model:
            raise ValueError(
                f"{p}: model must be a registry name {list(REGISTRY)} (optionally '_sub'), 'package.module:factory', "
                f"'/path/to/file.py:factory' or 'torchvision:NAME', got {self.model!r}"
            )
        if self.weights is not None:
            if registry:
                raise ValueError(f"{p}: registry model {self.model!r} takes its weights from the cache, not a file")
            if not Path(self.weights).expanduser().is_file():
                raise ValueError(f"{p}: weights file {self.weights!r} does not exist")
        elif not registry and not self.allow_random_weights:
            raise ValueError(
                f"{p}: model {self.model!r} needs a 'weights' file (a state dict); set \"allow_random_weights\": true "
                "only for a demo with random weights"
            )
        if registry and (self.normalize not in (None, "none") or self.class_index is not None):
            raise ValueError(
                f"{p}: registry models take pixels in [0, 1] and their own classes: no normalize/class_index"
            )
        try:
            parse_normalize(self.normalize)
        except ValueError as exc:
            raise ValueError(f"{p}: {exc}") from exc
        if self.image_size is not None and (
            isinstance(self.image_size, bool) or not isinstance(self.image_size, int) or self.image_size < 8
        ):
            raise ValueError(f"{p}: image_size must be an int >= 8, got {self.image_size!r}")
        if self.num_outputs is not None and (
            isinstance(self.num_outputs, bool) or not isinstance(self.num_outputs, int) or self.num_outputs < 2
        ):
            raise ValueError(f"{p}: num_outputs must be an int >= 2, got {self.num_outputs!r}")
        if self.classes is not None and (not isinstance(self.classes, Sequence) or len(self.classes) != 2):
            raise ValueError(f"{p}: classes must be a pair of class names or ids, got {self.classes!r}")
        if not isinstance(self.allow_random_weights, bool):
            raise ValueError(f"{p}: allow_random_weights must be true or false, got {self.allow_random_weights!r}")

    @property
    def label(self) -> str:
        """The name used in tables: ``name``, else ``dataset/model`` with paths shortened."""
        if self.name:
            return self.name

        def short(s: str) -> str:
            if s.startswith("imagefolder:"):
                return Path(s.split(":", 1)[1]).name or s
            if ":" in s:
                return s.rsplit(":", 1)[1] if not s.startswith("torchvision:") else s.split(":", 1)[1]
            return s

        return f"{short(self.dataset)}/{short(self.model)}"

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (what :func:`parse_systems` reads back); defaults left out."""
        out = {k: v for k, v in asdict(self).items() if k != "param"}
        defaults = {k: v.default for k, v in SystemSpec.__dataclass_fields__.items() if k not in ("dataset", "model")}
        out = {k: v for k, v in out.items() if k in ("dataset", "model") or v != defaults.get(k)}
        if "classes" in out:
            out["classes"] = list(out["classes"])
        return out

    def key(self) -> str:
        """A content key: the spec and the weights file's bytes (a changed file gives a new key)."""
        h = hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode())
        if self.weights:
            h.update(Path(self.weights).expanduser().read_bytes())
        return h.hexdigest()[:16]

    def data_options(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FOLDER_KEYS if getattr(self, k) is not None}


SPEC_KEYS = tuple(k for k in SystemSpec.__dataclass_fields__ if k != "param")


def spec_from_mapping(obj: Mapping[str, Any], param: str = "systems") -> SystemSpec:
    """A :class:`SystemSpec` from a JSON object; unknown keys are an error naming ``param``."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"{param}: each system must be a JSON object, got {obj!r}")
    unknown = sorted(set(obj) - set(SPEC_KEYS))
    if unknown:
        raise ValueError(f"{param}: unknown key(s) {unknown}; expected some of {list(SPEC_KEYS)}")
    missing = [k for k in ("dataset", "model") if k not in obj]
    if missing:
        raise ValueError(f"{param}: each system needs {missing} (got keys {sorted(obj)})")
    values = dict(obj)
    if values.get("classes") is not None and isinstance(values["classes"], list):
        values["classes"] = tuple(values["classes"])
    if isinstance(values.get("weights"), Path):
        values["weights"] = str(values["weights"])
    return SystemSpec(**values, param=param)


def _shorthand(item: str, param: str) -> SystemSpec:
    head, *pair = item.split(":")
    dataset, sep, model = head.partition("/")
    if (
        not sep
        or dataset not in EMBEDDED
        or split_registry_name(model) is None
        or len(pair) not in (0, 2)
        or not all(p.strip().lstrip("-").isdigit() for p in pair)
    ):
        raise ValueError(
            f"{param}: {item!r} is not a shorthand 'dataset/model' (or 'dataset/model:a:b') of the book's own data "
            f"{list(EMBEDDED)} and models {list(REGISTRY)}; name other systems in JSON, e.g. "
            '[{"dataset": "imagefolder:/data/photos", "model": "mypackage.nets:make_net", "weights": "/data/w.pt"}]'
        )
    classes = (int(pair[0]), int(pair[1])) if pair else None
    return SystemSpec(dataset=dataset, model=model, classes=classes, param=param)


def _load_file(path: Path, param: str) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            raise ValueError(f"{param}: reading {str(path)!r} needs PyYAML (pip install pyyaml), or use JSON") from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{param}: {str(path)!r} is not valid YAML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{param}: {str(path)!r} is not valid JSON: {exc}") from exc


def parse_systems(value: Any, param: str = "systems") -> list[SystemSpec]:
    """A list of systems from a parameter value (see the module notes); names must be unique."""
    if isinstance(value, SystemSpec):
        specs = [value]
    elif isinstance(value, Mapping):
        specs = [spec_from_mapping(value, param)]
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError(f"{param}: expected at least one system, got an empty string")
        if text[0] in "[{":
            try:
                return parse_systems(json.loads(text), param)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{param}: not valid JSON ({exc}): {text[:80]!r}") from exc
        if text.lower().endswith((".json", ".yaml", ".yml")):
            path = Path(text).expanduser()
            if not path.is_file():
                raise ValueError(f"{param}: systems file {text!r} does not exist")
            return parse_systems(_load_file(path, param), param)
        specs = [_shorthand(item.strip(), param) for item in text.split(",") if item.strip()]
    elif isinstance(value, Sequence):
        specs = [
            v
            if isinstance(v, SystemSpec)
            else _shorthand(v.strip(), param)
            if isinstance(v, str)
            else spec_from_mapping(v, param)
            for v in value
        ]
    else:
        raise ValueError(f"{param}: expected a JSON list of systems, a file or 'dataset/model' items, got {value!r}")
    if not specs:
        raise ValueError(f"{param}: expected at least one system")
    labels = [s.label for s in specs]
    dupes = sorted({n for n in labels if labels.count(n) > 1})
    if dupes:
        raise ValueError(f"{param}: system names {dupes} appear twice; give each a distinct 'name'")
    return specs


def parse_system(value: Any, param: str = "system") -> SystemSpec:
    """Exactly one system."""
    specs = parse_systems(value, param)
    if len(specs) != 1:
        raise ValueError(f"{param}: expected one system, got {len(specs)}")
    return specs[0]


def single(
    system: Any = None,
    *,
    dataset: str,
    model: str,
    weights: str | None = None,
    normalize: Any = "none",
    image_size: int | None = None,
    class_index: Any = None,
    classes: tuple[Any, Any] | None = None,
) -> SystemSpec:
    """The system of a single-system chapter: ``system`` (a JSON object or file) when given, else the
    shorthand parameters ``dataset``, ``model``, ``weights``, ``normalize``, ``image_size``, ``class_index``;
    ``classes`` (a chapter's class pair) fills the spec's ``classes`` when the spec has none."""
    if system is not None:
        spec = parse_system(system, "system")
    else:
        spec = spec_from_mapping(
            {
                "dataset": dataset, "model": model, "weights": weights, "normalize": normalize,
                "image_size": image_size, "class_index": class_index,
            },
            "dataset/model/weights",
        )  # fmt: skip
    if classes is not None and spec.classes is None:
        spec = spec_from_mapping({**spec.to_dict(), "classes": list(classes)}, spec.param)
    return spec


@dataclass
class System:
    """A loaded system: the model (preprocessing folded in, eval mode, frozen) and its datasets, whose
    :attr:`~xai_lib.data.Dataset.targets` are model output indices."""

    spec: SystemSpec
    model: nn.Module
    profile: Profile
    seed: int
    device: torch.device
    num_outputs: int
    output_index: tuple[int, ...] | None
    load_threads: int = 0  # torch threads when loaded: a registry model is the one trained at this count
    _data: dict[str, Dataset] = field(default_factory=dict, repr=False)
    _digest: str | None = field(default=None, repr=False)

    def weights_digest(self) -> str:
        """A content digest of the model's weights (computed once): the identity of the model a result used."""
        if self._digest is None:
            self._digest = weights_digest(self.model)
        return self._digest

    @property
    def name(self) -> str:
        return self.spec.label

    def data(self, split: str = "test") -> Dataset:
        if split not in self._data:
            d = load_dataset(
                self.spec.dataset, split, self.profile, self.seed, self.spec.image_size, **self.spec.data_options()
            )
            self._data[split] = d.with_outputs(self.output_index)
        return self._data[split]

    def class_pair(self) -> tuple[int, int]:
        """The spec's ``classes`` as dataset class ids (names or ids accepted); an error names the spec."""
        if self.spec.classes is None:
            raise ValueError(f"{self.spec.param}: system {self.name!r} needs 'classes': a pair of classes to compare")
        names = self.data("test").class_names
        ids = []
        for c in self.spec.classes:
            if isinstance(c, int) and not isinstance(c, bool) and 0 <= c < len(names):
                ids.append(c)
            elif isinstance(c, str) and c in names:
                ids.append(names.index(c))
            else:
                raise ValueError(f"{self.spec.param}: class {c!r} of system {self.name!r} is not one of {list(names)}")
        if ids[0] == ids[1]:
            raise ValueError(f"{self.spec.param}: the two classes of system {self.name!r} are the same ({ids[0]})")
        return ids[0], ids[1]

    def accuracy(self, split: str = "test") -> float:
        from .models.training import accuracy

        return accuracy(self.model, self.data(split))

    def describe(self, split: str = "test") -> str:
        """One line for a chapter's log, with a caution when the accuracy is near chance (wrong preprocessing or
        class mapping are the usual causes)."""
        d = self.data(split)
        acc = self.accuracy(split)
        chance = 1.0 / d.num_classes
        line = (
            f"{self.name}: {len(d)} {split} inputs {tuple(d.input_shape)}, {d.num_classes} classes -> "
            f"{self.num_outputs} model outputs, accuracy {acc:.3f}"
        )
        if acc < chance + 0.25 * (1 - chance):  # less than a quarter of the way from chance to perfect
            line += (
                f" (CAUTION: near chance {chance:.3f}: check 'normalize', 'image_size' and 'class_index'; results "
                "on a model that does not recognise the data explain nothing)"
            )
        return line


def load_system(
    spec: SystemSpec, profile: str | Profile = "book", seed: int = 0, device: str | torch.device = "cpu",
    progress: bool = False,
) -> System:  # fmt: skip
    """Build the model of ``spec`` (trained from the cache, or a factory/torchvision model with its weights),
    fold its normalisation in, move it to ``device``, check it on the data and resolve its class mapping."""
    prof = get_profile(profile)
    dev = resolve_device(device)
    probe = load_dataset(spec.dataset, "val", prof, seed, spec.image_size, **spec.data_options())
    if split_registry_name(spec.model) is not None:
        if spec.data_options():
            raise ValueError(f"{spec.param}: registry models train on the folder with its default options only")
        net = default_model(spec.model, spec.dataset, prof, seed, progress, spec.image_size)
    else:
        state = read_state_dict(spec.weights) if spec.weights else None
        n_out = spec.num_outputs or (outputs_in_state(state) if state else None) or probe.num_classes
        torch.manual_seed(seed)  # a demo model with random weights is the same on every run
        if spec.model.startswith("torchvision:"):
            net = torchvision_model(spec.model.split(":", 1)[1], n_out)
        else:
            net = call_factory(import_factory(spec.model), probe, n_out)
        if state is not None:
            load_weights(net, state, spec.weights)
    stats = parse_normalize(spec.normalize)
    if stats is not None and (probe.kind != "image" or len(stats[0]) != probe.input_shape[0]):
        raise ValueError(
            f"{spec.param}: normalize has {len(stats[0])} channel values but {spec.label}'s inputs have shape "
            f"{tuple(probe.input_shape)}"
        )
    model = wrap(net, spec.normalize).to(dev).eval()
    width = output_width(model, probe, dev)  # also materialises lazy modules before they are frozen
    if spec.num_outputs is not None and width != spec.num_outputs:
        raise ValueError(f"{spec.param}: num_outputs is {spec.num_outputs} but the model gives {width} outputs")
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        output_index = resolve_output_index(probe.class_names, spec.class_index, width)
    except ValueError as exc:
        raise ValueError(f"{spec.param} ({spec.label}): {exc}") from exc
    return System(spec, model, prof, seed, dev, width, output_index, load_threads=torch.get_num_threads())


def load_systems(
    value: Any,
    profile: str | Profile = "book",
    seed: int = 0,
    device: str | torch.device = "cpu",
    param: str = "systems",
) -> list[System]:
    return [load_system(s, profile, seed, device) for s in parse_systems(value, param)]


def load_model(
    spec: str,
    dataset: str,
    *,
    weights: str | Path | None = None,
    profile: Any = "book",
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    **system: Any,
) -> nn.Module:
    """The model of the system ``{"dataset": dataset, "model": spec, "weights": weights, **system}`` (see
    :mod:`xai_lib.systems` for the keys), in eval mode with frozen parameters, preprocessing folded in."""
    keys = {"dataset": dataset, "model": spec, **({"weights": str(weights)} if weights is not None else {}), **system}
    return load_system(spec_from_mapping(keys, "model"), profile, seed, device, progress).model
