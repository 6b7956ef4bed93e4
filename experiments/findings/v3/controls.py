"""FINDINGS v3, experiments 4-7: the controls (head-only training, sigmoid gates, the minibatch order), bit relay
at 8 units, width, Bengio's dilemma and the BRC's missing sign-inverting path, read from the runs.

    python experiments/findings/v3/controls.py runs [figures]      # prints every block

``blocks(runs, figures)`` returns ``{marker name: markdown}`` for the markers ``v3-head-only``, ``v3-e2-sigmoid``,
``v3-shuffle``, ``v3-brc`` (this file) and ``v3-bit-relay-8``, ``v3-width``, ``v3-dilemma``
(:mod:`controls_scale`). ``runs`` holds ``v2/<run>`` and ``v3/<run>``; a block whose runs are missing is a one-line
note with the command that makes them. Nothing is trained here; every number is read from the runs' files.
"""

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
    count,
    fmt_num,
    fmt_p,
    frac,
    missing,
    paired_head,
    paired_rows,
    paired_seeds,
    pick,
    read_run,
    uses_forget_bias,
)
from controls_scale import bit_relay_8, dilemma, width  # noqa: E402

from latchjax.core.stats import holm  # noqa: E402

MATCH = ["cell", "forget_bias", "seed", "length", "lr"]


def bf_text(cell: str, fb: float) -> str:
    return f"{fb:g}" if uses_forget_bias(cell) else DASH


def pairing_check(a: pd.DataFrame, b: pd.DataFrame, names: tuple[str, str]) -> tuple[str, pd.DataFrame]:
    """One line: whether λ0 agrees model by model between two runs that should share their initialisations (and
    which models of ``a`` have no partner in ``b``); and the merged frame (suffixes ``_a``, ``_b``)."""
    both = a.merge(b, on=MATCH, suffixes=("_a", "_b"))
    orphans = len(a) - len(both)
    l_a, l_b = both["lambda0_a"].to_numpy(float), both["lambda0_b"].to_numpy(float)
    bad = ~np.isclose(l_a, l_b, rtol=1e-4, atol=1e-6, equal_nan=True)
    gap = float(np.nanmax(np.abs(l_a - l_b))) if len(both) else float("nan")
    if bad.any():
        first = both[bad].iloc[0]
        line = (f"**Pairing check failed:** λ0 differs between {names[0]} and {names[1]} for {int(bad.sum())} of "
                f"{len(both)} models (first: {first['cell']}, b_f {first['forget_bias']:g}, seed {int(first['seed'])}"
                f", T = {int(first['length'])}: {first['lambda0_a']:.4g} vs {first['lambda0_b']:.4g}); the paired "
                "tests of those settings do not compare the same initialisations.")
    else:
        line = (f"Pairing check: λ0 agrees for all {len(both)} models paired by (cell, b_f, seed, T) between "
                f"{names[0]} and {names[1]} (largest |Δλ0| = {gap:.1g}): the same initialisations.")
    if orphans:
        line += f" {orphans} models of {names[0]} have no partner in {names[1]} and are left out."
    return line, both


def head_only(runs: Path) -> str:
    note = missing(runs, {"v3/head-only": "explain.csv", "v2/e2-lambda": "explain.csv"})
    if note:
        return note
    head, full = read_run(runs / "v3" / "head-only"), read_run(runs / "v2" / "e2-lambda")
    check, both = pairing_check(head, full, ("head-only", "e2-lambda"))
    settings = both.groupby(["cell", "forget_bias"])["lambda0_b"].median().sort_values(kind="stable")
    lines = ["*Head-only control (review item 28, §5.4): E2's initialisations, data and budget with only the "
             "read-out trained (`runs/v3/head-only`) beside full training (`runs/v2/e2-lambda`), seed by seed. "
             "McNemar exact, Holm over the table.*", "", check, "",
             "| cell | b_f | λ0 (median) | T | " + paired_head("full", "head-only"), "|---|---|---|---|---|---|---|---|---|---|"]
    tests, above = [], {}  # length -> [full successes, of them head-only too, head-only successes full missed]
    for (cell, fb), lam in settings.items():
        for length in sorted(both["length"].unique()):
            g = pick(both, cell=cell, forget_bias=fb, length=length)
            if g.empty:
                continue
            ok_full, ok_head = g["success_b"].to_numpy(bool), g["success_a"].to_numpy(bool)
            tests.append(([cell, bf_text(cell, fb), f"{lam:.3f}", str(int(length))], ok_full, ok_head))
            if lam > 1.0 + 1e-6:
                tally = above.setdefault(int(length), [0, 0, 0])
                tally[0] += int(ok_full.sum())
                tally[1] += int((ok_full & ok_head).sum())
                tally[2] += int((ok_head & ~ok_full).sum())
    lines += paired_rows(tests)
    total = np.sum(list(above.values()), axis=0) if above else np.zeros(3, int)
    if total[0]:
        share = total[1] / total[0]
        verdict = ("most of them need only the read-out: an untrained latch read out" if share > 0.5 else
                   "most of them need the recurrent weights trained: gradient descent builds (or repairs) the latch")
        per_t = "; ".join(f"T = {t}: {frac(v[1], v[0])}" for t, v in sorted(above.items()))
        lines += ["", f"At λ0 > 1 (settings whose median λ0 exceeds 1), head-only training solves "
                      f"{frac(int(total[1]), int(total[0]))} of the seeds that full training solves ({share:.0%}; "
                      f"{per_t}), and {int(total[2])} seeds that full training does not: {verdict}."]
    return "\n".join(lines) + "\n"


