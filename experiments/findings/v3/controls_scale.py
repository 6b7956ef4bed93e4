"""FINDINGS v3 blocks ``v3-bit-relay-8``, ``v3-width`` and ``v3-dilemma`` (see controls.py, which merges them):
bit relay at 8 units with the answer's hyperparameters, λ0 at 10 and 100 units, and Bengio's dilemma in E2's rows."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # the sibling modules below
    sys.path.insert(0, HERE)
from controls_common import (  # noqa: E402
    DASH,
    auc,
    count,
    fmt_num,
    fmt_p,
    frac,
    missing,
    paired_head,
    paired_rows,
    paired_seeds,
    paired_table,
    pick,
    read_run,
    threshold,
    uses_forget_bias,
)

from latchjax.core.stats import holm  # noqa: E402

NAMES = {"srnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def mean_sd(values: pd.Series) -> str:
    values = values.dropna()
    if len(values) < 2:
        return DASH
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def wilcoxon_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of paired values (NaN when every difference is 0)."""
    diff = np.asarray(a, float) - np.asarray(b, float)
    diff = diff[np.isfinite(diff)]
    if not np.any(diff != 0):
        return float("nan")
    return float(stats.wilcoxon(diff).pvalue)


def epochs_table(history: pd.DataFrame, cells: list[str], lengths: list[int], cut: float) -> list[str]:
    """The share of seeds at or above the success threshold after each epoch, per cell, for ``lengths``."""
    if "forget_bias" in history:  # a cell without a forget gate is repeated once per forget bias
        gated = history["cell"].map(uses_forget_bias)
        plain = history[~gated].sort_values("forget_bias", kind="stable")
        history = pd.concat([history[gated], plain.drop_duplicates(["cell", "length", "lr", "seed", "epoch"])])
    epochs = sorted(history["epoch"].unique())
    lines = [f"Success against epochs (seeds with val_acc ≥ {cut:g} after each epoch):", "",
             "| cell | T | " + " | ".join(f"ep {int(e)}" for e in epochs) + " |",
             "|---|---|" + "---|" * len(epochs)]
    for length in lengths:
        for cell in cells:
            g = pick(history, cell=cell, length=length)
            if g.empty:
                continue
            n = g["seed"].nunique()
            ks = [int((g.loc[g["epoch"] == e, "val_acc"] >= cut).sum()) for e in epochs]
            lines.append(f"| {cell} | {int(length)} | " + " | ".join(f"{k}/{n}" for k in ks) + " |")
    return lines


