"""FINDINGS v3's SimpleRNN dynamics tables (experiments/findings/v3/dynamics_srnn.py): the bistability bound of a
tanh unit, and the readout-race table on a synthetic dynamics.csv with known answers."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "findings" / "v3" / "dynamics_srnn.py"
spec = importlib.util.spec_from_file_location("dynamics_srnn", SCRIPT)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)


def stable_fixed_points(w: float, b: float) -> int:
    """Count the stable fixed points of h -> tanh(w h + b) by iterating from a grid of starts."""
    h = np.linspace(-1, 1, 201)
    for _ in range(5000):
        h = np.tanh(w * h + b)
    return len(np.unique(np.round(h, 4)))


def test_the_critical_bias_separates_one_from_two_stable_fixed_points():
    for w in (1.2, 1.5, 2.0, 3.0):
        bc = float(module.critical_bias(np.array([w]))[0])
        assert 0 < bc < w
        assert stable_fixed_points(w, 0.9 * bc) == 2 and stable_fixed_points(w, 1.1 * bc) == 1
        assert module.holds_a_bit(np.array([w, -w, w]), np.array([0.9 * bc, 0.9 * bc, 1.1 * bc])).tolist() == [
            True, True, False]
    assert module.critical_bias(np.array([0.5, 1.0])).tolist() == [0.0, 0.0]


def test_the_readout_race_table_counts_latches_and_turned_heads_per_outcome(tmp_path):
    run = tmp_path / "v3" / "reversed-dynamics"
    run.mkdir(parents=True)
    rows, results = [], []
    for seed in range(4):
        win = seed < 1  # seed 0 climbs to a latch and turns its head; the others shrink w below 1
        results.append(dict(cell="srnn", length=50, seed=seed, success=int(win)))
        for r in range(3):
            w = 1.0 + 0.5 * r if win else 1.0 - 0.1 * r
            head1 = -1.0 if r == 0 or not win else 1.0
            rows.append({"cell": "srnn", "length": 50, "seed": seed, "round": r, "lambda": min(w, 1.0),
                         "cell.bias[0]": 0.0, "cell.kernel[0,0]": 1.0, "cell.recurrent_kernel[0,0]": w,
                         "head.kernel[0,0]": 0.0, "head.kernel[0,1]": head1})
    pd.DataFrame(rows).to_csv(run / "dynamics.csv", index=False)
    pd.DataFrame(results).to_csv(run / "results.csv", index=False)
    table = module.blocks(tmp_path, None)["v3-reversed-race"]
    wins, losses = [line for line in table.splitlines() if line.startswith("| srnn |")]
    assert "| successes | 1 | 1.00 → 1.50 → 2.00 | 0.00 → 1.00 → 1.00 | 0.00 → 1.00 → 1.00 |" in wins
    assert "| failures | 3 | 1.00 → 0.90 → 0.80 | 0.00 → 0.00 → 0.00 | 0.00 → 0.00 → 0.00 |" in losses
    assert "missing" in module.blocks(tmp_path, None)["v3-torch-srnn"]
