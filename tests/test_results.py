"""SweepResult's per-cell metadata (coords["cell_info"]), its round trip through results.npz (old files
without it included), and the xarray view of a run."""

import io
import json

import numpy as np
import pytest

from latchjax import SweepConfig, make_cell
from latchjax.analysis.compare import compare_runs
from latchjax.rundir.files import save_result
from latchjax.rundir.load import load_dataset, load_result
from latchjax.rundir.plots import curve_series
from latchjax.rundir.tables import table_texts
from latchjax.rundir.upgrade import cell_info_from_name, upgrade_coords
from latchjax.sweep.results import DIMS, SweepResult, cell_info

CFG = SweepConfig(cells=("srnn", "lstm:units=3"), lengths=(5, 9), seeds=4, epochs=3, lrs=(1e-2, 1e-3),
                  forget_biases=(1.0, 2.0), units=2, flavor="keras3")
SETTINGS = {"units": 2, "flavor": "keras3", "threshold": 0.75, "seed": 0}


def fake_metrics(rng, fbs):
    shape = (len(CFG.lengths), len(CFG.lrs), len(fbs), CFG.seeds)
    out = {name: rng.uniform(0.4, 1.0, (*shape, CFG.epochs)).astype(np.float32)
           for name in ("train_loss", "train_acc", "val_loss", "val_acc")}
    out["diverged"] = rng.uniform(size=shape) < 0.1
    return out


def fake_result(seed=0):
    rng = np.random.default_rng(seed)
    parts = [SweepResult.from_cell(make_cell(spec, CFG.units, CFG.flavor), CFG, fake_metrics(rng, CFG.forget_biases),
                                   params=None, compile_s=1.0, run_s=2.0) for spec in CFG.cells]
    return SweepResult.concat(parts)


def test_from_cell_records_what_each_cell_is():
    result = fake_result()
    assert result.coords["cell"] == ["srnn", "lstm:units=3"]
    assert result.coords["cell_info"] == [
        {"kind": "srnn", "flavor": "keras3", "units": 2, "has_forget_bias": False},
        {"kind": "lstm", "flavor": "keras3", "units": 3, "has_forget_bias": True}]
    assert result.cell_info() == result.coords["cell_info"]
    # a cell made from a bare spec takes the config's units and flavor
    one = SweepResult.from_cell(make_cell("lstm", CFG.units, CFG.flavor), CFG,
                                fake_metrics(np.random.default_rng(1), CFG.forget_biases), None, 0, 0)
    assert one.coords["cell_info"] == [{"kind": "lstm", "flavor": "keras3", "units": 2, "has_forget_bias": True}]


def test_flax_cells_and_unknown_names():
    nn = pytest.importorskip("flax.linen")
    flax_cell = make_cell(nn.GRUCell(features=4))
    assert cell_info(flax_cell) == {"kind": "flax.GRUCell", "flavor": "keras3", "units": 4, "has_forget_bias": False}
    assert cell_info_from_name("flax.GRUCell", 5, "torch") == {"kind": "flax.GRUCell", "flavor": "torch", "units": 5,
                                                              "has_forget_bias": False}
    assert cell_info_from_name("lstm:chrono=10", 5, "torch")["has_forget_bias"] is False


def test_results_npz_round_trips_cell_info(tmp_path):
    result = fake_result()
    save_result(result, tmp_path / "results.npz")
    loaded = load_result(tmp_path / "results.npz")
    assert loaded.coords == result.coords
    for name in result.metrics:
        np.testing.assert_array_equal(loaded.metrics[name], result.metrics[name])


def save_old(result, path):
    """results.npz as written before cell_info was recorded."""
    coords = {k: v for k, v in result.coords.items() if k != "cell_info"}
    buf = io.BytesIO()
    np.savez_compressed(buf, coords=json.dumps(coords), timing=json.dumps(result.timing), **result.metrics)
    path.write_bytes(buf.getvalue())


def test_old_results_without_cell_info_still_load_and_give_the_same_tables(tmp_path):
    result = fake_result()
    old = tmp_path / "old"
    old.mkdir()
    (old / "config.json").write_text(json.dumps(SETTINGS))
    save_old(result, old / "results.npz")
    loaded = load_result(old / "results.npz")
    assert loaded.coords["cell_info"] == result.coords["cell_info"]  # parsed with config.json's units, flavor
    bare = {k: v for k, v in result.coords.items() if k != "cell_info"}
    assert upgrade_coords(bare, SETTINGS)["cell_info"] == result.coords["cell_info"]
    assert table_texts(loaded, 0.75) == table_texts(result, 0.75)
    rows = table_texts(result, 0.75)["results.csv"].splitlines()
    assert rows[1].startswith("srnn,keras3,2,") and any(r.startswith("lstm:units=3,keras3,3,") for r in rows)