def bit_relay_8(runs: Path) -> str:
    note = missing(runs, {"v3/bit-relay-8": "results.csv"})
    if note:
        return note
    run = runs / "v3" / "bit-relay-8"
    frame = read_run(run, "results.csv")
    asker = read_run(runs / "v2" / "e6" / "base", "results.csv") if (runs / "v2/e6/base/results.csv").is_file() \
        else None
    lengths = sorted(frame["length"].unique())
    cells = [c for c in ("srnn", "lstm", "gru") if c in set(frame["cell"])]
    n = frame["seed"].nunique()
    head = "| cell | T | success | val acc, mean ± SD |"
    if asker is not None:
        head += f" asker's setting ({asker['seed'].nunique()} seeds): success | val acc, mean ± SD |"
    lines = [f"*Bit relay, 8 units, the answer's lr 0.1 and batch 32 (Keras 2, 10 epochs, {n} seeds; "
             "`runs/v3/bit-relay-8`) with the asker's metric (mean ± SD of the final validation accuracy, where a "
             "0.75 partial solution counts)" + (", beside the asker's own setting (lr 1e-3, batch 16: "
             "`runs/v2/e6/base`)" if asker is not None else "; the asker's setting (`runs/v2/e6/base`) is not "
             "there yet") + ".*", "", head, "|" + "---|" * head.count(" | ") + "---|"]
    for cell in cells:
        for length in lengths:
            g = pick(frame, cell=cell, length=length)
            row = f"| {cell} | {int(length)} | {count(g['success'])} | {mean_sd(g['val_acc'])} |"
            if asker is not None:
                a = pick(asker, cell=cell, length=length)
                row += f" {count(a['success']) if len(a) else DASH} | {mean_sd(a['val_acc'])} |"
            lines.append(row)
    tests, wilcox = [], []
    for length in lengths:
        gru = pick(frame, cell="gru", length=length)
        for other in ("srnn", "lstm"):
            o = pick(frame, cell=other, length=length)
            if gru.empty or o.empty:
                continue
            both = gru.merge(o, on="seed", suffixes=("_a", "_b"))
            tests.append(([f"T = {int(length)}: GRU vs {NAMES[other]}"], both["success_a"].to_numpy(bool),
                          both["success_b"].to_numpy(bool)))
            wilcox.append(wilcoxon_p(both["val_acc_a"], both["val_acc_b"]))
    rows, results = paired_table(tests)
    w_holm = holm(np.array(wilcox))
    lines += ["", "Paired (same seeds and data): McNemar exact on success with Holm over the table; Wilcoxon "
                  "signed-rank on the final val acc (the asker's metric), Holm over its own column.", "",
              "| comparison | " + paired_head("GRU", "other") + " Wilcoxon p, val acc (Holm) |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [row + f" {fmt_p(w)} |" for row, w in zip(rows, w_holm)]
    history = run / "history.csv"
    if history.is_file():
        lines += ["", *epochs_table(pd.read_csv(history), cells, [t for t in (20, 50) if t in lengths], threshold(run))]
    beats = {"SimpleRNN": [], "LSTM": []}
    for (labels, _, _), r in zip(tests, results):
        if r["successes_a"] > r["successes_b"] and r["p_holm"] < 0.05:
            beats[labels[0].rsplit(" vs ", 1)[1]].append(labels[0].split(":")[0].removeprefix("T = "))
    if beats["SimpleRNN"]:
        verdict = (f"**Verdict: reproduced at T = {', '.join(beats['SimpleRNN'])}**: there the GRU(8) beats the "
                   "SimpleRNN(8) by the paired test after Holm (lr 0.1, batch 32)"
                   + (f"; it beats the LSTM(8) at T = {', '.join(beats['LSTM'])}." if beats["LSTM"] else
                      "; it does not beat the LSTM(8) at any length."))
    else:
        verdict = ("**Verdict: not reproduced** at 8 units, lr 0.1, batch 32: at no length does the GRU(8) beat the "
                   "SimpleRNN(8) by the paired test after Holm.")
    lines += ["", verdict]
    return "\n".join(lines) + "\n"


WIDTH = {"v2/e7-wide": "10", "v3/width": "100"}


def width(runs: Path) -> str:
    note = missing(runs, dict.fromkeys(WIDTH, "explain.csv"))
    present = [name for name in WIDTH if (runs / name / "explain.csv").is_file()]
    if not present:
        return note
    lines = ["*Width (review §5.7): success per cell, b_f and T; λ0 (the spectral radius of the rest-state Jacobian "
             "at initialisation) and its AUC for success (only with ≥ 10 successes and ≥ 10 failures; exact "
             "Mann–Whitney p, ≈: normal approximation). 10 units: `runs/v2/e7-wide` (N = 10,000); 100 units: `runs/v3/width` "
             "(N = 2,000).*", "", "| units | cell | b_f | T | success | λ0 (median [range]) | AUC of λ0 | Mann–Whitney p |",
             "|---|---|---|---|---|---|---|---|"]
    orthogonal = []
    for name in present:
        frame = read_run(runs / name)
        for cell in dict.fromkeys(frame["cell"]):
            for fb in sorted(frame.loc[frame["cell"] == cell, "forget_bias"].unique()):
                for length in sorted(frame["length"].unique()):
                    g = pick(frame, cell=cell, forget_bias=fb, length=length)
                    if g.empty:
                        continue
                    value, p = auc(g["lambda0"], g["success"])
                    bf = f"{fb:g}" if uses_forget_bias(cell) else DASH
                    units = int(g["units"].iloc[0]) if "units" in g else WIDTH[name]
                    lam = g["lambda0"]
                    lines.append(f"| {units} | {cell.split(':')[0]} | {bf} | {int(length)} | {count(g['success'])} | "
                                 f"{fmt_num(lam.median())} [{fmt_num(lam.min())}, {fmt_num(lam.max())}] | {value} | "
                                 f"{p} |")
            if cell.split(":")[0] == "srnn":
                g = frame[frame["cell"] == cell]
                orthogonal.append((int(g["units"].iloc[0]) if "units" in g else WIDTH[name], g["lambda0"]))
    if not any(row.split(" | ")[-2] != DASH for row in lines if row.startswith("| ") and row[2].isdigit()):
        lines += ["", "No setting has ≥ 10 successes and ≥ 10 failures, so no AUC: within a setting the outcome is "
                      "(nearly) all or none, and λ0 separates the settings (b_f), not the seeds."]
    for units, lam in orthogonal:
        on_circle = abs(lam.median() - 1) < 1e-3 and np.ptp(lam) < 1e-3
        lines += ["", f"{units}-unit SimpleRNN at Keras's initialisation: λ0 median {lam.median():.4f} "
                      f"(range {lam.min():.4f}–{lam.max():.4f}, {len(lam)} models): "
                      + ("the orthogonal recurrent matrix has every eigenvalue on the unit circle, so λ0 = 1 for "
                         "every seed (no spread for λ0 to predict with)." if on_circle else
                         "not all on the unit circle.")]
    if note:
        lines += ["", note.rstrip("\n")]
    return "\n".join(lines) + "\n"


SRNN = ["srnn", "srnn:rec=0.9", "srnn:rec=1", "srnn:rec=1.1", "srnn:rec=1.5"]
PAIRS = [(("srnn:rec=1.5", 1.0), ("srnn:rec=1", 1.0)), (("srnn:rec=1.1", 1.0), ("srnn:rec=1", 1.0)),
         (("lstm:uc=1", 3.0), ("lstm:uc=0", 3.0)), (("lstm:uc=1", 2.5), ("lstm:uc=0", 2.5))]


def setting(cell: str, fb: float) -> str:
    return f"{cell}, b_f = {fb:g}" if uses_forget_bias(cell) else cell


def dilemma(runs: Path) -> str:
    note = missing(runs, {"v2/e2-lambda": "explain.csv"})
    if note:
        return note
    frame = read_run(runs / "v2" / "e2-lambda")
    lengths = [int(t) for t in sorted(frame["length"].unique())]
    families = {"SimpleRNN": [(c, 1.0) for c in SRNN],
                "LSTM, b_f = 3 (f frozen at 1)": [(c, 3.0) for c in dict.fromkeys(frame["cell"])
                                                  if c.startswith("lstm:uc=")]}
    lines = ["*Bengio's dilemma (review §5.6), E2's rows: success against λ0 at each length; **bold**: the best "
             "setting of its family at that length. A latch that holds its bit robustly contracts at its "
             "attractors, so the gradient through it vanishes.*", "",
             "| family | setting | λ0 (median) | " + " | ".join(f"T = {t}" for t in lengths) + " |",
             "|---|---|---|" + "---|" * len(lengths)]
    peaks = []
    for family, settings in families.items():
        table = []
        for cell, fb in settings:
            g = pick(frame, cell=cell, forget_bias=fb)
            if g.empty:
                continue
            oks = [pick(g, length=t)["success"] for t in lengths]
            table.append((g["lambda0"].median(), setting(cell, fb), oks))
        table.sort(key=lambda r: r[0])
        best = [max((int(r[2][i].sum()) for r in table), default=0) for i in range(len(lengths))]
        for lam, name, oks in table:
            cells = [f"**{count(ok)}**" if int(ok.sum()) == best[i] else count(ok) for i, ok in enumerate(oks)]
            lines.append(f"| {family} | {name} | {lam:.3f} | " + " | ".join(cells) + " |")
        if table:
            peaks.append(f"{family.split(',')[0]}: " + ", ".join(
                f"T = {t}: " + " / ".join(sorted({f'{r[0]:.2f}' for r in table if int(r[2][i].sum()) == best[i]}))
                for i, t in enumerate(lengths)))
    lines += ["", "The best λ0 at each length (median λ0 of the best setting): " + "; ".join(peaks) + "."]
    tests = []
    for (a, b) in PAIRS:
        for t in lengths:
            ga, gb = pick(frame, cell=a[0], forget_bias=a[1], length=t), pick(frame, cell=b[0], forget_bias=b[1],
                                                                               length=t)
            if len(ga) and len(gb):
                tests.append(([f"T = {t}: {setting(*a)} (λ0 {ga['lambda0'].median():.2f}) vs {setting(*b)} "
                               f"(λ0 {gb['lambda0'].median():.2f})"], *paired_seeds(ga, gb)))
    if tests:
        lines += ["", "Above 1 against at 1, same seeds (McNemar exact, Holm over the table):", "",
                  "| comparison | " + paired_head("above 1", "at 1"), "|---|---|---|---|---|---|---|", *paired_rows(tests)]
    else:
        lines += ["", "*(no matched settings above and at λ0 = 1 in this run: nothing to pair)*"]
    lines += ["", *slopes(frame, lengths)]
    return "\n".join(lines) + "\n"


def slopes(frame: pd.DataFrame, lengths: list[int]) -> list[str]:
    """The trained SimpleRNNs' slope at the attractor they rest on (λ_final), successes against failures."""
    if "n_stable_final" not in frame:
        return ["*(the trained models' attractors need `latchjax explain runs/v2/e2-lambda --dynamics`)*"]
    srnn = frame[frame["cell"].isin(SRNN)]
    lines = ["The dilemma in one number: the trained SimpleRNNs' slope at the rest state they settle to "
             "(λ_final; < 1 at a stable attractor), the five SimpleRNN settings pooled. AUC: λ_final for success "
             "(Mann–Whitney p, ≈: normal approximation; ≥ 10 of each only).", "",
             "| T | successes | bistable successes | λ_final, successes (median [IQR]) | saddle's eigenvalue (modulus), "
             "bistable successes (median) | failures | λ_final, failures (median [IQR]) | AUC of λ_final | p |",
             "|---|---|---|---|---|---|---|---|---|"]

    def quartiles(v: pd.Series) -> str:
        v = v.dropna()
        if v.empty:
            return DASH
        return f"{v.median():.3f} [{v.quantile(0.25):.3f}, {v.quantile(0.75):.3f}]"

    for t in lengths:
        g = pick(srnn, length=t)
        ok, bad = g[g["success"]], g[~g["success"]]
        bistable = ok[ok["n_stable_final"] == 2]
        value, p = auc(g["lambda_final"], g["success"])
        lines.append(f"| {t} | {frac(len(ok), len(g))} | {frac(len(bistable), len(ok))} | "
                     f"{quartiles(ok['lambda_final'])} | {fmt_num(bistable['saddle_final'].median(), 2)} | {len(bad)} | "
                     f"{quartiles(bad['lambda_final'])} | {value} | {p} |")
    return lines
