"""FINDINGS v3: v2's paired tables (E3, E4, E5) re-made from the re-run v2 experiments, with Holm's correction within
each table, the head-learning-rate control (runs/v3/heads-*), JANET with its chrono initialisation
(runs/v3/janet-chrono) and the learning-rate effect per cell. Called by :func:`v2_tables.blocks`; nothing is trained
here.
"""

from __future__ import annotations

import importlib
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent


if str(HERE) not in sys.path:  # this folder's modules import each other by name (it is not a package)
    sys.path.insert(0, str(HERE))


base = importlib.import_module("v2_tables_base")
DASH, FLAVORS, CELLS = base.DASH, base.FLAVORS, base.CELLS
NAMES = {"srnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def _settings(frame: pd.DataFrame) -> list[tuple[str, float, bool]]:
    return list(dict.fromkeys(zip(frame["cell"], frame["forget_bias"], frame["has_fb"])))


def _join(*parts: list[str]) -> str:
    return "\n".join(line for part in parts for line in [*part, ""]).rstrip("\n") + "\n"


# ---- E3 ----------------------------------------------------------------------------------------------------------

def e3(runs: Path) -> str:
    aligned, reversed_ = base.load(runs, "v2/e3-aligned"), base.load(runs, "v2/e3-reversed")
    notes = [base.missing(n) for n, f in (("v2/e3-aligned", aligned), ("v2/e3-reversed", reversed_)) if f is None]
    if notes:
        return "\n".join(notes) + "\n"
    tests = []
    for cell, fb, has_fb in _settings(aligned):
        for t in base.lengths_of(aligned):
            where = {"cell": cell, "forget_bias": float(fb), "length": t}
            tests.append((f"{base.setting_label(cell, fb, has_fb)}, T={t}: aligned vs reversed",
                          base.by_seed(aligned, **where), base.by_seed(reversed_, **where)))
    return _join(base.paired_rows(tests))


def _split(frame: pd.DataFrame, cell: str, start: str, t: int | None) -> np.ndarray:
    g = base.pick(frame, cell=cell) if t is None else base.pick(frame, cell=cell, length=t)
    side = g["proto_acc0"] > 0.5 if start == "aligned" else g["proto_acc0"] < 0.5
    return g.loc[side, "success"].to_numpy(bool)


def e3_heads(runs: Path) -> str:
    out = []
    sigmoid, softmax = base.load(runs, "v2/e3-head-sigmoid", explain=True), base.load(runs, "v2/e4-keras2", explain=True)
    if sigmoid is None or softmax is None:
        out.append([base.missing(n) for n, f in (("v2/e3-head-sigmoid", sigmoid), ("v2/e4-keras2", softmax))
                    if f is None])
    else:
        lengths = base.lengths_of(sigmoid)
        tests = [(f"{cell}, T={t}: Dense(1) vs Dense(2)", base.by_seed(sigmoid, cell=cell, length=t),
                  base.by_seed(softmax, cell=cell, length=t)) for cell in CELLS for t in lengths]
        out.append(["**Dense(1) sigmoid (`e3-head-sigmoid`) vs Dense(2) softmax (`e4-keras2`)**, same seeds and data:",
                    "", *base.paired_rows(tests)])
        rows, pvalues = [], []
        for cell in CELLS:
            for start in ("reversed", "aligned"):
                for t in [*lengths, None]:
                    d2, d1 = _split(softmax, cell, start, t), _split(sigmoid, cell, start, t)
                    table = [[int(d2.sum()), int((~d2).sum())], [int(d1.sum()), int((~d1).sum())]]
                    p = stats.fisher_exact(table).pvalue if d1.size and d2.size else np.nan
                    pvalues.append(p)
                    rows.append(f"| {cell} | {start} | {t if t else 'all'} | {base.count(d2)} | {base.count(d1)} | "
                                f"{base.fmt_p(p)} |")
        adjusted = base.holm(np.array(pvalues))
        out.append(["Split by each model's own readout start (the two heads start differently, so these subsets are "
                    "not paired: Fisher's exact test, Holm over the table):", "",
                    "| cell | readout starts | T | Dense(2) softmax | Dense(1) sigmoid | Fisher p | Holm p |",
                    "|---|---|---|---|---|---|---|", *(r + f" {base.fmt_p(p)} |" for r, p in zip(rows, adjusted))])
    out.append(head_lr(runs))
    return _join(*out)


HEAD_RUNS = {"Dense(1) sigmoid, head lr ×1": "v3/heads-d1", "Dense(1) sigmoid, head lr ×2": "v3/heads-d1-x2",
             "Dense(2) softmax, head lr ×1": "v2/e3-reversed", "Dense(2) softmax, head lr ×0.5": "v3/heads-d2-half"}


def head_lr(runs: Path) -> list[str]:
    """The effective-learning-rate control (review item 11): reversed-start Keras SimpleRNNs, same seeds."""
    series, notes = {}, []
    for label, name in HEAD_RUNS.items():
        frame = base.load(runs, name)
        if frame is None:
            notes.append(base.missing(name))
            continue
        series[label] = {t: base.by_seed(frame, cell="srnn", length=t) for t in base.lengths_of(frame)}
    out = ["**The head's learning rate** (reversed-start Keras SimpleRNN(1), the same seeds and data in every row; "
           "the effective-learning-rate hypothesis predicts that ×2 helps Dense(1) and ×0.5 hurts Dense(2)):", ""]
    if series:
        lengths = sorted({t for by_t in series.values() for t in by_t})
        out += ["| head | " + " | ".join(f"T={t}" for t in lengths) + " |", "|---|" + "---|" * len(lengths)]
        out += [f"| {label} | " + " | ".join(base.count(by_t[t]) if t in by_t else DASH for t in lengths) + " |"
                for label, by_t in series.items()]
        pairs = [("Dense(1) sigmoid, head lr ×2", "Dense(1) sigmoid, head lr ×1"),
                 ("Dense(2) softmax, head lr ×1", "Dense(2) softmax, head lr ×0.5"),
                 ("Dense(2) softmax, head lr ×1", "Dense(1) sigmoid, head lr ×1")]
        tests = [(f"T={t}: {a} vs {b}", series[a][t], series[b][t]) for a, b in pairs
                 if a in series and b in series for t in lengths if t in series[a] and t in series[b]]
        if tests:
            out += ["", *base.paired_rows(tests)]
    return out + ([""] + notes if notes else [])


def e3_sgd(runs: Path) -> str:
    """Plain SGD (`e3-sgd`, lr 0.01, 0.1, 1) against Adam at lr 1e-3 (`e4-keras2`), the same seeds and data."""
    sgd, adam = base.load(runs, "v2/e3-sgd"), base.load(runs, "v2/e4-keras2")
    notes = [base.missing(n) for n, f in (("v2/e3-sgd", sgd), ("v2/e4-keras2", adam)) if f is None]
    if sgd is None:
        return "\n".join(notes) + "\n"
    lines = ["Plain SGD, successes [Wilson 95%]:", "", *_counts_by_lr(sgd)]
    if adam is None:
        return _join(lines, notes)
    tests = [(f"{cell}, T={t}: SGD lr {lr:g} vs Adam lr 1e-3", base.by_seed(sgd, cell=cell, lr=float(lr), length=t),
              base.by_seed(adam, cell=cell, length=t))
             for cell in dict.fromkeys(sgd["cell"]) for lr in sorted(sgd["lr"].unique()) for t in base.lengths_of(sgd)]
    return _join(lines, ["Against Adam at lr 1e-3 (`e4-keras2`), same seeds and data:", "", *base.paired_rows(tests)])


def _counts_by_lr(frame: pd.DataFrame, wilson: bool = True) -> list[str]:
    lengths = base.lengths_of(frame)
    lines = ["| cell | lr | " + " | ".join(f"T={t}" for t in lengths) + " |", "|---|---|" + "---|" * len(lengths)]
    for cell in dict.fromkeys(frame["cell"]):
        for lr in sorted(frame["lr"].unique()):
            lines.append(f"| {cell} | {lr:g} | " + " | ".join(base.count(
                base.by_seed(frame, cell=cell, lr=float(lr), length=t), wilson) for t in lengths) + " |")
    return lines


# ---- E4 ----------------------------------------------------------------------------------------------------------

def _identical(a: pd.DataFrame, b: pd.DataFrame, cell: str) -> bool:
    """Do two runs hold the same models for ``cell``: success and final val_acc equal seed by seed, every length."""
    keys = ["length", "seed"]
    x, y = base.pick(a, cell=cell), base.pick(b, cell=cell)
    both = x[[*keys, "success", "val_acc"]].merge(y[[*keys, "success", "val_acc"]], on=keys)
    return (len(both) == len(x) == len(y) > 0 and bool((both["success_x"] == both["success_y"]).all())
            and bool(np.allclose(both["val_acc_x"], both["val_acc_y"], atol=1e-6)))


def _framework_counts(frames: dict[str, pd.DataFrame]) -> list[str]:
    lengths = sorted({t for f in frames.values() for t in base.lengths_of(f)})
    lines = ["| framework | cell | " + " | ".join(f"T={t}" for t in lengths) + " |", "|---|---|" + "---|" * len(lengths)]
    for flavor, frame in frames.items():
        for cell in CELLS:
            lines.append(f"| {flavor} | {cell} | " + " | ".join(
                base.count(base.by_seed(frame, cell=cell, length=t)) for t in lengths) + " |")
    return lines


def _e4(runs: Path, suffix: str, data: str) -> tuple[dict[str, pd.DataFrame], list[list[str]], list[str]]:
    """E4's counts, the frameworks against Keras 2 and the cells against each other within each framework, from
    the runs ``e4-<flavour><suffix>``: (frames, parts, notes)."""
    frames = {f: base.load(runs, f"v2/e4-{f}{suffix}") for f in FLAVORS}
    notes = [base.missing(f"v2/e4-{f}{suffix}") for f, frame in frames.items() if frame is None]
    frames = {f: frame for f, frame in frames.items() if frame is not None}
    if not frames:
        return frames, [], notes
    out = [[f"Success per framework, 100 seeds, {data} [Wilson 95%]:", "", *_framework_counts(frames)]]
    if "keras2" in frames and len(frames) > 1:
        tests, same = [], []
        for other in (f for f in FLAVORS if f in frames and f != "keras2"):
            for cell in CELLS:
                identical = _identical(frames["keras2"], frames[other], cell)
                if identical:
                    same.append(f"{other} {cell}")
                for t in base.lengths_of(frames["keras2"]):
                    a = base.by_seed(frames["keras2"], cell=cell, length=t)
                    b = (f"identical to keras2 (same cell, same init): {base.count(a, wilson=False)}" if identical else
                         base.by_seed(frames[other], cell=cell, length=t))
                    tests.append((f"{cell}, T={t}: keras2 vs {other}", a, b))
        note = (f" The {', '.join(same)} models are the Keras 2 ones seed by seed (success and final val_acc equal): "
                "not a replication, and left out of the tests." if same else "")
        out.append([f"Between frameworks, the same seed index and data (the initialisations differ by framework).{note}",
                    "", *base.paired_rows(tests)])
    tests = [(f"{flavor}, T={t}: {NAMES[a]} vs {NAMES[b]}", base.by_seed(frame, cell=a, length=t),
              base.by_seed(frame, cell=b, length=t))
             for flavor, frame in frames.items() for t in base.lengths_of(frame)
             for a, b in (("gru", "lstm"), ("gru", "srnn"), ("lstm", "srnn"))]
    out.append(["Within each framework, cell against cell (same seeds and data):", "", *base.paired_rows(tests)])
    return frames, out, notes


def e4(runs: Path) -> str:
    frames, out, notes = _e4(runs, "", "one dataset per length shared by the seeds")
    return _join(*out, notes)


def e4_perseed(runs: Path) -> str:
    """E4 from the runs with one dataset per seed (v2's E4 and E1 headline), the primary test first."""
    frames, out, notes = _e4(runs, "-perseed", "each seed its own dataset (`--data per-seed`)")
    if "keras2" in frames:
        k2 = frames["keras2"]
        tests = [(f"keras2, T={t}: SimpleRNN vs LSTM", base.by_seed(k2, cell="srnn", length=t),
                  base.by_seed(k2, cell="lstm", length=t)) for t in base.lengths_of(k2)]
        out.insert(1, ["The headline test, Keras 2 SimpleRNN vs LSTM (same seeds and data; the primary comparison, "
                       "its own family):", "", *base.paired_rows(tests)])
    return _join(*out, notes)


# ---- E5 ----------------------------------------------------------------------------------------------------------

E5_PAIRS = (("brc", "srnn"), ("nbrc", "srnn"), ("lstm97", "lstm"), ("cifg", "lstm"), ("janet", "lstm"))
E5_TASKS = {"latch": "v2/e5-latch", "bit relay": "v2/e5-bit-relay"}


def _lr_effect(frame: pd.DataFrame, task: str) -> list[str]:
    """lr 0.1 against lr 1e-3, seed by seed, per cell and length, wide: one row per cell, Holm over the table."""
    lrs = sorted(frame["lr"].unique())
    if len(lrs) < 2:
        return []
    low, high = float(lrs[0]), float(lrs[-1])
    lengths = base.lengths_of(frame)
    cells = list(dict.fromkeys(frame["cell"]))
    results = {(c, t): base.paired(base.by_seed(frame, cell=c, lr=high, length=t),
                                   base.by_seed(frame, cell=c, lr=low, length=t)) for c in cells for t in lengths}
    adjusted = dict(zip(results, base.holm(np.array([r["p_mcnemar"] for r in results.values()]))))
    lines = [f"{task}: lr {high:g} against lr {low:g}, same seeds: successes at {high:g} vs {low:g}, the difference "
             f"[Newcombe 95%] and Holm's p over the table's {len(results)} McNemar tests:", "",
             "| cell | " + " | ".join(f"T={t}" for t in lengths) + " |", "|---|" + "---|" * len(lengths)]
    better, worse = defaultdict(list), defaultdict(list)
    for c in cells:
        row = []
        for t in lengths:
            r, p = results[(c, t)], adjusted[(c, t)]
            row.append(f"{r['successes_a']} vs {r['successes_b']}: {r['diff']:+.2f} [{r['ci_low']:+.2f}, "
                       f"{r['ci_high']:+.2f}], Holm p {base.fmt_p(p)}")
            if p < 0.05:
                (better if r["diff"] > 0 else worse)[c].append(t)
        lines.append(f"| {c} | " + " | ".join(row) + " |")
    said = [f"{c} (T = {', '.join(map(str, ts))})" for c, ts in better.items()]
    lost = [f"{c} (T = {', '.join(map(str, ts))})" for c, ts in worse.items()]
    lines += ["", f"Holm p < 0.05: better at lr {high:g}: {', '.join(said) or 'none'}; worse: {', '.join(lost) or 'none'}."]
    return lines


def e5(runs: Path) -> str:
    out, frames = [], {}
    for task, name in E5_TASKS.items():
        frame = base.load(runs, name)
        if frame is None:
            out.append([base.missing(name)])
            continue
        frames[task] = frame
        lengths = base.lengths_of(frame)
        out.append([f"**{task}** (`{name.split('/')[1]}`), successes k/n:", "", *_counts_by_lr(frame, wilson=False)])
        for lr in sorted(frame["lr"].unique()):
            tests = [(f"T={t}: {a} vs {b}", base.by_seed(frame, cell=a, lr=float(lr), length=t),
                      base.by_seed(frame, cell=b, lr=float(lr), length=t))
                     for a, b in E5_PAIRS if (frame["cell"] == a).any() and (frame["cell"] == b).any() for t in lengths]
            if tests:
                out.append([f"{task}, lr {lr:g}: each literature cell against the framework cell it modifies (same "
                            "seeds and data):", "", *base.paired_rows(tests, f"this table ({task}, lr {lr:g})")])
    chrono = base.load(runs, "v3/janet-chrono")
    if chrono is None:
        out.append([base.missing("v3/janet-chrono")])
    elif "latch" in frames:
        latch, tests = frames["latch"], []
        spec = str(chrono["cell"].iloc[0])
        for lr in sorted(chrono["lr"].unique()):
            for other in ("janet", "lstm"):
                for t in base.lengths_of(chrono):
                    tests.append((f"lr {lr:g}, T={t}: {spec} vs {other}" + (" (b_f = 1)" if other == "janet" else ""),
                                  base.by_seed(chrono, lr=float(lr), length=t),
                                  base.by_seed(latch, cell=other, lr=float(lr), length=t)))
        out.append(["**JANET as published** (`runs/v3/janet-chrono`: chrono initialisation, T_max = 200) against E5's "
                    "JANET at b_f = 1 and the LSTM, latch, same seeds and data:", "", *base.paired_rows(tests)])
    for task, frame in frames.items():
        out.append(_lr_effect(frame, task))
    return _join(*out)


def saturated_gates(runs: Path, name: str, cut: float = 0.02) -> list[str]:
    """Per cell and learning rate: the share of trained models whose gates sit within ``cut`` of 0 or 1 at the
    trained cell's zero-input rest state, from the run's params.npz (as v2's saturated-gates table)."""
    import jax

    from latchjax.analysis.dynamics import rest_jacobian
    from latchjax.core.cells import make_cell
    from latchjax.rundir.files import load_params
    from latchjax.rundir.sweepdir import read_config
    from latchjax.sweep.settings import from_settings

    run = runs / name
    cfg = from_settings(read_config(run))
    params = load_params(run / "params.npz")
    lines = ["| cell | lr | gate: saturated share (all lengths pooled) |", "|---|---|---|"]
    for spec in cfg.cells:
        cell = make_cell(spec, cfg.units, cfg.flavor)
        gates_of = jax.jit(jax.vmap(lambda p, cell=cell: rest_jacobian(cell, p["cell"], 1)[2]))
        per_lr: dict[float, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for length in cfg.lengths:
            gates = {k: np.asarray(v) for k, v in gates_of(params[cell.name][length]).items()}
            n = len(next(iter(gates.values()))) if gates else 0
            for g, values in gates.items():
                if g in ("cell", "candidate", "bistability") or (g == "forget" and cell.kind == "lstm97"):
                    continue  # states, not gates; lstm97's forget gate is the constant 1
                for i, lr in enumerate(np.repeat(cfg.lrs, n // len(cfg.lrs))):
                    per_lr[float(lr)][g].append(values[i] < cut or values[i] > 1 - cut)
        for lr, by_gate in per_lr.items():
            lines.append(f"| {spec} | {lr:g} | " + ", ".join(f"{g} {np.mean(v):.2f}" for g, v in by_gate.items()) + " |")
    return lines


def e5_gates(runs: Path) -> str:
    out = []
    for task, name in E5_TASKS.items():
        if not (runs / name / "params.npz").is_file():
            out.append([base.missing(name)])
            continue
        try:
            out.append([f"{task}:", "", *saturated_gates(runs, name)])
        except Exception as error:  # a damaged or older run: say so, keep the other blocks
            out.append([f"*({name}: saturated gates not computed: {type(error).__name__}: {error})*"])
    return _join(["Share of trained models with each gate within 0.02 of 0 or 1 at the trained cell's zero-input rest "
                  "state (sigmoid gates, Keras 3 flavour), all lengths pooled."], *out)


def blocks(runs: Path) -> dict[str, str]:
    runs = Path(runs)
    return {"v3-e3": e3(runs), "v3-e3-heads": e3_heads(runs), "v3-e3-sgd": e3_sgd(runs), "v3-e4": e4(runs), "v3-e4-perseed": e4_perseed(runs),
            "v3-e5": e5(runs), "v3-e5-gates": e5_gates(runs)}
