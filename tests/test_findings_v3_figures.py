"""FINDINGS v3's figures (experiments/findings/v3/figures_v3.py) on synthetic run files: the logistic fit against a
sample whose answer is known, duplicates drawn once, the three PNGs written, and missing runs giving a note."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SPEC = importlib.util.spec_from_file_location(
    "figures_v3", Path(__file__).parents[1] / "experiments" / "findings" / "v3" / "figures_v3.py")
figures_v3 = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(figures_v3)

LENGTHS = (20, 50, 100, 200)
SEEDS = 20
# cell -> {forget bias: lambda0} (a cell without a forget gate: the same model at every forget bias)
E2 = {"lstm": {1.0: 0.8, 3.0: 1.08}, "lstm:uc=0": {1.0: 0.7, 3.0: 1.0}, "srnn": {1.0: 1.0, 3.0: 1.0},
      "srnn:rec=0.9": {1.0: 0.9, 3.0: 0.9}, "srnn:rec=1.5": {1.0: 1.5, 3.0: 1.5}, "gru": {1.0: 0.6, 3.0: 0.6},
      "gru:uc=2": {1.0: 1.0, 3.0: 1.0}}
E4 = {"srnn": 1.0, "lstm": 0.8, "gru": 0.6}


def success(lam: float, length: int, seed: int) -> bool:
    """Success where the first input's share left, log10 lam^T, is above about -2 (a seeded coin near it)."""
    memory = length * math.log10(lam)
    p = 1 / (1 + math.exp(-(memory + 2) * 2)) if lam < 1 else 0.5
    return bool(np.random.default_rng([seed, length, int(lam * 1000)]).random() < p)


def write_run(root: Path, name: str, cells: dict, flavor: str = "keras2") -> None:
    rows = []
    for cell, by_fb in cells.items():
        for fb, lam in (by_fb.items() if isinstance(by_fb, dict) else [(1.0, by_fb)]):
            for length in LENGTHS:
                for seed in range(SEEDS):
                    rows.append({"cell": cell, "flavor": flavor, "units": 1, "length": length, "lr": 0.001,
                                 "forget_bias": fb, "seed": seed, "success": success(lam, length, seed),
                                 "val_acc": 0.5, "lambda0": lam})
    (root / "v2" / name).mkdir(parents=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(root / "v2" / name / "explain.csv", index=False)
    frame.drop(columns="lambda0").to_csv(root / "v2" / name / "results.csv", index=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    write_run(root, "e2-lambda", E2)
    write_run(root, "e4-keras2", E4)
    write_run(root, "e4-keras3", E4, "keras3")
    write_run(root, "e4-torch", {"srnn": 0.5, "lstm": 0.7, "gru": 0.4}, "torch")
    return root


def test_the_logistic_fit_finds_a_known_maximum_likelihood_answer():
    """2/10, 5/10, 8/10 successes at x = -2, -1, 0 are logit -ln 4, 0, ln 4: a line with slope ln 4 through 0 at
    x = -1; the counts equal n p, so that line is the fit itself."""
    x = np.repeat([-2.0, -1.0, 0.0], 10)
    y = np.concatenate([np.arange(10) < k for k in (2, 5, 8)]).astype(float)
    beta, cov = figures_v3._fit_logistic(x, y)
    assert beta[1] == pytest.approx(math.log(4), abs=1e-5) and -beta[0] / beta[1] == pytest.approx(-1, abs=1e-5)
    assert cov.shape == (2, 2) and np.all(np.linalg.eigvalsh(cov) > 0)


def test_duplicate_models_are_counted_once(runs):
    models = figures_v3._models(runs)
    by_run = models.groupby("run").size()
    gated = sum(len(fbs) for c, fbs in E2.items() if c.startswith("lstm"))
    assert by_run["e2-lambda"] == (gated + sum(1 for c in E2 if not c.startswith("lstm"))) * len(LENGTHS) * SEEDS
    assert "e4-keras2" not in by_run  # every e4-keras2 model is an e2-lambda model
    assert set(models[models["run"] == "e4-keras3"]["family"]) == {"lstm", "gru"}  # Keras 3's SimpleRNN is Keras 2's
    assert by_run["e4-torch"] == 3 * len(LENGTHS) * SEEDS
    below = models[(models["lambda0"] < 1)]
    assert np.allclose(below["memory"], below["length"] * np.log10(below["lambda0"]))


def test_the_fit_puts_the_half_way_point_where_the_data_were_made(runs):
    fit = figures_v3.memory_fit(figures_v3._models(runs, figures_v3.FIT_RUNS))
    assert fit is not None and fit["beta"][1] > 0 and fit["x50_ci"][0] < fit["x50"] < fit["x50_ci"][1]
    assert -4 < fit["x50"] < -0.5


def test_the_three_figures_are_written_with_their_caption_block(runs, tmp_path):
    paths = figures_v3.figures(runs, tmp_path / "fig")
    assert [p.name for p in paths] == ["findings_v3_headline.png", "findings_v3_lambda.png", "findings_v3_memory.png"]
    assert all(p.stat().st_size > 40_000 for p in paths)
    block = figures_v3.blocks(runs, None)["v3-figures"]
    assert block.endswith("\n") and block.count("![") == 3 and "50% at log10 λ0^T =" in block
    assert "missing" not in block


def test_missing_runs_give_a_note_not_a_crash(tmp_path, runs):
    empty = tmp_path / "none"
    assert figures_v3.blocks(empty, None)["v3-figures"].startswith("*(runs v2/e2-lambda, v2/e4-keras2, v2/e4-keras3 "
                                                                  "missing: `bash experiments/findings/v3/rerun_v2.sh")
    paths = figures_v3.figures(empty, tmp_path / "fig")  # every panel says what is missing
    assert all(p.is_file() for p in paths)
    partial = tmp_path / "partial"
    (partial / "v2").mkdir(parents=True)
    (partial / "v2" / "e2-lambda").symlink_to(runs / "v2" / "e2-lambda")
    block = figures_v3.blocks(partial, tmp_path / "fig2")["v3-figures"]
    assert "runs v2/e4-keras2, v2/e4-keras3 missing" in block and (tmp_path / "fig2" / "findings_v3_memory.png").is_file()
