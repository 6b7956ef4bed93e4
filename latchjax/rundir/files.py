"""Files of a run: atomic writes, CSV text, and the ``.npz`` files of results and parameters.

Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from latchjax.sweep.results import SweepResult


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to ``path.tmp`` then rename: the file is either absent or whole."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def csv_text(header: tuple[str, ...], rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def fmt(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{float(value):.6g}"
    return value


def save_result(result: SweepResult, path: Path) -> None:
    """The metric arrays and their coordinates, losslessly, in one ``.npz``."""
    buf = io.BytesIO()
    np.savez_compressed(buf, coords=json.dumps(result.coords), timing=json.dumps(result.timing), **result.metrics)
    atomic_write(path, buf.getvalue())


def flatten_tree(tree: Any, prefix: str, out: dict) -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            flatten_tree(value, f"{prefix}/{key}", out)
    else:
        out[prefix] = np.asarray(tree)


def save_params(result: SweepResult, path: Path) -> None:
    """Trained parameters as ``cell/length/...`` arrays; the leading axis runs over (lr, forget_bias, seed)
    flattened (forget_bias has one value for cells without a forget-gate bias)."""
    arrays: dict[str, np.ndarray] = {}
    for cell, per_length in result.params.items():
        for length, tree in zip(result.coords["length"], per_length):
            flatten_tree(tree, f"{cell}/{length}", arrays)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, buf.getvalue())


def unflatten_tree(arrays: dict[str, np.ndarray]) -> dict:
    """The nested dicts :func:`flatten_tree` made ``a/b/c`` names of."""
    tree: dict = {}
    for name, value in arrays.items():
        *keys, last = name.split("/")
        node = tree
        for key in keys:
            node = node.setdefault(key, {})
        node[last] = value
    return tree


def load_params(path: Path) -> dict[str, dict[int, dict]]:
    """``params[cell][length]``: the pytree :func:`save_params` wrote."""
    with np.load(path) as data:
        tree = unflatten_tree({name: data[name] for name in data.files})
    return {cell: {int(length): t for length, t in by_length.items()} for cell, by_length in tree.items()}
