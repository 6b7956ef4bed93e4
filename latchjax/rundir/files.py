"""Files of a run: atomic writes, CSV text, and the ``.npz`` files of results and parameters.

Files are written to a temporary name and renamed, so a reader never sees half a file. A command that writes into
a run checks every destination first (:func:`check_destination`) and writes them all at the end
(:func:`write_files`); a file that cannot be read as what it should be is one line (:class:`RunDirError`)
naming it (:func:`read_json`, :func:`read_npz`, :func:`load_params`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from latchjax.rundir.lock import RunDirError
from latchjax.sweep.results import SweepResult


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to ``path.tmp`` then rename: the file is either absent or whole (and no ``.tmp`` is left behind
    when the write or the rename fails)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            if tmp.is_file():
                tmp.unlink()
        raise


def _reason(err: BaseException) -> str:
    """An exception as a few words on one line."""
    text = " ".join(str(err).split())
    return text or type(err).__name__


def damaged(path: Path, what: str) -> RunDirError:
    """The one line for a file of a run that is not what latchjax wrote: ``PATH is damaged: WHAT``."""
    return RunDirError(f"{path} is damaged: {what}")


def read_json(path: Path) -> dict:
    """The JSON object in ``path``; one line (:class:`RunDirError`) naming the file if it is missing, unreadable,
    not JSON or not an object."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path}: no such file" if not path.exists() else f"{path} is not a file")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise damaged(path, "not JSON (not UTF-8 text)") from None
    except OSError as err:
        raise RunDirError(f"{path}: cannot be read: {err.strerror or _reason(err)}") from None
    if not text.strip():
        raise damaged(path, "empty (0 bytes)" if not text else "empty (only white space)")
    try:
        value = json.loads(text)
    except ValueError as err:
        raise damaged(path, f"not JSON ({_reason(err)})") from None
    if not isinstance(value, dict):
        raise damaged(path, f"not a JSON object (a {type(value).__name__}); latchjax writes {{\"name\": value, ...}}")
    return value


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive ``path``, read whole; one line (:class:`RunDirError`) naming the file
    if it is missing, empty, truncated or otherwise not an archive of arrays."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path}: no such file" if not path.exists() else f"{path} is not a file")
    try:
        if path.stat().st_size == 0:
            raise damaged(path, "empty (0 bytes)")
        if not zipfile.is_zipfile(path):
            raise damaged(path, "not a .npz archive (truncated, or not written by latchjax)")
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise damaged(path, "not a .npz archive (a single array)")
        with data:
            return {name: data[name] for name in data.files}
    except RunDirError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError) as err:
        raise damaged(path, f"cannot read its arrays ({_reason(err)})") from None


def check_destination(path: Path, command: str, directory: bool = False) -> None:
    """Refuse, with one line (:class:`RunDirError`) and before anything is computed, a place ``command`` cannot
    write: a file ``path`` (or, with ``directory``, a directory ``path`` to write files into) that is in the way
    of the other kind, or lies in a directory that is not writable or cannot be made."""
    path = Path(path)
    if not directory:
        if path.is_dir():
            raise RunDirError(f"{path} is a directory; {command} writes a file there")
        path = path.parent
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise RunDirError(f"{path} is not writable; {command} writes its files there")
        return
    if path.exists() or path.is_symlink():
        raise RunDirError(f"{path} is a file, not a directory; {command} writes its files there")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise RunDirError(f"{parent} is a file, not a directory; {command} would make {path} there")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunDirError(f"{parent} is not writable; {command} would make {path} there")


def write_files(files: Mapping[Path, bytes | str], command: str) -> None:
    """Write every file of ``files`` (path: content) atomically, once every destination has been checked
    (:func:`check_destination`); an error writing one is one line naming it."""
    for path in files:
        check_destination(path, command)
    for path, data in files.items():
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)
        except OSError as err:
            raise RunDirError(f"{path}: cannot be written: {err.strerror or _reason(err)}") from None


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


def save_params(result: SweepResult, path: Path, which: str = "params") -> None:
    """Trained parameters as ``cell/length/...`` arrays; the leading axis runs over (lr, forget_bias, seed)
    flattened (forget_bias has one value for cells without a forget-gate bias). ``which="snapshots"``: the
    parameters after every round (:attr:`SweepResult.snapshots`), a round axis after the models'."""
    arrays: dict[str, np.ndarray] = {}
    for cell, per_length in getattr(result, which).items():
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


