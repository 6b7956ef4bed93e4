"""Print a hash of the StableHLO text of the compiled programs (``init`` and one ``epoch``) of ten cells in six
sweeps, so that two checkouts can be compared: equal hashes mean the change compiles to exactly the same programs.

    PYTHONPATH=OLD_CHECKOUT python benchmarks/same_programs.py
    python benchmarks/same_programs.py
"""

from __future__ import annotations

import hashlib

import jax
import numpy as np

from latchjax.sweep.config import SweepConfig
from latchjax.sweep.runner import data_shapes
from latchjax.sweep.trainer import make_program, model_grid

CONFIGS = [dict(), dict(cells=("lstm", "gru"), flavor="keras3"),
           dict(task="adding", cells=("gru",), units=4, lengths=(10, 20)), dict(task="temporal_order", lengths=(10,)),
           dict(flavor="torch", cells=("srnn",), head="sigmoid"), dict(data="per-seed", task="bit_relay")]


def main() -> None:
    hashes = []
    for kw in CONFIGS:
        kw = dict(kw)
        cfg = SweepConfig(lengths=kw.pop("lengths", (5, 8)), seeds=4, samples=200, epochs=2, **kw)
        for cell in cfg.resolved.cells:
            program = make_program(cell, cfg, [jax.devices()[0]])
            hparams = jax.tree.map(lambda a: a[:4], model_grid(cfg, cell))
            repeats = (0, 1, 2, 3) if cfg.data == "per-seed" else None
            data = data_shapes(cfg, cfg.lengths, cfg.resolved.n_in, repeats)
            state = jax.eval_shape(program.init, hparams, data)
            text = program.epoch.lower(state, hparams, data, np.int32(0)).as_text() + \
                program.init.lower(hparams, data).as_text()
            hashes.append(f"{cfg.task}/{cell.name}:{hashlib.sha1(text.encode()).hexdigest()[:12]}")
    print(" ".join(hashes))


if __name__ == "__main__":
    main()
