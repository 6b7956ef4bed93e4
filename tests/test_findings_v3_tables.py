"""FINDINGS v3's re-made v2 tables (experiments/findings/v3/v2_tables*.py), on synthetic explain.csv frames written
to temporary run folders with known answers: counts, Holm's correction, the matched-λ0 groups, AUCs only with ten
successes and ten failures, the logistic fit, identical Keras 3 SimpleRNNs, and a note for every missing run. The
last test makes one tiny real run (integration)."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from latchjax.core.stats import holm, paired_comparison

HERE = Path(__file__).resolve().parents[1] / "experiments" / "findings" / "v3"


if str(HERE) not in sys.path:  # this folder's modules import each other by name (it is not a package)
    sys.path.insert(0, str(HERE))


tables, paired, base = (importlib.import_module(name) for name in ("v2_tables", "v2_tables_paired", "v2_tables_base"))
N = 100


def rows(cell, length, ok, lambda0=1.0, forget_bias=(1.0,), proto=None, flavor="keras2", lr=0.001, f0=np.nan,
         val_acc=None):
    """Models of one setting: ``ok`` successes per seed (bool array); a cell without a forget gate is repeated once
    per forget bias, as results.csv writes it."""
    ok = np.asarray(ok, bool)
    lam = np.broadcast_to(np.asarray(lambda0, float), ok.shape)
    proto = np.where(ok, 1.0, 0.0) if proto is None else np.broadcast_to(np.asarray(proto, float), ok.shape)
    acc = np.where(ok, 0.95, 0.5) if val_acc is None else val_acc
    return [{"cell": cell, "flavor": flavor, "units": 1, "length": length, "lr": lr, "forget_bias": fb, "seed": s,
             "success": int(ok[s]), "val_acc": acc[s], "lambda0": lam[s], "proto_acc0": proto[s], "f0": f0}
            for fb in forget_bias for s in range(ok.size)]


def first(k, n=N):
    return np.arange(n) < k


def write(root, name, records):
    run = root / name
    run.mkdir(parents=True)
    pd.DataFrame(records).to_csv(run / "explain.csv", index=False)
    pd.DataFrame(records).drop(columns=["lambda0", "proto_acc0", "f0"]).to_csv(run / "results.csv", index=False)
    return run


FB = (1.0, 2.0, 2.5, 3.0)


@pytest.fixture
def e2_runs(tmp_path):
    """An E2 run at T = 200 with review item 1's λ0 = 1 counts (SimpleRNN 11, GRU 44, LSTM f frozen 60/100)."""
    r = []
    r += rows("srnn", 200, first(18), forget_bias=FB)
    r += rows("srnn:rec=1", 200, first(11), forget_bias=FB)
    r += rows("gru:uc=2", 200, first(44), forget_bias=FB)
    r += rows("srnn:rec=1.5", 200, first(58), 1.5, forget_bias=FB)
    r += rows("gru:uc=4", 200, first(37), 1.5, forget_bias=FB)
    for fb, k, f0 in ((2.5, 51, 1.0), (3.0, 60, 1.0)):
        r += rows("lstm:uc=0", 200, first(k), 1.0, (fb,), f0=f0)
        r += rows("lstm:uc=1", 200, first(68 if fb == 2.5 else 100), 1.25, (fb,), f0=f0)
    r += rows("lstm", 200, first(30), np.linspace(0.45, 0.95, N), (1.0,), f0=0.7)  # λ0 drawn: left out of matching
    write(tmp_path / "v2", "e2-lambda", r)
    return tmp_path


def test_e2_counts_each_setting_once_sorted_by_lambda0(e2_runs):
    text = tables.e2(e2_runs)
    body = [line for line in text.splitlines() if line.startswith("| ") and "setting" not in line]
    assert len(body) == 10  # srnn etc. once although written at four forget biases
    assert "| srnn:rec=1 | — | 1.000 | 11/100 |" in text and "| lstm:uc=1 | 3 | 1.250 | 100/100 |" in text
    lam = [float(line.split(" | ")[2]) for line in body]
    assert lam == sorted(lam) and body[0].startswith("| lstm | 1 |")


