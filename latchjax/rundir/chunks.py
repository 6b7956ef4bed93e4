"""Finished chunks of a sweep on disk: one atomically written ``.npz`` each, with a digest and the plan's id."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from latchjax.rundir.files import atomic_write, flatten_tree, unflatten_tree


class ChunkStore:
    """Finished chunks of a sweep, one ``DIR/chunks/<name>.npz`` each, written atomically.

    Each file carries a SHA-256 digest of its arrays and the ``plan_id`` of the sweep it belongs
    to; a file that is truncated, corrupted or from another plan is reported and ignored, so its
    chunk is trained again.
    """

    def __init__(self, directory: Path, plan_id: str) -> None:
        self.dir = Path(directory)
        self.plan_id = plan_id
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, chunk) -> Path:
        return self.dir / f"{chunk.name}.npz"

    @staticmethod
    def _digest(arrays: dict[str, np.ndarray]) -> str:
        h = hashlib.sha256()
        for name in sorted(arrays):
            a = np.ascontiguousarray(arrays[name])
            h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
        return h.hexdigest()

    def save(self, chunk, out: dict) -> None:
        arrays: dict[str, np.ndarray] = {}
        flatten_tree(out, "out", arrays)
        meta = json.dumps({"chunk": chunk.name, "plan_id": self.plan_id, "digest": self._digest(arrays)})
        buf = io.BytesIO()
        np.savez(buf, meta=meta, **arrays)
        atomic_write(self.path(chunk), buf.getvalue())

    def load(self, chunk) -> dict | None:
        path = self.path(chunk)
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in data.files if k != "meta"}
            ok = meta.get("chunk") == chunk.name and meta.get("plan_id") == self.plan_id and \
                meta.get("digest") == self._digest(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            ok = False
        if not ok:
            print(f"latchjax: {path} is damaged or from another sweep; its chunk will be trained again",
                  file=sys.stderr)
            path.unlink(missing_ok=True)
            return None
        return unflatten_tree(arrays)["out"]

    def finished(self, plan) -> int:
        return sum(self.path(c).is_file() for c in plan)
