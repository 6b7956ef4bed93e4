"""What the library's figures promise a reader: every colour named in a legend, every panel's axis labelled, a
numeric floor said, a series that would hide under another drawn in another style, the landscape's axes in words
with what is held fixed, and the accuracy distribution's counts visible."""

import numpy as np
import pytest

from latchjax.analysis.landscape import BASE_WORDS, PARAMETER_WORDS, base_params
from latchjax.rundir import analysis_plots, plots, study_plots
from latchjax.sweep.results import SweepResult


@pytest.fixture
def kept(monkeypatch):
    """The figures a drawing function closes, kept open for the test."""
    figures = []
    monkeypatch.setattr(analysis_plots.plt, "close", figures.append)
    return figures


def report_of(models: int = 4, length: int = 6) -> dict:
    success = np.arange(models) % 2 == 0
    norms = np.tile(np.logspace(-40, 0, length), (models, 1))  # below the floor early on
    trajectories = {0: {"h": np.zeros((length, 8, 1))}}
    w_b = np.column_stack([np.linspace(0.5, 2, models), np.zeros(models)])
    return {name: {"norms": norms, "success": success, "trajectories": trajectories, "w_b": w_b if name == "srnn"
                   else None} for name in ("srnn", "lstm")}


def test_diagnose_figures_name_failures_label_every_panel_and_the_floor(kept, tmp_path):
    diagram = (np.array([0.5, 2.0, 2.0]), np.array([0.0, 0.9, -0.9]))
    analysis_plots.draw_diagnostics(report_of(), np.array([0, 1] * 4), diagram, 6, tmp_path)
    norms, _, fixed = kept
    for ax in norms.axes:
        assert ax.get_ylabel() and "red: failure" in ax.get_title()
        assert any("clipped at 1e-30" in t.get_text() for t in ax.texts)
    legend = [t.get_text() for t in fixed.axes[0].get_legend().get_texts()]
    assert "green: success" in legend and "red: failure" in legend


def result_of(freqs) -> SweepResult:
    """Cells srnn, lstm, gru at lengths 10, 20, 40, 80 whose success frequency over 10 seeds is ``freqs[cell]``."""
    cells = ("srnn", "lstm", "gru")
    success = np.zeros((3, 4, 1, 1, 10), bool)
    for c, f in enumerate(freqs):
        success[c, :, 0, 0] = np.arange(10)[None, :] < np.round(np.asarray(f) * 10)[:, None]
    info = [{"kind": c, "flavor": "keras2", "units": 1, "has_forget_bias": False} for c in cells]
    coords = {"cell": list(cells), "cell_info": info, "length": [10, 20, 40, 80], "lr": [0.001],
              "forget_bias": [1.0], "seed": list(range(10)), "epoch": [1]}
    val = np.where(success, 1.0, 0.5)[..., None]
    return SweepResult(coords, {"val_acc": val, "val_loss": 1 - val, "train_acc": val, "train_loss": 1 - val,
                                "diverged": np.zeros(success.shape, bool)})


def test_a_series_equal_to_an_earlier_one_is_drawn_in_another_style():
    same = [1, 1, 0.6, 0.2]
    fig = plots.success_frequency(result_of([same, same, [0.5, 0.4, 0.3, 0]]), 0.9)
    styles = [line.get_linestyle() for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert styles == ["-", "--", "-"] and "equal to a line drawn before it" in fig.axes[0].get_title()
    fig = plots.success_frequency(result_of([same, [0.5, 0.4, 0.3, 0], [0, 0, 0, 0]]), 0.9)
    assert "drawn before it" not in fig.axes[0].get_title()


def test_the_accuracy_distribution_lays_equal_values_side_by_side():
    fig = plots.val_acc_distribution(result_of([[1, 0.5, 0.5, 0], [0, 0, 0, 0], [1, 1, 1, 1]]))
    dots = fig.axes[0].collections[0].get_offsets()  # srnn at length 10: 10 of 10 seeds at val acc 1.0
    assert len(np.unique(np.round(dots[:, 0], 6))) == 10 and np.ptp(dots[:, 0]) <= 0.8 + 1e-9
    offsets, half = plots._stacked_offsets(np.array([1.0, 1.0, 1.0, 0.5]), 0.02)
    assert list(offsets) == [-1, 0, 1, 0] and half == 1


@pytest.mark.parametrize("kind", ["srnn", "lstm"])
def test_the_landscape_says_in_words_what_it_varies_and_at_what_the_rest_is_fixed(kind, tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(study_plots.plt, "close", figures.append)
    names = {"srnn": ("w_rec", "w_in"), "lstm": ("b_f", "w_in_c")}[kind]
    arrays = {"w": np.linspace(-1, 1, 3), "b": np.linspace(-1, 1, 3), "length": np.array([5]),
              "loss": np.ones((1, 3, 3)), "grad_norm": np.ones((1, 3, 3))}
    study_plots.draw_landscape(arrays, "latch", names, tmp_path)
    fig = figures[0]
    assert fig.axes[0].get_ylabel() == PARAMETER_WORDS[names[0]] and fig._supxlabel.get_text() == PARAMETER_WORDS[names[1]]
    assert BASE_WORDS[kind] in fig._suptitle.get_text()
    cell = base_params(kind)["cell"]  # the words say what base_params sets
    if kind == "srnn":
        assert float(cell["recurrent_kernel"].ravel()[0]) == 1 and float(cell["kernel"].ravel()[0]) == 1
        assert float(cell["bias"].ravel()[0]) == 0
    else:
        assert np.all(np.asarray(cell["kernel"]) == 1) and np.all(np.asarray(cell["recurrent_kernel"]) == 0)
        assert list(np.asarray(cell["bias"]).ravel()) == [0, 1, 0, 0]
