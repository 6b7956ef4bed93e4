"""Does a model's result depend on the lengths trained beside it? One-unit keras3 GRUs at lr 0.1 on the latch at
T = 100 (100 seeds, E5's setting), trained alone, beside T = 200 in one padded program, and in E5's four lengths
(5, 20, 100, 200) in three buckets: prints each run's successes at T = 100 and how many models' final validation
accuracies differ from the first run's.

    python experiments/findings/v3/padding_check.py      # about 3 minutes on the 2-core CPU
"""

import numpy as np

from latchjax.sweep.config import SweepConfig
from latchjax.sweep.runner import run_sweep

BASE = dict(task="latch", cells=("gru",), flavor="keras3", units=1, seeds=100, epochs=5, batch_size=16,
            samples=10000, task_kwargs={"noise": 0.1}, lrs=(0.1,), split="shuffled")


def main() -> None:
    first = None
    for lengths, buckets in [((100,), 1), ((100, 200), 1), ((5, 20, 100, 200), 3)]:
        result = run_sweep(SweepConfig(lengths=lengths, length_buckets=buckets, **BASE))
        acc = result.sel("val_acc", cell="gru", length=100)[..., -1].ravel()
        first = acc if first is None else first
        print(f"lengths {lengths}, {buckets} bucket(s): {int((acc >= 0.9).sum())}/100 successes at T = 100, "
              f"{int((acc != first).sum())} models differ from the first run (max |diff| {np.abs(acc - first).max():g})")


if __name__ == "__main__":
    main()