def _leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """The leaves of a nested dict (arrays, or ``jax.ShapeDtypeStruct``) by ``a/b/c`` name, as they are."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    return {name: leaf for key, value in tree.items()
            for name, leaf in _leaves(value, f"{prefix}/{key}" if prefix else str(key)).items()}


def load_params(path: Path, result: SweepResult | None = None, cfg: Any = None) -> dict[str, dict[int, dict]]:
    """``params[cell][length]``: the pytree :func:`save_params` wrote. With the run's ``result``, checked to hold
    every cell at every trained length, one model per (lr, forget_bias, seed) along the leading axis; with its
    :class:`~latchjax.sweep.config.SweepConfig` too, every array a cell's model has, of its shape. Anything else
    is one line (:class:`RunDirError`) naming the file."""
    path = Path(path)
    arrays = read_npz(path)
    for name, value in arrays.items():
        parts = name.split("/")
        if len(parts) < 3 or not all(parts) or not parts[1].isdigit():
            raise damaged(path, f"{name!r} is not a cell/length/... array of trained parameters")
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)) or value.ndim < 1:
            raise damaged(path, f"{name} holds {value.dtype} of shape {value.shape}, not parameters")
    try:
        tree = unflatten_tree(arrays)
    except (AttributeError, TypeError, IndexError, ValueError):  # a name both an array and a prefix of others
        raise damaged(path, "its array names do not form a tree of parameters") from None
    params = {cell: {int(length): t for length, t in by_length.items()} for cell, by_length in tree.items()}
    if result is not None:
        _check_params(path, params, result, cfg)
    return params


def _check_params(path: Path, params: dict, result: SweepResult, cfg: Any) -> None:
    c = result.coords
    lengths = [int(n) for n in c["length"]]
    extra = [cell for cell in params if cell not in c["cell"]]
    if extra:
        raise damaged(path, f"parameters of cell {extra[0]}, which results.npz does not have "
                            f"({', '.join(c['cell'])})")
    expected = _expected_params(cfg) if cfg is not None else {}
    for cell, info in zip(c["cell"], result.cell_info()):
        if cell not in params:
            raise damaged(path, f"no parameters of cell {cell} (incomplete)")
        stray = [n for n in params[cell] if n not in lengths]
        if stray:
            raise damaged(path, f"parameters of {cell} at length {stray[0]}, which was not trained")
        models = len(c["lr"]) * (len(c["forget_bias"]) if info["has_forget_bias"] else 1) * len(c["seed"])
        first = None
        for length in lengths:
            if length not in params[cell]:
                raise damaged(path, f"no parameters of {cell} at length {length} (incomplete)")
            leaves = _leaves(params[cell][length], f"{cell}/{length}")
            shapes = {name.split("/", 2)[2]: value.shape for name, value in leaves.items()}
            for name, value in leaves.items():
                if value.shape[0] != models:
                    raise damaged(path, f"{name} holds {value.shape[0]} model{'s' * (value.shape[0] != 1)}; "
                                        f"the run trained {models} of {cell} at each length")
            want = expected.get(cell, first)
            if want is not None:
                missing = [k for k in want if k not in shapes]
                if missing:
                    raise damaged(path, f"no {cell}/{length}/{missing[0]} (incomplete)")
                unknown = [k for k in shapes if k not in want]
                if unknown:
                    raise damaged(path, f"{cell}/{length}/{unknown[0]} is no parameter of {cell}")
                wrong = [k for k in want if shapes[k][1:] != tuple(want[k][1:])]
                if wrong:
                    raise damaged(path, f"{cell}/{length}/{wrong[0]} has shape {shapes[wrong[0]]}, a model of "
                                        f"{cell} has {(models, *want[wrong[0]][1:])}")
            first = first or shapes


def _expected_params(cfg: Any) -> dict[str, dict[str, tuple[int, ...]]]:
    """Per cell of ``cfg``: the name and shape of every array of one model (``cell/...``, ``head/...``), from
    the function the trainer initialises models with, evaluated abstractly (nothing is computed)."""
    import jax

    from latchjax.sweep.trainer import initial_params

    out = {}
    n_in, max_length = cfg.resolved.n_in, max(cfg.lengths)
    for cell in cfg.resolved.cells:
        def init(key, cell=cell):
            return initial_params(cell, cfg, key, cfg.forget_biases[0], n_in, max_length, max_length)

        shapes = jax.eval_shape(init, jax.random.key(0))
        out[cell.name] = {name: (0, *leaf.shape) for name, leaf in _leaves(shapes).items()}
    return out
