"""FINDINGS v3: v2's tables re-made from the re-run v2 experiments (runs/v2/*), mended as the referee asked.

    bash experiments/findings/v3/rerun_v2.sh runs/v2      # the v2 experiments with today's code
    bash experiments/findings/v3/run_v3.sh runs/v3 runs/v2  # the v3 controls some tables pair with
    python experiments/findings/v3/make_v3.py runs figures --doc docs/FINDINGS.md

:func:`blocks` returns ``{marker: markdown}``; this module makes E1 (prediction, AUCs with exact rank-sum p, and the
two-factor table λ0 × readout alignment with a logistic fit), E2 (λ0 set by hand), the matched-λ0 table (Cochran's
Q, pairwise McNemar with Holm), E7, the datasets table and E6 with the asker's metric; :mod:`v2_tables_paired` makes
E3, E4 and E5, :mod:`v2_tables_base` the compute table. A block whose runs are missing is a one-line note naming the
command. Nothing is trained here; every number is read from the runs' files.
"""

from __future__ import annotations

import importlib
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


if str(HERE) not in sys.path:  # this folder's modules import each other by name (it is not a package)
    sys.path.insert(0, str(HERE))


base = importlib.import_module("v2_tables_base")
DASH, FLAVORS, CELLS = base.DASH, base.FLAVORS, base.CELLS
E1_DATA = {"": "One dataset per length, shared by the seeds", "-perseed": "Each seed its own dataset (`--data per-seed`)"}
MATCH_WIDTH = 0.03  # settings in one matched-λ0 group differ by at most this much
EXACT_SPREAD = 0.01  # a setting's λ0 counts as set by hand when its spread over seeds is below this


