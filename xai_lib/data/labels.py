"""Class mapping: which model output stands for each class of a dataset (``class_index``).

A model may have more outputs than a folder has classes (an ImageNet classifier on ten synset folders). The
mapping is given as ``class_index``:

* ``None``: class ``k`` is output ``k`` when the model has exactly as many outputs as the dataset has classes;
  otherwise, when every class name is an integer (folders ``0``, ``17``, ``281``), that integer is the output;
* a mapping ``{class name: output index}`` (inline, or a JSON file holding one);
* a list of names in output order (inline, a JSON list, or a text file with one entry per line whose first
  token is the name, e.g. ImageNet's ``LOC_synset_mapping.txt``: ``n01440764 tench, Tinca tinca``);
* a JSON file in the ``imagenet_class_index.json`` layout, ``{"0": ["n01440764", "tench"], ...}``: a folder
  may be named by the synset id or by the label.

Every class of the dataset must be found; two classes may not share an output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PARAM = "class_index"


def _from_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{PARAM}: {str(path)!r} is not valid JSON: {exc}") from exc
    lines = [ln.split()[0] for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{PARAM}: {str(path)!r} holds no entries")
    return lines


def _name_table(value: Any) -> dict[str, int]:
    """Any accepted ``class_index`` value -> ``{name: output index}`` (several names may point to one output)."""
    if isinstance(value, str | Path):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(
                f"{PARAM}: expected a mapping, a list of names or a file, got {str(value)!r} (no such file)"
            )
        value = _from_file(path)
    if isinstance(value, Mapping):
        table: dict[str, int] = {}
        for key, val in value.items():
            if isinstance(val, Sequence) and not isinstance(val, str):  # imagenet_class_index.json layout
                if not str(key).lstrip("-").isdigit():
                    raise ValueError(f"{PARAM}: entry {key!r}: expected an output index as key, got {key!r}")
                for name in val:
                    table.setdefault(str(name), int(key))
            elif (isinstance(val, int) and not isinstance(val, bool)) or (isinstance(val, str) and val.isdigit()):
                table[str(key)] = int(val)
            elif isinstance(val, str) and str(key).isdigit():  # {"0": "tench"}
                table.setdefault(val, int(key))
            else:
                raise ValueError(f"{PARAM}: entry {key!r}: {val!r} is not an output index")
        return table
    if isinstance(value, Sequence) and not isinstance(value, str):
        return {str(name): i for i, name in reversed(list(enumerate(value)))}
    raise ValueError(f"{PARAM}: expected a mapping, a list of names or a file, got {type(value).__name__}")


def resolve_output_index(class_names: Sequence[str], class_index: Any, num_outputs: int) -> tuple[int, ...] | None:
    """The model output of each class, or ``None`` when class ``k`` is output ``k``; errors name ``class_index``."""
    k = len(class_names)
    if class_index is None:
        if num_outputs == k:
            return None
        if all(str(n).isdigit() for n in class_names):
            index = tuple(int(n) for n in class_names)
        else:
            shown = ", ".join(list(class_names)[:5]) + (", ..." if k > 5 else "")
            raise ValueError(
                f"{PARAM}: the model has {num_outputs} outputs and the dataset {k} classes ({shown}); give "
                "class_index (a JSON file or mapping from class name to output index, or a list of names in output "
                "order) so that each class names its output"
            )
    else:
        table = _name_table(class_index)
        missing = [n for n in class_names if n not in table]
        if missing:
            raise ValueError(f"{PARAM}: no output index for class(es) {missing[:10]} of the dataset")
        index = tuple(table[n] for n in class_names)
    bad = [i for i in index if not 0 <= i < num_outputs]
    if bad:
        raise ValueError(f"{PARAM}: output indices {bad} lie outside the model's {num_outputs} outputs")
    if len(set(index)) != len(index):
        raise ValueError(f"{PARAM}: two classes map to the same output ({dict(zip(class_names, index, strict=True))})")
    return None if index == tuple(range(k)) and num_outputs == k else index