def test_matched_groups_tests_and_holm(e2_runs):
    text = tables.matched(e2_runs)
    assert "Left out, λ0 drawn with U_c: lstm b_f=1." in text
    counts = [line for line in text.splitlines() if line.startswith("| 1.")]
    groups = {line.split(" | ")[0][2:] for line in counts}
    assert groups == {"1.000", "1.250", "1.500"}
    assert sum(line.startswith("| 1.000 | ") for line in counts) == 5 + 1  # 5 settings + 1 summary row
    frozen = next(line for line in counts if "lstm:uc=0 b_f=3" in line)
    assert "frozen at rest" in frozen and "60/100 [0.50, 0.69]" in frozen
    assert "at the kink" in next(line for line in counts if "lstm:uc=1 b_f=2.5" in line)
    # the largest difference at λ0 = 1 is LSTM (f frozen) vs srnn:rec=1, with Holm over every pairwise test
    series = {"srnn": first(18), "srnn:rec=1": first(11), "gru:uc=2": first(44), "b2.5": first(51),
              "b3": first(60)}
    names = list(series)
    raw = [paired_comparison(series[a], series[b])["p_mcnemar"] for i, a in enumerate(names) for b in names[i + 1:]]
    raw += [paired_comparison(first(100), first(68))["p_mcnemar"], paired_comparison(first(58), first(37))["p_mcnemar"]]
    adjusted = holm(np.array(raw))
    p = paired_comparison(first(60), first(11))["p_mcnemar"]
    summary = next(line for line in text.splitlines() if line.startswith("| 1.000 | 200 |"))
    cells = summary.split(" | ")
    assert cells[6] == "lstm:uc=0 b_f=3 vs srnn:rec=1" and cells[7].startswith("+0.49")
    assert cells[8] == base.fmt_p(p) and cells[9].rstrip(" |") == base.fmt_p(adjusted[raw.index(p)])
    assert adjusted[raw.index(p)] >= p and "all 12 pairwise McNemar tests" in text
    q, q_p = base.cochran_q(np.column_stack([series[n] for n in names]).astype(float))
    assert cells[3] == f"{q:.1f}" and cells[4] == base.fmt_p(q_p)


def test_matched_groups_are_at_most_the_width_apart():
    lam = [0.875, 0.875, 0.9, 0.9, 0.9, 0.95, 0.9625, 1.0, 1.0, 1.025, 1.1, 1.1, 1.125, 1.15, 1.25, 1.25, 1.5]
    settings = pd.DataFrame({"lambda0": lam, "label": [f"s{i}" for i in range(len(lam))]})
    groups = tables.matched_groups(settings)
    assert [sorted(settings.loc[g, "lambda0"]) for g in groups][:2] == [[0.875, 0.875, 0.9, 0.9, 0.9], [0.95, 0.9625]]
    assert all(np.ptp(settings.loc[g, "lambda0"]) <= 0.03 + 1e-9 for g in groups)
    assert [1.1, 1.1, 1.125] == sorted(settings.loc[groups[3], "lambda0"])[:3]  # 1.15 is 0.05 from 1.1: not in


def test_paired_rows_apply_holm():
    rng = np.random.default_rng(0)
    tests = [(f"t{i}", pd.Series(rng.random(N) < 0.3 + 0.1 * i), pd.Series(rng.random(N) < 0.3)) for i in range(4)]
    lines = base.paired_rows(tests)
    raw = np.array([paired_comparison(a, b)["p_mcnemar"] for _, a, b in tests])
    adjusted = holm(raw)
    assert np.all(adjusted >= raw)
    for line, p, q in zip(lines[2:6], raw, adjusted):
        assert line.split(" | ")[-2:] == [base.fmt_p(p), base.fmt_p(q) + " |"]
    assert "Holm over the 4 McNemar tests" in lines[-1]


def test_auc_only_with_ten_successes_and_failures():
    x = pd.Series(np.linspace(0, 1, 40))
    assert base.auc_cell(x, pd.Series(np.arange(40) >= 31)) == "—"  # 9 successes
    text = base.auc_cell(x, pd.Series(np.arange(40) >= 30))  # 10 successes, perfectly separated
    p = stats.mannwhitneyu(x[30:], x[:30], method="exact").pvalue
    assert text == f"1.00 (p = {base.fmt_p(p)})"
    auc, p2, note = base.auc_p(np.r_[np.ones(8), np.zeros(4)], np.r_[np.ones(2), np.zeros(10)])
    assert note == "Fisher" and auc == pytest.approx((8 * 10 + 0.5 * (8 * 2 + 4 * 10)) / 144)
    assert p2 == pytest.approx(stats.fisher_exact([[8, 4], [2, 10]]).pvalue)