def _median_iqr(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return DASH
    q1, q2, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return f"{q2:.2f} ({q1:.2f}–{q3:.2f})"


# ---- E1 ----------------------------------------------------------------------------------------------------------

def _e4_groups(runs: Path, suffix: str, notes: list[str]):
    """(framework, cell, T, the models' explain rows) of the E4 runs, in table order; a missing run adds its note."""
    for flavor, name in ((f, f"v2/e4-{f}{suffix}") for f in FLAVORS):
        frame = base.load(runs, name, explain=True)
        if frame is None:
            notes.append(base.missing(name))
            continue
        for cell in CELLS:
            for t in base.lengths_of(frame):
                g = base.pick(frame, cell=cell, length=t)
                if not g.empty:
                    yield flavor, cell, t, g


def e1(runs: Path, suffix: str = "") -> str:
    lines = ["| framework | cell | T | successes | λ0 of successes, median (IQR) | λ0 of failures | AUC λ0 | "
             "AUC proto_acc0 |", "|---|---|---|---|---|---|---|---|"]
    notes = []
    for flavor, cell, t, g in _e4_groups(runs, suffix, notes):
        ok = g["success"]
        lines.append(f"| {flavor} | {cell} | {t} | {base.count(ok)} | {_median_iqr(g.loc[ok, 'lambda0'])} | "
                     f"{_median_iqr(g.loc[~ok, 'lambda0'])} | {base.auc_cell(g['lambda0'], ok)} | "
                     f"{base.auc_cell(g['proto_acc0'], ok)} |")
    if len(lines) == 2:
        return "\n".join(notes) + "\n"
    text = ["AUC: the area under the ROC curve of the initial feature for success, with the exact two-sided "
            f"Mann–Whitney p (for the two-valued proto_acc0 of the Keras cells, the exact conditional test, Fisher's; "
            f"'≈': normal approximation, tied values); {DASH} with fewer than {base.MIN_AUC} successes or failures. "
            f"{E1_DATA[suffix]} (runs/v2/e4-*{suffix}).", "", *lines]
    return "\n".join(text + ([""] + notes if notes else [])) + "\n"


def _term(coef: float, p: float, separated: bool) -> str:
    if separated and abs(coef) > 5:
        return f"{'+' if coef > 0 else '−'}∞ (separation; LR p = {base.fmt_p(p)})"
    return f"{coef:+.2f} (LR p = {base.fmt_p(p)})"


def e1_twofactor(runs: Path, suffix: str = "") -> str:
    """Success by the readout's starting orientation × λ0 above/below the cell's median, with a logistic fit
    success ~ λ0 + aligned per cell and length (review item 8: one two-factor model for every cell)."""
    lines = ["| framework | cell | T | aligned, λ0 ≥ median | aligned, λ0 < median | reversed, λ0 ≥ median | "
             "reversed, λ0 < median | proto_acc0 = 1/2 | median λ0 | models fitted | λ0: coef (LR p) | "
             "aligned: coef (LR p) |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for flavor, cell, t, g in _e4_groups(runs, suffix, notes):
        lam, ok, proto = g["lambda0"].to_numpy(float), g["success"].to_numpy(bool), g["proto_acc0"].to_numpy()
        med = float(np.median(lam))
        high = lam >= med
        aligned, reversed_ = proto > 0.5, proto < 0.5
        neither = ~(aligned | reversed_)  # both prototypes give one output: no orientation
        cells = [base.count(ok[a & h], wilson=False) for a in (aligned, reversed_) for h in (high, ~high)]
        if neither.all():  # PyTorch's random biases: proto_acc0 = 1/2 for every model
            cells = [f"{base.count(ok[h], wilson=False)} (all)" for h in (high, ~high)] + [DASH, DASH]
        fit = ~neither if aligned.any() and reversed_.any() else np.ones_like(ok)
        columns = {}
        if np.ptp(lam[fit]) > 1e-9:
            columns["lambda0"] = lam[fit]
        if aligned.any() and reversed_.any():
            columns["aligned"] = aligned[fit].astype(float)
        y = ok[fit]
        terms = base.logit_terms(columns, y) if columns and 0 < y.sum() < y.size else {}
        lam_text = _term(*terms["lambda0"]) if "lambda0" in terms else (
            "λ0 constant" if np.ptp(lam) <= 1e-9 else DASH)
        al_text = _term(*terms["aligned"]) if "aligned" in terms else (
            "no orientation" if neither.all() else DASH)
        lines.append(f"| {flavor} | {cell} | {t} | " + " | ".join(cells) +
                     f" | {base.count(ok[neither], wilson=False)} | {med:.3f} | {int(fit.sum())} | "
                     f"{lam_text} | {al_text} |")
    if len(lines) == 2:
        return "\n".join(notes) + "\n"
    text = ["Success k/n by the readout's start (aligned: proto_acc0 > 0.5; reversed: < 0.5) and λ0 against its median "
            "in the cell and length; the logistic fit success ~ λ0 + aligned per row, each term's coefficient (log-odds "
            "per unit λ0; aligned vs reversed) with the likelihood-ratio p for dropping it. "
            f"{DASH}: no successes or no failures, or the term cannot vary. proto_acc0 = 1/2: both prototypes give the "
            "same output (no orientation); the fit leaves these models out where the others have one. Where every "
            "model has none (PyTorch's random biases), the aligned columns hold all the models. "
            f"{E1_DATA[suffix]} (runs/v2/e4-*{suffix}).", "", *lines]
    return "\n".join(text + ([""] + notes if notes else [])) + "\n"


# ---- E2 and the matched-λ0 table --------------------------------------------------------------------------------

def _settings(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per E2 setting (cell, forget bias): its label, median λ0, λ0's spread over the seeds, f0."""
    rows = []
    for (cell, fb), g in frame.groupby(["cell", "forget_bias"], sort=False):
        has_fb = bool(g["has_fb"].iloc[0])
        f0 = g["f0"].median() if "f0" in g and g["f0"].notna().any() else np.nan
        rows.append({"cell": cell, "forget_bias": fb, "has_fb": has_fb, "label": base.setting_label(cell, fb, has_fb),
                     "lambda0": float(g["lambda0"].median()), "spread": float(np.ptp(g["lambda0"])), "f0": f0})
    return pd.DataFrame(rows).sort_values(["lambda0", "label"]).reset_index(drop=True)


def e2(runs: Path) -> str:
    frame = base.load(runs, "v2/e2-lambda", explain=True)
    if frame is None:
        return base.missing("v2/e2-lambda") + "\n"
    lengths = base.lengths_of(frame)
    lines = ["| setting | b_f | λ0 (median over seeds) | " + " | ".join(f"T={t}" for t in lengths) + " |",
             "|---|---|---|" + "---|" * len(lengths)]
    for s in _settings(frame).itertuples():
        g = base.pick(frame, cell=s.cell, forget_bias=float(s.forget_bias))
        counts = [base.count(g.loc[g["length"] == t, "success"], wilson=False) for t in lengths]
        lines.append(f"| {s.cell} | {f'{s.forget_bias:g}' if s.has_fb else DASH} | {s.lambda0:.3f} | "
                     + " | ".join(counts) + " |")
    return "\n".join(["Sorted by λ0. A cell without a forget gate is trained once (b_f —).", "", *lines]) + "\n"


def matched_groups(settings: pd.DataFrame, width: float = MATCH_WIDTH) -> list[list[int]]:
    """Groups (row indices of ``settings``, sorted by λ0) of two or more settings whose λ0 differ by at most
    ``width``: greedily the window [v, v + width] holding the most settings (ties: the tighter window, then the
    smaller λ0), until no window holds two."""
    left = list(settings.index)
    groups = []
    while True:
        lam = settings.loc[left, "lambda0"]
        best = None
        for i in left:
            members = [j for j in left if lam[i] - 1e-9 <= lam[j] <= lam[i] + width + 1e-9]
            key = (-len(members), float(np.ptp(lam[members])), lam[i])
            if best is None or key < best[0]:
                best = (key, members)
        if best is None or len(best[1]) < 2:
            return sorted(groups, key=lambda g: settings.loc[g[0], "lambda0"])
        groups.append(sorted(best[1], key=lambda j: (settings.loc[j, "lambda0"], settings.loc[j, "label"])))
        left = [j for j in left if j not in best[1]]


def forget_gate_note(s, flavor: str) -> str:
    """Is the setting's forget gate frozen at rest? Under Keras 2's hard_sigmoid, clip(0.2 x + 0.5, 0, 1), a
    pre-activation above 2.5 gives f = 1 exactly with zero gradient."""
    if not s.has_fb and not str(s.cell).startswith(("lstm", "cifg", "janet")):
        return "no forget gate"
    f0 = float(s.f0) if np.isfinite(s.f0) else np.nan
    if flavor == "keras2" and s.has_fb and s.forget_bias > 2.5:
        return "f = 1, frozen at rest (hard_sigmoid, zero gradient)"
    if flavor == "keras2" and s.has_fb and s.forget_bias == 2.5:
        return "f = 1 at the kink (pre-activation 2.5)"
    return f"f = {f0:.2f}, learns" if np.isfinite(f0) else "learns"


def matched(runs: Path) -> str:
    frame = base.load(runs, "v2/e2-lambda", explain=True)
    if frame is None:
        return base.missing("v2/e2-lambda") + "\n"
    flavor = str(frame["flavor"].iloc[0])
    settings = _settings(frame)
    exact = settings[settings["spread"] <= EXACT_SPREAD]
    groups = matched_groups(exact)
    lengths = base.lengths_of(frame)
    counts = ["| λ0 group | setting | λ0 | forget gate | " + " | ".join(f"T={t}" for t in lengths) + " |",
              "|---|---|---|---|" + "---|" * len(lengths)]
    tests, qs = [], []  # all pairwise McNemar tests of the table; one Cochran's Q per group and length
    for g in groups:
        rows = exact.loc[g]
        name = f"{rows['lambda0'].min():.3f}–{rows['lambda0'].max():.3f}" if np.ptp(rows["lambda0"]) else \
            f"{rows['lambda0'].iloc[0]:.3f}"
        for s in rows.itertuples():
            cells = [base.count(base.by_seed(frame, cell=s.cell, forget_bias=float(s.forget_bias), length=t))
                     for t in lengths]
            counts.append(f"| {name} | {s.label} | {s.lambda0:.3f} | {forget_gate_note(s, flavor)} | "
                          + " | ".join(cells) + " |")
        for t in lengths:
            series = {s.label: base.by_seed(frame, cell=s.cell, forget_bias=float(s.forget_bias), length=t)
                      for s in rows.itertuples()}
            table = pd.concat(series, axis=1, join="inner")
            qs.append((name, t, len(series), *base.cochran_q(table.to_numpy(float))))
            for a, b in combinations(series, 2):
                r = base.paired(series[a], series[b])
                if r["diff"] < 0:
                    a, b, r = b, a, base.paired(series[b], series[a])
                tests.append((name, t, a, b, r))
    holm_pairs = base.holm(np.array([r["p_mcnemar"] for *_, r in tests]))
    holm_q = base.holm(np.array([q[4] for q in qs]))
    summary = ["| λ0 group | T | settings | Cochran's Q | Q p | Q Holm p | largest difference (A vs B) | "
               "A − B [Newcombe 95%] | McNemar p | Holm p |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (name, t, k, q, p), p_holm in zip(qs, holm_q):
        mine = [(i, x) for i, x in enumerate(tests) if x[0] == name and x[1] == t]
        i, (_, _, a, b, r) = max(mine, key=lambda ix: (ix[1][4]["diff"], -ix[1][4]["p_mcnemar"]))
        summary.append(f"| {name} | {t} | {k} | {q:.1f} | {base.fmt_p(p)} | {base.fmt_p(p_holm)} | {a} vs {b} | "
                       f"{r['diff']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] | {base.fmt_p(r['p_mcnemar'])} | "
                       f"{base.fmt_p(holm_pairs[i])} |")
    dropped = settings[settings["spread"] > EXACT_SPREAD]["label"].tolist()
    text = [f"E2's settings whose λ0 is set exactly (spread over seeds ≤ {EXACT_SPREAD}), grouped where their λ0 differ "
            f"by at most {MATCH_WIDTH}; the same seeds and data in every setting (related samples). Left out, λ0 drawn "
            f"with U_c: {', '.join(dropped) if dropped else 'none'}.", "", *counts, "",
            f"Per group and length: Cochran's Q over the group's settings (Holm over the table's {len(qs)} Q tests) and "
            f"the pair with the largest difference, its McNemar p and Holm's p over all {len(tests)} pairwise McNemar "
            "tests of the table.", "", *summary]
    return "\n".join(text) + "\n"


# ---- E7 ----------------------------------------------------------------------------------------------------------

def counts_table(frame: pd.DataFrame, wilson: bool = True) -> list[str]:
    lengths = base.lengths_of(frame)
    lines = ["| cell | lr | b_f | " + " | ".join(f"T={t}" for t in lengths) + " |",
             "|---|---|---|" + "---|" * len(lengths)]
    for (cell, lr, fb), g in frame.groupby(["cell", "lr", "forget_bias"], sort=False):
        fb_text = f"{fb:g}" if bool(g["has_fb"].iloc[0]) else DASH
        lines.append(f"| {cell} | {lr:g} | {fb_text} | " + " | ".join(
            base.count(g.loc[g["length"] == t, "success"], wilson) for t in lengths) + " |")
    return lines


def e7(runs: Path) -> str:
    out = []
    controls = base.load(runs, "v2/e7-controls")
    out += (["**Chrono initialisation, hard_sigmoid vs sigmoid gates** (`e7-controls`):", "", *counts_table(controls)]
            if controls is not None else [base.missing("v2/e7-controls")])
    wide = base.load(runs, "v2/e7-wide")
    out.append("")
    if wide is None:
        out.append(base.missing("v2/e7-wide"))
    else:
        out += [f"**{int(wide['units'].iloc[0])} units** (`e7-wide`):", "", *counts_table(wide)]
        if "lambda0" in wide:
            lengths = base.lengths_of(wide)
            out += ["", f"AUC of λ0 (the spectral radius of the rest-state Jacobian at initialisation) for success, exact "
                    f"Mann–Whitney p; {DASH} with fewer than {base.MIN_AUC} successes or failures:", "",
                    "| cell | b_f | " + " | ".join(f"T={t}" for t in lengths) + " |", "|---|---|" + "---|" * len(lengths)]
            for (cell, fb), g in wide.groupby(["cell", "forget_bias"], sort=False):
                out.append(f"| {cell} | {f'{fb:g}' if g['has_fb'].iloc[0] else DASH} | " + " | ".join(
                    base.auc_cell(g.loc[g["length"] == t, "lambda0"], g.loc[g["length"] == t, "success"])
                    for t in lengths) + " |")
    return "\n".join(out) + "\n"


# ---- the datasets ------------------------------------------------------------------------------------------------

def datasets(runs: Path) -> str:
    path = runs / "v2" / "dataset-variance" / "dataset_variance.csv"
    if not path.is_file():
        return base.missing("v2/dataset-variance") + "\n"
    frame = pd.read_csv(path)
    seeds_path = path.with_name("dataset_variance_seeds.csv")  # per seed and dataset, if the script writes one
    per_seed = pd.read_csv(seeds_path) if seeds_path.is_file() else None
    q_col = next((c for c in ("cochran_q", "q", "Q") if c in frame), None)
    p_col = next((c for c in ("cochran_p", "q_p", "p") if c in frame), None)
    rows = []
    for (setting, cell, length), g in frame.groupby(["setting", "cell", "length"], sort=False):
        g = g.sort_values("data_seed")
        n = int(g["n"].iloc[0])
        freq = g["successes"].to_numpy(float) / n
        q = p = np.nan
        if q_col and p_col:
            q, p = float(g[q_col].iloc[0]), float(g[p_col].iloc[0])
        elif per_seed is not None:
            s = per_seed[(per_seed["setting"] == setting) & (per_seed["cell"] == cell) & (per_seed["length"] == length)]
            table = s.pivot(index="seed", columns="data_seed", values="success").to_numpy(float)
            q, p = base.cochran_q(table)
        binomial = np.sqrt(freq.mean() * (1 - freq.mean()) / n)
        rows.append([setting, cell, int(length), f"{', '.join(str(int(k)) for k in g['successes'])} (of {n})",
                     f"{freq.std(ddof=1):.3f}" if len(freq) > 1 else DASH, f"{binomial:.3f}", q, p])
    adjusted = base.holm(np.array([r[7] for r in rows]))
    lines = ["| setting | cell | T | successes on each dataset (same initialisations) | sd of frequency across datasets"
             " | binomial sd | Cochran's Q | p | Holm p |", "|---|---|---|---|---|---|---|---|---|"]
    for r, p_holm in zip(rows, adjusted):
        q_text = f"{r[6]:.1f}" if np.isfinite(r[6]) else DASH
        lines.append("| " + " | ".join(map(str, r[:6])) + f" | {q_text} | {base.fmt_p(r[7])} | {base.fmt_p(p_holm)} |")
    note = [] if (q_col and p_col) or per_seed is not None else [
        "", f"*(Cochran's Q needs each seed's success on each dataset; {path.name} holds counts only: {DASH})*"]
    return "\n".join(lines + note) + "\n"


# ---- E6: success counts and the asker's metric ------------------------------------------------------------------

E6_VARIANTS = {"base": "update-bit-relay as is (keras2, 8 units, shuffled split, lr 1e-3, Dense(2), noise 0.1)",
               "keras3": "Keras 3 cells (sigmoid gates, GRU reset_after)", "keras-split": "Keras's validation_split",
               "lr0.01": "lr 0.01", "head-sigmoid": "Dense(1) sigmoid head", "noise0.5": "noise sigma 0.5"}


def e6(runs: Path) -> str:
    root = runs / "v2" / "e6"
    found = sorted(p.name for p in root.glob("*") if (p / "results.csv").is_file()) if root.is_dir() else []
    if not found:
        return base.missing("v2/e6") + "\n"
    names = [n for n in E6_VARIANTS if n in found] + [n for n in found if n not in E6_VARIANTS]
    lengths = sorted({t for n in names for t in base.lengths_of(base.load(runs, f"v2/e6/{n}"))})
    lines = ["| setting | cell | " + " | ".join(f"T={t}" for t in lengths) + " |", "|---|---|" + "---|" * len(lengths)]
    for name in names:
        frame = base.load(runs, f"v2/e6/{name}")
        for i, (cell, g) in enumerate(frame.groupby("cell", sort=False)):
            cells = []
            for t in lengths:
                h = g[g["length"] == t]
                acc = h["val_acc"].astype(float)
                cells.append(f"{base.count(h['success'])}; {acc.mean():.2f} ± {acc.std(ddof=1):.2f}" if len(h) > 1
                             else DASH)
            lines.append(f"| {E6_VARIANTS.get(name, name) if i == 0 else ''} | {cell} | " + " | ".join(cells) + " |")
    missing = [n for n in E6_VARIANTS if n not in found]
    text = ["Each cell: successes (final val_acc ≥ 0.9) k/n [Wilson 95%]; then the asker's metric, the final validation "
            "accuracy's mean ± SD over the repeats.", "", *lines]
    if missing:
        text += ["", f"*(settings not yet run: {', '.join(missing)}: `{base.command('v2/e6')}`)*"]
    return "\n".join(text) + "\n"


def blocks(runs: Path, figures: Path | None = None) -> dict[str, str]:
    runs = Path(runs)
    paired = importlib.import_module("v2_tables_paired")
    out = {"v3-e1": e1(runs), "v3-e1-twofactor": e1_twofactor(runs), "v3-e1-perseed": e1(runs, "-perseed"),
           "v3-e1-twofactor-perseed": e1_twofactor(runs, "-perseed"), "v3-e2": e2(runs), "v3-matched": matched(runs)}
    out.update(paired.blocks(runs))
    out.update({"v3-e7": e7(runs), "v3-datasets": datasets(runs), "v3-e6": e6(runs), "v3-compute": base.compute(runs)})
    return out


if __name__ == "__main__":
    for key, block in blocks(Path(sys.argv[1] if len(sys.argv) > 1 else "runs")).items():
        print(f"<!-- {key} -->\n{block}")
