"""FINDINGS v3's control tables (experiments/findings/v3/controls.py) on synthetic run folders with known answers:
agreement across minibatch orders and its expectation under independence, Holm's correction, the head-only
pairing check, the bit-relay metric and verdict, width's AUC rule, Bengio's dilemma table and the notes of missing
runs. One tiny end-to-end check (marked integration) pairs a real head-only run with its full-training twin."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HERE = Path(__file__).resolve().parents[1] / "experiments" / "findings" / "v3"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


controls = load("controls")
common = sys.modules["controls_common"]


def write(run: Path, rows: list[dict], file: str = "explain.csv") -> None:
    run.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    for key, value in (("lr", 0.001), ("forget_bias", 1.0), ("flavor", "keras2"), ("units", 1)):
        if key not in frame:
            frame[key] = value
    frame.to_csv(run / file, index=False)


def models(cell: str, length: int, successes, **extra) -> list[dict]:
    return [{"cell": cell, "length": length, "seed": i, "success": int(ok),
             **{k: (v[i] if isinstance(v, list | np.ndarray) else v) for k, v in extra.items()}}
            for i, ok in enumerate(successes)]


def table_rows(block: str, start: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in block.splitlines() if line.startswith(start)]


def test_agreement_expectation_kappa_and_exact_test():
    ok = np.array([[1, 1, 1]] * 4 + [[0, 0, 0]] * 4 + [[1, 1, 0], [1, 0, 0]], bool)
    a = controls.agreement(ok)
    assert a["agree"] == 8 and a["n"] == 10
    assert a["expected"] == pytest.approx(0.5**3 + 0.5**3)  # pooled p = 15/30
    assert a["kappa"] == pytest.approx((0.8 + 0.2 / 3 - 0.5) / 0.5)  # Fleiss: P = (8 + 2/3)/10, Pe = 0.5
    tail = sum(math.comb(10, k) * 0.25**k * 0.75 ** (10 - k) for k in range(8, 11))
    assert a["p"] == pytest.approx(tail)
    constant = controls.agreement(np.ones((5, 3), bool))
    assert constant["expected"] == 1 and np.isnan(constant["p"]) and np.isnan(constant["kappa"])


def test_shuffle_block_counts_and_holm(tmp_path):
    n = 40
    rng = np.random.default_rng(0)
    decided = rng.random(n) < 0.5  # the gru's outcome is the seed's; the srnn's is a fresh draw per order
    for name in ("v2/e4-keras2", "v3/shuffle-1000", "v3/shuffle-2000"):
        rows = models("gru", 20, decided) + models("srnn", 20, rng.random(n) < 0.5)
        write(tmp_path / name, rows, "results.csv")
    block = controls.shuffle(tmp_path)
    rows = {r[0]: r for r in table_rows(block, "| gru") + table_rows(block, "| srnn")}
    assert set(rows) == {"gru", "srnn"}
    assert rows["gru"][5].startswith(f"{n}/{n}")  # all three agree on every seed
    raw = [float(rows[c][8]) for c in ("gru", "srnn")]
    holm = sorted(raw)
    expected = [min(1, 2 * holm[0]), max(min(1, 2 * holm[0]), holm[1])]
    got = sorted(float(rows[c][9]) for c in ("gru", "srnn"))
    assert got == pytest.approx(expected, rel=0.05)  # two tests: Holm doubles the smaller p
    assert float(rows["gru"][8]) < 1e-6 and "Holm" in block


def e2_like(cells, lam, lengths=(50,), fbs=(1.0, 3.0), ok=lambda cell, fb, t: [1] * 10) -> list[dict]:
    rows = []
    for cell in cells:
        for fb in fbs:
            for t in lengths:
                rows += [r | {"forget_bias": fb} for r in models(cell, t, ok(cell, fb, t), lambda0=lam[cell] + 0 * fb)]
    return rows


def test_head_only_pairs_by_lambda0_and_flags_a_mismatch(tmp_path):
    lam = {"srnn:rec=1.5": 1.5, "lstm": 0.6}
    full = e2_like(lam, lam, ok=lambda cell, fb, t: [1] * 10)
    head = e2_like(lam, lam, ok=lambda cell, fb, t: [1] * 10 if cell == "srnn:rec=1.5" else [0] * 10)
    write(tmp_path / "v2/e2-lambda", full)
    write(tmp_path / "v3/head-only", head)
    block = controls.head_only(tmp_path)
    assert "Pairing check: λ0 agrees for all 30 models" in block  # srnn once (no forget gate), lstm at b_f 1 and 3
    rows = table_rows(block, "| lstm") + table_rows(block, "| srnn")
    assert [(r[0], r[1]) for r in rows] == [("lstm", "1"), ("lstm", "3"), ("srnn:rec=1.5", "—")]
    assert block.index("| lstm |") < block.index("| srnn:rec=1.5 |")  # sorted by λ0
    lstm = [r for r in rows if r[0] == "lstm"]
    assert all(r[4].startswith("10/10") and r[5].startswith("0/10") for r in lstm)
    assert all(r[7] == common.fmt_p(2 / 2**10) and r[8] == common.fmt_p(3 * 2 / 2**10) for r in lstm)  # Holm, m = 3
    assert "head-only training solves 10/10" in block and "untrained latch read out" in block
    head[3]["lambda0"] = 1.2
    write(tmp_path / "v3/head-only", head)
    assert "**Pairing check failed:** λ0 differs between head-only and e2-lambda for 1 of 30" in controls.head_only(
        tmp_path)


def test_missing_runs_give_one_line_notes(tmp_path):
    blocks = controls.blocks(tmp_path, None)
    assert set(blocks) == {"v3-head-only", "v3-e2-sigmoid", "v3-shuffle", "v3-bit-relay-8", "v3-width", "v3-dilemma",
                           "v3-brc"}
    for name, block in blocks.items():
        assert block.endswith(")*\n") and block.count("\n") == 1, name
        assert block.startswith("*(run ") and "latchjax" in block or "bash" in block, name
    assert "--shuffle-seed 2000" in blocks["v3-shuffle"]


def relay_rows(cell: str, length: int, ok, acc) -> list[dict]:
    return [r | {"val_acc": a} for r, a in zip(models(cell, length, ok), acc)]


@pytest.mark.parametrize("gru_wins", [True, False])
def test_bit_relay_mean_sd_paired_tests_and_verdict(tmp_path, gru_wins):
    n = 30
    good, bad = [1] * n, [0] * n
    rows = (relay_rows("gru", 20, good if gru_wins else bad, [1.0 if gru_wins else 0.5] * n)
            + relay_rows("srnn", 20, bad if gru_wins else good, [0.5, 0.75, 1.0] * 10)
            + relay_rows("lstm", 20, bad, [0.5] * n))
    write(tmp_path / "v3/bit-relay-8", rows, "results.csv")
    history = [{"cell": r["cell"], "length": 20, "seed": r["seed"], "epoch": e, "val_acc": r["val_acc"] if e == 2
                else 0.5} for r in rows for e in (1, 2)]
    pd.DataFrame(history).to_csv(tmp_path / "v3/bit-relay-8/history.csv", index=False)
    block = controls.blocks(tmp_path)["v3-bit-relay-8"]
    srnn = table_rows(block, "| srnn | 20")[0]
    assert srnn[3] == "0.750 ± 0.208"  # mean ± SD (ddof 1) of 10 x (0.5, 0.75, 1.0)
    assert "asker's setting (`runs/v2/e6/base`) is not there yet" in block
    gru_vs = table_rows(block, "| T = 20: GRU vs")
    assert [r[0] for r in gru_vs] == ["T = 20: GRU vs SimpleRNN", "T = 20: GRU vs LSTM"]
    p = 2 * 2.0**-30  # McNemar exact, 30 discordant pairs all one way
    assert gru_vs[0][4] == common.fmt_p(p) and gru_vs[0][5] == common.fmt_p(2 * p)  # Holm over two tests
    assert gru_vs[1][4] == (common.fmt_p(p) if gru_wins else "1")
    epochs = table_rows(block, "| gru | 20 |")[-1]
    assert epochs[2:] == ["0/30", f"{n if gru_wins else 0}/30"]
    assert ("Verdict: reproduced at T = 20" in block) == gru_wins
    assert ("Verdict: not reproduced" in block) == (not gru_wins)


def test_width_auc_only_with_ten_of_each_and_the_orthogonal_line(tmp_path):
    lam = np.linspace(0.8, 1.2, 30)
    wide = (models("lstm", 20, lam > 1.0, lambda0=lam)  # 15 / 15: AUC 1
            + models("lstm", 100, lam > 1.15, lambda0=lam)  # 3 successes: no AUC
            + models("srnn", 20, [1] * 30, lambda0=1.0))
    write(tmp_path / "v2/e7-wide", [r | {"units": 10} for r in wide])
    block = controls.blocks(tmp_path)["v3-width"]
    first = table_rows(block, "| 10 | lstm | 1 | 20")[0]
    assert first[6] == "1.00" and float(first[7]) < 1e-6
    assert table_rows(block, "| 10 | lstm | 1 | 100")[0][6] == "—" and "No setting has" not in block
    assert "10-unit SimpleRNN at Keras's initialisation: λ0 median 1.0000" in block and "unit circle" in block
    assert "*(run v3/width missing" in block


def test_dilemma_marks_the_best_setting_and_tests_above_one_against_one(tmp_path):
    rec = {"srnn": 1.0, "srnn:rec=0.9": 0.9, "srnn:rec=1": 1.0, "srnn:rec=1.1": 1.1, "srnn:rec=1.5": 1.5}
    wins = {20: "srnn:rec=1", 200: "srnn:rec=1.5"}
    rows = e2_like(rec, rec, lengths=(20, 200), fbs=(1.0,),
                   ok=lambda cell, fb, t: [1] * 10 if cell == wins[t] else [0] * 10)
    write(tmp_path / "v2/e2-lambda", rows)
    block = controls.dilemma(tmp_path)
    rec1 = table_rows(block, "| SimpleRNN | srnn:rec=1 |")[0]
    assert rec1[3].startswith("**10/10") and not rec1[4].startswith("**")
    assert table_rows(block, "| SimpleRNN | srnn:rec=1.5 |")[0][4].startswith("**10/10")
    tests = table_rows(block, "| T = ")
    assert len(tests) == 4  # (rec=1.5, rec=1.1) vs rec=1 at two lengths; no LSTM rows here
    assert "--dynamics" in block  # no attractor columns in this explain.csv


def test_brc_line_names_the_mechanism_and_the_counts(tmp_path):
    rows = []
    for lr in (0.001, 0.1):
        for cell, k in (("gru", 5), ("brc", 1), ("nbrc", 0)):
            rows += [r | {"lr": lr} for r in models(cell, 20, [1] * k + [0] * (10 - k))]
    write(tmp_path / "v2/e5-bit-relay", rows, "results.csv")
    line = controls.brc(tmp_path)
    assert line.count("\n") == 1 and "a = 1 + tanh" in line and "not tested by intervention" in line
    assert "lr 0.001: GRU 5, BRC 1, nBRC 0; lr 0.1: GRU 5, BRC 1, nBRC 0" in line


@pytest.mark.integration
def test_a_real_head_only_run_pairs_with_its_full_training_twin(tmp_path):
    from latchjax.cli import run

    tiny = ["--cells", "srnn,lstm", "--forget-bias", "1,3", "--lengths", "5", "--seeds", "3", "--epochs", "1",
            "--samples", "96", "--quiet"]
    for preset, name in (("findings/v2/e2-lambda", "v2/e2-lambda"), ("findings/v3/head-only", "v3/head-only")):
        assert run(["sweep", "--preset", preset, *tiny, "--out", str(tmp_path / name)]) == 0
        assert run(["explain", str(tmp_path / name)]) == 0
    block = controls.head_only(tmp_path)
    assert "Pairing check: λ0 agrees for all 9 models" in block
    assert len(table_rows(block, "| lstm")) == 2 and len(table_rows(block, "| srnn")) == 1