def test_plots_and_compare_read_the_forget_bias_from_cell_info():
    result = fake_result()
    labels = [label for label, _ in curve_series(result)]
    assert labels == ["srnn lr=0.01", "srnn lr=0.001", "lstm:units=3 lr=0.01 b_f=1", "lstm:units=3 lr=0.01 b_f=2",
                      "lstm:units=3 lr=0.001 b_f=1", "lstm:units=3 lr=0.001 b_f=2"]
    rows = compare_runs((result, SETTINGS), (fake_result(seed=1), SETTINGS))
    per_cell = {cell: sum(r[2] == cell for r in rows) for cell in result.coords["cell"]}
    assert per_cell == {"srnn": 2 * 2, "lstm:units=3": 2 * 2 * 2}  # srnn: one forget bias only


def test_to_xarray_has_every_metric_success_and_the_cell_metadata():
    pytest.importorskip("xarray")
    result = fake_result()
    ds = result.to_xarray(threshold=0.75)
    assert tuple(ds.val_acc.dims) == DIMS and tuple(ds.diverged.dims) == DIMS[:-1]
    assert list(ds.cell.values) == ["srnn", "lstm:units=3"]
    assert list(ds.kind.values) == ["srnn", "lstm"] and list(ds.units.values) == [2, 3]
    assert list(ds.has_forget_bias.values) == [False, True] and list(ds.flavor.values) == ["keras3", "keras3"]
    np.testing.assert_array_equal(ds.success.values, result.success(0.75))
    freq = ds.success.sel(cell="lstm:units=3").mean("seed")
    np.testing.assert_allclose(freq.values, result.success_frequency(0.75)["success_freq"][1])
    np.testing.assert_array_equal(ds.val_acc.sel(cell="srnn", length=9, lr=1e-3).values,
                                  result.sel("val_acc", cell="srnn", length=9, lr=1e-3))
    assert ds.attrs["threshold"] == 0.75
    assert list(ds.success.where(ds.has_forget_bias, drop=True).cell.values) == ["lstm:units=3"]


def test_load_dataset_uses_the_runs_threshold(tmp_path):
    pytest.importorskip("xarray")
    result = fake_result()
    (tmp_path / "config.json").write_text(json.dumps(SETTINGS | {"preset": "custom", "cells": ["srnn", "lstm"]}))
    save_old(result, tmp_path / "results.npz")  # an old file: cell_info parsed on loading
    ds = load_dataset(tmp_path)
    np.testing.assert_array_equal(ds.success.values, result.success(0.75))
    assert ds.attrs["threshold"] == 0.75 and ds.attrs["preset"] == "custom" and "cells" not in ds.attrs
    assert list(ds.units.values) == [2, 3]
    same = load_dataset(tmp_path / "results.npz")
    assert same.identical(ds)
    with pytest.raises(FileNotFoundError, match="results.npz"):
        load_dataset(tmp_path / "nowhere")


def test_summary_csv_gains_clopper_pearson_beside_wilson_at_the_end_and_keeps_every_other_column():
    """summary.csv's columns are those it had, then cp_low, cp_high: scipy's Beta quantiles of the row's count."""
    beta = pytest.importorskip("scipy.stats").beta
    result = fake_result()
    lines = [line.split(",") for line in table_texts(result, 0.75)["summary.csv"].splitlines()]
    assert lines[0] == ["cell", "length", "lr", "forget_bias", "n", "successes", "success_freq", "ci_low", "ci_high",
                        "mean_val_acc", "std_val_acc", "cp_low", "cp_high"]
    rows = [dict(zip(lines[0], line)) for line in lines[1:]]
    assert len(rows) == 2 * 2 * 2 * 2 and {r["successes"] for r in rows} != {"0"}
    for r in rows:
        k, n = int(r["successes"]), int(r["n"])
        low = beta.ppf(0.025, k, n - k + 1) if k else 0.0
        high = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
        assert float(r["cp_low"]) == pytest.approx(low, abs=1e-6) and float(r["cp_high"]) == pytest.approx(high, abs=1e-6)
        assert float(r["cp_low"]) <= k / n <= float(r["cp_high"])
