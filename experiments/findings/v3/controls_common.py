"""Helpers of experiments/findings/v3/controls.py and controls_scale.py: reading a run's tables, the note for a
missing run, and the formats of the findings' statistics (Wilson counts, p-values, paired rows, AUCs)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from v2_tables_base import (  # the findings' formats, one copy (a sibling module: this folder is on sys.path)
    DASH,
    fmt_p,
    frac,
)

from latchjax.core.cells import uses_forget_bias
from latchjax.core.stats import holm, paired_comparison

uses_forget_bias = functools.cache(uses_forget_bias)  # called once per setting of thousands of rows
KEYS = ["cell", "length", "lr", "forget_bias", "seed"]

# How each run is made (the note of a missing run names its command).
V2 = "latchjax sweep --preset findings/v2/{name} --out runs/v2/{name} && latchjax explain runs/v2/{name}"
V3 = "latchjax sweep --preset findings/v3/{preset} --out runs/v3/{name}{extra} && latchjax explain runs/v3/{name}{dyn}"
COMMANDS = {
    "v2/e2-lambda": V2.format(name="e2-lambda"),
    "v2/e4-keras2": V2.format(name="e4-keras2"),
    "v2/e5-bit-relay": V2.format(name="e5-bit-relay"),
    "v2/e7-wide": V2.format(name="e7-wide"),
    "v2/e6/base": "bash experiments/findings/v2/e6_update_bit_relay.sh runs/v2/e6",
    "v3/head-only": V3.format(preset="head-only", name="head-only", extra="", dyn=""),
    "v3/e2-sigmoid": V3.format(preset="e2-sigmoid", name="e2-sigmoid", extra="", dyn=" --dynamics"),
    "v3/shuffle-1000": V3.format(preset="shuffle-only", name="shuffle-1000", extra="", dyn=""),
    "v3/shuffle-2000": V3.format(preset="shuffle-only", name="shuffle-2000", extra=" --shuffle-seed 2000", dyn=""),
    "v3/bit-relay-8": V3.format(preset="bit-relay-8", name="bit-relay-8", extra="", dyn=""),
    "v3/width": V3.format(preset="width", name="width", extra="", dyn=""),
}


def missing(runs: Path, needs: dict[str, str]) -> str | None:
    """``needs``: run name (``v3/head-only``) -> the file it must hold. The one-line italic note for the runs that
    lack it (a run still being trained has no explain.csv yet), or None when all are there."""
    gone = [name for name, file in needs.items() if not (runs / name / file).is_file()]
    if not gone:
        return None
    return " ".join(f"*(run {name} missing: `{COMMANDS.get(name, 'see experiments/findings/v3/run_v3.sh')}`)*"
                    for name in gone) + "\n"


def read_run(run: Path, file: str = "explain.csv") -> pd.DataFrame:
    """A run's explain.csv (or results.csv), one row per trained model: a cell without a forget gate is repeated
    once per forget-bias value of the run (the same model), and only its first copy is kept."""
    frame = pd.read_csv(run / file)
    frame["success"] = frame["success"].astype(str).isin(["True", "true", "1", "1.0"])
    gated = frame["cell"].map(uses_forget_bias)
    plain = frame[~gated].drop_duplicates(["cell", "length", "lr", "seed"])
    return pd.concat([frame[gated], plain]).sort_values(KEYS, kind="stable").reset_index(drop=True)


def threshold(run: Path) -> float:
    """The run's success threshold on the validation accuracy (0.9 unless its config says otherwise)."""
    try:
        return float(json.loads((run / "config.json").read_text()).get("threshold", 0.9))
    except (OSError, ValueError):
        return 0.9


def pick(frame: pd.DataFrame, **where) -> pd.DataFrame:
    mask = np.ones(len(frame), bool)
    for key, value in where.items():
        mask &= (frame[key] == value).to_numpy()
    return frame[mask].sort_values("seed")


def count(ok: pd.Series | np.ndarray) -> str:
    ok = np.asarray(ok, bool)
    return frac(int(ok.sum()), ok.size)


def fmt_num(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}" if x is not None and np.isfinite(x) else DASH


def paired_seeds(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Success of the seeds present in both frames (each one setting), aligned by seed."""
    both = a[["seed", "success"]].merge(b[["seed", "success"]], on="seed", suffixes=("_a", "_b"))
    return both["success_a"].to_numpy(bool), both["success_b"].to_numpy(bool)


def paired_table(tests: list[tuple[list[str], np.ndarray, np.ndarray]]) -> tuple[list[str], list[dict]]:
    """Table rows ``| <labels> | A | B | A only / B only | McNemar p | Holm p | A − B [Newcombe 95%] |`` for every
    (labels, success A, success B), Holm's correction over the whole list; and each test's statistics (with
    ``p_holm``)."""
    results = [paired_comparison(a, b) for _, a, b in tests]
    adjusted = holm(np.array([r["p_mcnemar"] for r in results])) if results else []
    rows = []
    for (labels, _, _), r, p_holm in zip(tests, results, adjusted):
        r["p_holm"] = float(p_holm)
        rows.append("| " + " | ".join(labels) + f" | {frac(r['successes_a'], r['n'])} | {frac(r['successes_b'], r['n'])}"
                    f" | {r['a_only']} / {r['b_only']} | {fmt_p(r['p_mcnemar'])} | {fmt_p(p_holm)} | "
                    f"{r['diff']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] |")
    return rows, results


def paired_rows(tests: list[tuple[list[str], np.ndarray, np.ndarray]]) -> list[str]:
    return paired_table(tests)[0]


def paired_head(a: str = "A", b: str = "B") -> str:
    """The columns of :func:`paired_table` after its labels."""
    return f"{a} | {b} | only {a} / only {b} | McNemar p | Holm p | {a} − {b} [Newcombe 95%] |"


def auc(x: np.ndarray, ok: np.ndarray, minimum: int = 10) -> tuple[str, str]:
    """AUC of ``x`` for success (P(x of a success > x of a failure), ties count half) and the two-sided Mann–Whitney
    p, or dashes with fewer than ``minimum`` successes or failures (or a constant x). The p is exact for samples
    without ties up to 40 x 40 (the exact distribution gets slow beyond); otherwise the tie-corrected normal
    approximation, written "≈p" (accurate at such sizes)."""
    x, ok = np.asarray(x, float), np.asarray(ok, bool)
    good = np.isfinite(x)
    x, ok = x[good], ok[good]
    n_ok, n_bad = int(ok.sum()), int((~ok).sum())
    if n_ok < minimum or n_bad < minimum or np.ptp(x) < 1e-9:
        return DASH, DASH
    exact = len(np.unique(x)) == len(x) and n_ok * n_bad <= 1600
    test = stats.mannwhitneyu(x[ok], x[~ok], alternative="two-sided", method="exact" if exact else "asymptotic")
    value = test.statistic / (n_ok * n_bad)
    return f"{value:.2f}", fmt_p(test.pvalue) if exact else "≈" + fmt_p(test.pvalue)