def test_e1_and_the_two_factor_table(tmp_path):
    lam = np.linspace(0.45, 0.95, N)
    ok_lstm = lam > 0.8  # 30 successes, all above the median
    proto = (np.arange(N) % 2).astype(float)
    ok_srnn = (proto == 1) & (np.arange(N) < 60)  # only aligned starts succeed
    ok_gru = first(9)
    r = rows("srnn", 20, ok_srnn, 1.0, proto=proto) + rows("lstm", 20, ok_lstm, lam, proto=proto)
    r += rows("gru", 20, ok_gru, lam, proto=proto)
    write(tmp_path / "v2", "e4-keras2", r)
    text = tables.e1(tmp_path)
    srnn = next(line for line in text.splitlines() if line.startswith("| keras2 | srnn | 20 |"))
    assert "30/100 [" in srnn and srnn.split(" | ")[6] == "0.50 (constant)"
    assert srnn.split(" | ")[7].startswith("0.86 (p = ")  # (50 + 20 / 2) / 70, Fisher
    gru = next(line for line in text.splitlines() if line.startswith("| keras2 | gru | 20 |"))
    assert gru.split(" | ")[6:] == ["—", "— |"]
    assert "runs/v2/e4-torch missing" in text
    two = tables.e1_twofactor(tmp_path)
    srnn = next(line for line in two.splitlines() if line.startswith("| keras2 | srnn | 20 |")).split(" | ")
    assert srnn[3:8] == ["30/50", "—", "0/50", "—", "—"] and srnn[9] == "100"
    assert srnn[10] == "λ0 constant" and "separation" in srnn[11]
    lstm = next(line for line in two.splitlines() if line.startswith("| keras2 | lstm | 20 |")).split(" | ")
    assert lstm[3:7] == ["15/25", "0/25", "15/25", "0/25"] and "LR p = " in lstm[10]


def test_logit_fit_solves_the_score_equations():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.5 + 1.5 * x[:, 0])))).astype(float)
    fit = base._logit_fit(x, y)
    design = np.column_stack([np.ones(400), x])
    p = 1 / (1 + np.exp(-design @ fit["coef"]))
    assert np.allclose(design.T @ (y - p), 0, atol=1e-6) and not fit["separated"]
    terms = base.logit_terms({"a": x[:, 0], "b": x[:, 1]}, y)
    assert terms["a"][1] < 1e-6 < terms["b"][1]


def test_e4_marks_identical_keras3_simplernns_and_tests_torch_cells(tmp_path):
    for flavor in ("keras2", "keras3", "torch"):
        r = []
        for t, k in ((20, 69), (50, 57)):
            r += rows("srnn", t, first(k if flavor != "torch" else 14), flavor=flavor)
            r += rows("lstm", t, first({"keras2": 40, "keras3": 48, "torch": 11}[flavor]), flavor=flavor)
            r += rows("gru", t, first({"keras2": 12, "keras3": 13, "torch": 25}[flavor]), flavor=flavor)
        write(tmp_path / "v2", f"e4-{flavor}", r)
    text = paired.e4(tmp_path)
    assert "| srnn, T=20: keras2 vs keras3 | identical to keras2 (same cell, same init): 69/100 |" in text
    assert "The keras3 srnn models are the Keras 2 ones" in text
    assert "Holm over the 10 McNemar tests" in text  # 12 framework tests less the two identical ones
    torch = next(line for line in text.splitlines() if line.startswith("| torch, T=20: GRU vs LSTM |"))
    assert torch.split(" | ")[1:3] == ["25/100", "11/100"]
    assert "Holm over the 18 McNemar tests" in text


def test_e5_lr_effect_and_janet_chrono(tmp_path):
    r = []
    for lr, lstm, cifg in ((0.001, 48, 46), (0.1, 13, 71)):
        r += rows("lstm", 20, first(lstm), lr=lr) + rows("cifg", 20, first(cifg), lr=lr)
        r += rows("janet", 20, first(32), lr=lr)
    write(tmp_path / "v2", "e5-latch", r)
    write(tmp_path / "v3", "janet-chrono", rows("janet:chrono=200", 20, first(80), lr=0.001)
          + rows("janet:chrono=200", 20, first(90), lr=0.1))
    text = paired.e5(tmp_path)
    assert "| lstm | 0.1 | 13/100 |" in text and "| cifg | 0.1 | 71/100 |" in text
    assert "| T=20: cifg vs lstm | 71/100 | 13/100 |" in text
    assert "| lr 0.1, T=20: janet:chrono=200 vs lstm | 90/100 | 13/100 |" in text
    assert "worse: lstm (T = 20)" in text and "cifg (T = 20)" in text.split("better at lr 0.1:")[1]
    assert "runs/v2/e5-bit-relay missing" in text