def e2_sigmoid(runs: Path) -> str:
    note = missing(runs, {"v3/e2-sigmoid": "explain.csv", "v2/e2-lambda": "explain.csv"})
    if note:
        return note
    sig, hard = read_run(runs / "v3" / "e2-sigmoid"), read_run(runs / "v2" / "e2-lambda")
    cells = list(dict.fromkeys(sig["cell"]))
    hard = hard[hard["cell"].isin(cells)]
    lines = ["*Sigmoid-gate E2 (review item 29): E2's LSTM grid with Keras 3's sigmoid gates (`runs/v3/e2-sigmoid`, "
             "f stays trainable) beside E2's Keras 2 hard_sigmoid rows of the same cell and b_f (`runs/v2/e2-lambda`, "
             "where b_f ≥ 2.5 freezes f = 1 with zero gradient; b_f = 5 was not run there). Same seeds and data; "
             "McNemar exact, Holm over the table.*", "",
             "| cell | b_f | T | λ0 sigmoid | λ0 hard_sigmoid | " + paired_head("sigmoid", "hard_sigmoid"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    tests, order = [], []
    keys = sig[["cell", "forget_bias", "length"]].drop_duplicates()
    keys = keys.assign(order=keys["cell"].map(cells.index)).sort_values(["order", "forget_bias", "length"])
    for cell, fb, length in keys[["cell", "forget_bias", "length"]].itertuples(index=False):
        a, b = pick(sig, cell=cell, forget_bias=fb, length=length), pick(hard, cell=cell, forget_bias=fb, length=length)
        labels = [cell, f"{fb:g}", str(int(length)), fmt_num(a["lambda0"].median()),
                  fmt_num(b["lambda0"].median()) if len(b) else DASH]
        if len(b):
            order.append(len(tests))
            tests.append((labels, *paired_seeds(a, b)))
        else:
            order.append("| " + " | ".join(labels) + f" | {count(a['success'])} | not run | | | | |")
    paired = paired_rows(tests)
    lines += [paired[o] if isinstance(o, int) else o for o in order]
    if "f0" in sig and "f0" in hard:  # at the rest state c = h = 0 of either flavour, λ0 = f0 + U_c/4
        both = sig.merge(hard, on=MATCH, suffixes=("_a", "_b"))
        gap = np.abs((both["lambda0_a"] - both["f0_a"]) - (both["lambda0_b"] - both["f0_b"]))
        bad = int((gap > 1e-4).sum())
        lines += ["", f"Pairing check: λ0 − f0 (= U_c/4 at rest in both flavours) agrees for {len(both) - bad} of "
                      f"{len(both)} paired models" + (" (the same initialisations)." if not bad else
                                                      f"; **{bad} differ**: those pairs are not the same init.")]
    lines += ["", *attractors(runs, sig, hard, keys)]
    return "\n".join(lines) + "\n"


def attractors(runs: Path, sig: pd.DataFrame, hard: pd.DataFrame, keys: pd.DataFrame) -> list[str]:
    """Where the successes end (explain --dynamics): bistable or not, and the trained rest slope."""
    if "n_stable_final" not in sig:
        return ["*(the trained models' attractors need `latchjax explain runs/v3/e2-sigmoid --dynamics`)*"]
    f_final = None
    dyn = runs / "v3" / "e2-sigmoid" / "dynamics.csv"
    if dyn.is_file():  # the forget gate at rest after training (a run with --snapshots)
        d = pd.read_csv(dyn)
        if "gate_forget" in d:
            last = d[d["round"] == d["round"].max()]
            f_final = last[["cell", "forget_bias", "length", "lr", "seed", "gate_forget"]]
    has_hard = "n_stable_final" in hard
    head = ("| cell | b_f | T | sigmoid successes: bistable (2 stable points; with 1, 0) | λ_final of sigmoid successes (median)"
            + (" | f at rest after training, sigmoid successes (median)" if f_final is not None else "")
            + (" | hard_sigmoid successes: bistable | λ_final of hard_sigmoid successes (median)" if has_hard else "")
            + " |")
    lines = ["Where the successes end (`explain --dynamics`): a bistable latch has two stable zero-input fixed "
             "points and a slope below 1 at the one it rests on (λ_final); a gate held open (f ≈ 1) leaves one slow "
             "rest state (λ_final ≈ 1) or none (λ_final > 1: the cell state drifts)."
             + ("" if f_final is not None else " (f at rest after training is not available: the run kept no "
                "per-epoch snapshots.)"), "", head, "|" + "---|" * head.count(" | ") + "---|"]
    for cell, fb, length in keys[["cell", "forget_bias", "length"]].itertuples(index=False):
        row = [cell, f"{fb:g}", str(int(length))]
        for frame, used in ((sig, True), (hard, has_hard)):
            if not used:
                continue
            g = pick(frame, cell=cell, forget_bias=fb, length=length)
            ok = g[g["success"]]
            if g.empty:
                row += ["not run", DASH]
            else:
                stable = ok["n_stable_final"]
                row += [f"{int((stable == 2).sum())}/{len(ok)} (1: {int((stable == 1).sum())}, 0: "
                        f"{int((stable == 0).sum())})", fmt_num(ok["lambda_final"].median())]
            if frame is sig and f_final is not None:
                f = ok.merge(f_final, on=["cell", "forget_bias", "length", "lr", "seed"])["gate_forget"]
                row.append(fmt_num(f.median()))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def fleiss_kappa(ok: np.ndarray) -> float:
    """Fleiss' κ of (subjects, raters) binary ratings; NaN when every rating is the same."""
    n_raters = ok.shape[1]
    yes = ok.sum(axis=1)
    counts = np.stack([yes, n_raters - yes], axis=1)
    p_i = (counts * (counts - 1)).sum(axis=1) / (n_raters * (n_raters - 1))
    p_j = counts.sum(axis=0) / counts.sum()
    expected = float((p_j**2).sum())
    return float("nan") if expected >= 1 else (p_i.mean() - expected) / (1 - expected)


def agreement(ok: np.ndarray) -> dict[str, float]:
    """Across the runs (columns) of each seed (row): the share of seeds whose outcome agrees in every run, the
    share expected if each run's outcome were an independent draw at the pooled frequency p (p^m + (1 − p)^m; an
    upper bound of the independent expectation with each run's own frequency, so the test is conservative),
    Fleiss' κ, and the exact binomial p of the agreements exceeding that expectation."""
    n, m = ok.shape
    agree = int((ok.all(axis=1) | ~ok.any(axis=1)).sum())
    p = ok.mean()
    expected = p**m + (1 - p) ** m
    test = stats.binomtest(agree, n, min(expected, 1.0), alternative="greater") if n else None
    return {"agree": agree, "n": n, "observed": agree / n if n else float("nan"), "expected": expected,
            "kappa": fleiss_kappa(ok), "p": test.pvalue if test and expected < 1 else float("nan")}


SHUFFLES = {"v2/e4-keras2": "seed's own order", "v3/shuffle-1000": "shuffle seed 1000",
            "v3/shuffle-2000": "shuffle seed 2000"}


def shuffle(runs: Path) -> str:
    note = missing(runs, dict.fromkeys(SHUFFLES, "results.csv"))
    if note:
        return note
    frames = [read_run(runs / name, "results.csv") for name in SHUFFLES]
    keys = frames[0][["cell", "length"]].drop_duplicates()
    order = {c: i for i, c in enumerate(("srnn", "lstm", "gru"))}
    keys = keys.assign(o=keys["cell"].map(lambda c: order.get(c, 9))).sort_values(["o", "cell", "length"])[
        ["cell", "length"]]
    lines = ["*Shuffle-only control (review item 6): E4's Keras 2 models (same initialisations, same data) trained "
             "with three minibatch orders. High agreement across orders means the initialisation (and the data) "
             "decide the outcome. Expected: agreement of independent draws at the pooled frequency p, p³ + (1 − p)³; "
             "test: exact binomial of the agreeing seeds against it (one-sided, conservative), Holm over the "
             "table.*", "",
             "| cell | T | " + " | ".join(SHUFFLES.values()) + " | all three agree | expected if independent | "
             "Fleiss' κ | p | Holm p |", "|---|---|---|---|---|---|---|---|---|---|"]
    rows, pvals, total = [], [], np.zeros(3)
    for cell, length in keys.itertuples(index=False):
        parts = [pick(f, cell=cell, length=length)[["seed", "success"]].set_index("seed")["success"] for f in frames]
        table = pd.concat(parts, axis=1, join="inner").to_numpy(bool)
        if not len(table):
            continue
        a = agreement(table)
        total += (a["agree"], a["n"], a["expected"] * a["n"])
        pvals.append(a["p"])
        rows.append([cell, str(int(length)), *(count(table[:, j]) for j in range(table.shape[1])),
                     frac(a["agree"], a["n"]), f"{a['expected']:.2f}", fmt_num(a["kappa"], 2), fmt_p(a["p"])])
    adjusted = holm(np.array(pvals))
    lines += ["| " + " | ".join([*r, fmt_p(p)]) + " |" for r, p in zip(rows, adjusted)]
    significant = int(np.nansum(adjusted < 0.05))
    lines += ["", f"Pooled over cells and lengths, the outcome agrees across the three orders for "
                  f"{frac(int(total[0]), int(total[1]))} seeds, against {total[2] / max(total[1], 1):.2f} expected "
                  "if independent; agreement exceeds independence after Holm in "
                  f"{significant} of {int(np.isfinite(adjusted).sum())} testable rows. The seeds that disagree "
                  "are those whose outcome the minibatch order changes."]
    return "\n".join(lines) + "\n"


def brc(runs: Path) -> str:
    note = missing(runs, {"v2/e5-bit-relay": "results.csv"})
    head = ("Review item 17 (no new run): BRC's and nBRC's feedback a = 1 + tanh(·) is ≥ 0, so a·h keeps the sign "
            "of h and the write tanh(W_h x + a·h) has no sign-inverting path from the state (the GRU's "
            "tanh(W x + U_h (r ⊙ h)) has one when U_h < 0): a bit held by the state cannot be toggled through the "
            "feedback. ")
    if note:
        return note
    frame = read_run(runs / "v2" / "e5-bit-relay", "results.csv")
    lengths = sorted(frame["length"].unique())
    parts = []
    for lr in sorted(frame["lr"].unique()):
        counts = []
        for cell, name in (("gru", "GRU"), ("brc", "BRC"), ("nbrc", "nBRC")):
            ks = [pick(frame, cell=cell, lr=lr, length=t) for t in lengths]
            if all(len(k) for k in ks):
                counts.append(f"{name} " + " / ".join(str(int(k["success"].sum())) for k in ks))
        parts.append(f"lr {lr:g}: " + ", ".join(counts))
    n = int(frame["seed"].nunique())
    return (head + f"Evidence (E5 bit relay, successes of {n} at T = " + " / ".join(str(int(t)) for t in lengths)
            + "): " + "; ".join(parts) + ". Mechanism not tested by intervention.\n")


def blocks(runs: Path, figures: Path | None = None) -> dict[str, str]:
    runs = Path(runs)
    return {"v3-head-only": head_only(runs), "v3-e2-sigmoid": e2_sigmoid(runs), "v3-shuffle": shuffle(runs),
            "v3-bit-relay-8": bit_relay_8(runs), "v3-width": width(runs), "v3-dilemma": dilemma(runs),
            "v3-brc": brc(runs)}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for name, block in blocks(Path(argv[0]), Path(argv[1]) if len(argv) > 1 else None).items():
        print(f"<!-- {name} -->\n{block}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