def test_e3_sgd_against_adam(tmp_path):
    write(tmp_path / "v2", "e3-sgd", rows("lstm", 20, first(14), lr=0.01) + rows("lstm", 20, first(1), lr=1.0))
    write(tmp_path / "v2", "e4-keras2", rows("lstm", 20, first(42)) + rows("srnn", 20, first(68)))
    text = paired.e3_sgd(tmp_path)
    assert "| lstm | 0.01 | 14/100 [0.09, 0.22] |" in text and "| lstm | 1 | 1/100 [0.00, 0.05] |" in text
    assert "| lstm, T=20: SGD lr 0.01 vs Adam lr 1e-3 | 14/100 | 42/100 | 0 / 28 |" in text
    assert "Holm over the 2 McNemar tests" in text


def test_datasets_e6_and_compute(tmp_path):
    folder = tmp_path / "v2" / "dataset-variance"
    folder.mkdir(parents=True)
    pd.DataFrame([["bit", "gru", 20, d, k, 12] for d, k in enumerate((11, 2, 7, 0, 2, 0))],
                 columns=["setting", "cell", "length", "data_seed", "successes", "n"]).to_csv(
        folder / "dataset_variance.csv", index=False)
    text = tables.datasets(tmp_path)
    assert "| bit | gru | 20 | 11, 2, 7, 0, 2, 0 (of 12) |" in text and "holds counts only" in text
    seeds = [["bit", "gru", 20, d, s, int(s < k)] for d, k in enumerate((11, 2, 7, 0, 2, 0)) for s in range(12)]
    pd.DataFrame(seeds, columns=["setting", "cell", "length", "data_seed", "seed", "success"]).to_csv(
        folder / "dataset_variance_seeds.csv", index=False)
    x = np.array([[int(s < k) for k in (11, 2, 7, 0, 2, 0)] for s in range(12)], float)
    assert f"| {base.cochran_q(x)[0]:.1f} | {base.fmt_p(base.cochran_q(x)[1])} |" in tables.datasets(tmp_path)
    acc = np.r_[np.full(9, 1.0), 0.5]
    run = write(tmp_path / "v2" / "e6", "base", rows("gru", 20, first(9, 10), val_acc=acc))
    assert "| gru | 9/10 [0.60, 0.98]; 0.95 ± 0.16 |" in tables.e6(tmp_path)
    (run / "meta.json").write_text(json.dumps({"start": "2026-01-01T00:00:00", "end": "2026-01-01T00:01:40",
                                               "compile_s": 20.0, "run_s": 70.0}))
    # no config.json: the models are counted from the rows
    assert "| `v2/e6/base` | 10 | 20 | 70 | 100 |" in base.compute(tmp_path)


def test_every_block_notes_its_missing_runs(tmp_path):
    (tmp_path / "v2").mkdir()
    blocks = tables.blocks(tmp_path)
    assert {"v3-e1", "v3-e1-twofactor", "v3-e1-perseed", "v3-e1-twofactor-perseed", "v3-e2", "v3-matched", "v3-e3", "v3-e3-heads", "v3-e3-sgd", "v3-e4",
            "v3-e4-perseed",
            "v3-e5", "v3-e5-gates", "v3-e7", "v3-datasets", "v3-e6", "v3-compute"} == set(blocks)
    for key, block in blocks.items():
        assert block.endswith("\n") and "missing: `" in block, key
        assert not any(line.startswith("|") for line in block.splitlines()), key


@pytest.mark.integration
def test_tiny_real_runs(tmp_path, capsys):
    from latchjax.cli import run

    tiny = ["--cells", "srnn", "--lengths", "5", "--seeds", "4", "--epochs", "1", "--samples", "160", "--quiet"]
    for name in ("e3-aligned", "e3-reversed"):
        out = tmp_path / "v2" / name
        assert run(["sweep", "--preset", f"findings/v2/{name}", *tiny, "--out", str(out)]) == 0
    capsys.readouterr()
    text = paired.e3(tmp_path)
    assert text.count(": aligned vs reversed |") == 1  # trained once although the preset has two forget biases
    assert "| srnn, T=5: aligned vs reversed | " in text and "Holm over the 1 McNemar tests" in text
    assert "| `v2/e3-aligned` | 4 |" in base.compute(tmp_path)
