"""Rebuild the tables and the lambda figure of docs/FINDINGS.md (v2) from saved runs.

    for p in e2-lambda e3-aligned e3-reversed e3-head-sigmoid e3-sgd e5-latch e5-bit-relay e7-controls e7-wide e4-keras2 e4-keras3 e4-torch; do
        latchjax sweep --preset findings/v2/$p --out runs/v2/$p
        latchjax explain runs/v2/$p
    done
    for f in keras2 keras3 torch; do    # the headline: every repeat with its own dataset
        latchjax sweep --preset findings/v2/e4-$f --data per-seed --out runs/v2/e4-$f-perseed
        latchjax explain runs/v2/e4-$f-perseed
    done
    bash experiments/findings/v2/e6_update_bit_relay.sh runs/v2/e6
    latchjax sweep --preset update-latch --out runs/v2/e6-update-latch
    python experiments/findings/v2/dataset_variance.py runs/v2/dataset-variance
    python experiments/findings/v2/make_v2.py runs/v2 figures > runs/v2/tables.md

Prints markdown tables (success counts with Wilson intervals, paired comparisons with McNemar's exact
p and Newcombe's interval, AUCs of the initial features) and draws ``figures/findings_lambda.png``:
success frequency against the rest-state eigenvalue at initialisation, every cell and flavour on one
axis. Nothing is trained here; every number is read from the runs' files.
"""

from __future__ import annotations

import csv
import functools
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latchjax.core.cells import uses_forget_bias  # noqa: E402
from latchjax.core.stats import paired_comparison  # noqa: E402
from latchjax.sweep.results import wilson_interval  # noqa: E402

LENGTHS = (20, 50, 100, 200)
FLAVORS = ("keras2", "keras3", "torch")
LAMBDA_BINS = np.array([0.0, 0.5, 0.7, 0.8, 0.9, 0.97, 1.03, 1.1, 1.25, 1.5, 2.5])


def read(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


uses_forget_bias = functools.cache(uses_forget_bias)  # called once per row of thousands


def explain_rows(run: Path) -> list[dict]:
    """The rows of a run's explain.csv, numbers parsed. A cell without a forget gate appears once per
    forget-bias value of the run (the same model repeated); only its first copy is kept."""
    rows, seen = [], set()
    for r in read(run / "explain.csv"):
        r["success"] = r["success"] in ("True", "1", "true")
        for key in ("lambda0", "proto_acc0", "length", "lr", "forget_bias", "seed"):
            r[key] = float(r[key])
        key = (r["cell"], r["length"], r["lr"], r["seed"], r["forget_bias"] if uses_forget_bias(r["cell"]) else None)
        if key not in seen:
            seen.add(key)
            rows.append(r)
    return rows


def fmt_count(k: int, n: int) -> str:
    lo, hi = wilson_interval(k, n)
    return f"{k}/{n} [{float(lo):.2f}, {float(hi):.2f}]"


def successes(rows: list[dict], **where) -> np.ndarray:
    """Success per seed (ordered by seed) of the rows matching ``where``."""
    pick = [r for r in rows if all(r[k] == v for k, v in where.items())]
    pick.sort(key=lambda r: r["seed"])
    return np.array([r["success"] for r in pick], bool)


def paired_line(label: str, a: np.ndarray, b: np.ndarray) -> str:
    s = paired_comparison(a, b)
    return (f"| {label} | {s['successes_a']}/{s['n']} | {s['successes_b']}/{s['n']} | {s['a_only']} / {s['b_only']} | "
            f"{s['p_mcnemar']:.2g} | {s['diff']:+.2f} [{s['ci_low']:+.2f}, {s['ci_high']:+.2f}] |")


PAIRED_HEADER = ("| comparison | A | B | A only / B only | McNemar p | A − B [Newcombe 95%] |\n"
                 "|---|---|---|---|---|---|")


def e4_tables(runs: Path, suffix: str = "") -> dict[str, list[dict]]:
    names = {f: f"e4-{f}{suffix}" for f in FLAVORS}
    tables = {f: explain_rows(runs / n) for f, n in names.items() if (runs / n / "explain.csv").is_file()}
    if not tables:
        return tables
    data = "each repeat with its own dataset (--data per-seed)" if suffix else "the repeats of a length share its dataset"
    print(f"\n### E4{suffix}: the question under each framework's defaults (100 seeds, {data}; "
          "success k/n [Wilson 95%])\n")
    print("| flavour | cell | " + " | ".join(f"T={t}" for t in LENGTHS) + " |")
    print("|---|---|" + "---|" * len(LENGTHS))
    for flavor, rows in tables.items():
        for cell in ("srnn", "lstm", "gru"):
            counts = [successes(rows, cell=cell, length=float(t)) for t in LENGTHS]
            print(f"| {flavor} | {cell} | " + " | ".join(fmt_count(int(c.sum()), len(c)) for c in counts) + " |")
    print("\n" + PAIRED_HEADER)
    for flavor, rows in tables.items():
        for t in LENGTHS:
            for other in ("lstm", "gru"):
                print(paired_line(f"{flavor}, T={t}: srnn vs {other}", successes(rows, cell="srnn", length=float(t)),
                                  successes(rows, cell=other, length=float(t))))
    if "keras2" in tables and "torch" in tables:
        for cell in ("srnn", "lstm", "gru"):
            for t in LENGTHS:
                print(paired_line(f"{cell}, T={t}: keras2 vs torch (same seed index and data)",
                                  successes(tables["keras2"], cell=cell, length=float(t)),
                                  successes(tables["torch"], cell=cell, length=float(t))))
    return tables


def e1_table(runs: Path, suffix: str = "") -> None:
    print(f"\n### E1{suffix}: how well the initial features predict success (AUC [bootstrap 95%])\n")
    print("| flavour | cell | T | successes | AUC lambda0 | AUC proto_acc0 |")
    print("|---|---|---|---|---|---|")
    for flavor in FLAVORS:
        path = runs / f"e4-{flavor}{suffix}" / "explain_summary.csv"
        if not path.is_file():
            continue
        by = defaultdict(dict)
        for r in read(path):
            by[(r["cell"], int(float(r["length"])))][r["feature"]] = r
        for (cell, length), feats in by.items():
            cells = []
            for feature in ("lambda0", "proto_acc0"):
                r = feats.get(feature)
                cells.append("-" if r is None or r["auc"] in ("", "nan") else
                             f"{float(r['auc']):.2f} [{float(r['ci_low']):.2f}, {float(r['ci_high']):.2f}]")
            any_row = next(iter(feats.values()))
            print(f"| {flavor} | {cell} | {length} | {any_row['successes']}/{any_row['n']} | {cells[0]} | {cells[1]} |")


def e1_alignment_table(runs: Path) -> None:
    """Keras 2 SimpleRNNs (all at lambda0 = 1): success split by the readout's starting orientation."""
    if not (runs / "e4-keras2-perseed" / "explain.csv").is_file():
        return
    rows = [r for r in explain_rows(runs / "e4-keras2-perseed") if r["cell"] == "srnn"]
    print("\n### E1: SimpleRNN(1), Keras 2, per-seed data: success by the readout's starting orientation\n")
    print("| SimpleRNN(1), Keras 2 | " + " | ".join(f"T={t}" for t in LENGTHS) + " |")
    print("|---|" + "---|" * len(LENGTHS))
    for label, pick in (("aligned (`proto_acc0` = 1)", lambda a: a == 1), ("reversed (`proto_acc0` = 0)", lambda a: a == 0)):
        cells = []
        for t in LENGTHS:
            ok = [r["success"] for r in rows if r["length"] == t and pick(r["proto_acc0"])]
            cells.append(f"{sum(ok)}/{len(ok)}")
        print(f"| readout starts {label} | " + " | ".join(cells) + " |")


def family(cell: str) -> str:
    return cell.split(":")[0]


COLORS = {"srnn": "C0", "lstm": "C1", "gru": "C2"}
MARKERS = {"keras2": "o", "keras3": "s", "torch": "^"}


def lambda_groups(runs: Path) -> dict[tuple[str, str], list[dict]]:
    """Every model of the E2 run and the per-seed E4 runs, by (cell family, flavour)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for name in ("e2-lambda", *(f"e4-{f}-perseed" for f in FLAVORS)):
        if (runs / name / "explain.csv").is_file():
            for r in explain_rows(runs / name):
                groups[(family(r["cell"]), r["flavor"])].append(r)
    return groups


def binned(x: np.ndarray, ok: np.ndarray, idx: np.ndarray, n_bins: int, clip=(-np.inf, np.inf)):
    """Per bin: the "k/n" cell of a table, and for bins of >= 5 models the point (median x, k/n) with its
    Wilson error bars."""
    cells, xs, ys, lo, hi = [], [], [], [], []
    for b in range(n_bins):
        sel = idx == b
        n, k = int(sel.sum()), int(ok[sel].sum())
        cells.append(f"{k}/{n}" if n else "")
        if n >= 5:
            low, high = (float(v) for v in wilson_interval(k, n))
            xs.append(float(np.clip(np.median(x[sel]), *clip)))
            ys.append(k / n)
            lo.append(max(0.0, k / n - low))
            hi.append(max(0.0, high - k / n))
    return cells, (xs, ys, [lo, hi])


def lambda_figure(runs: Path, out: Path) -> None:
    """Success frequency against binned lambda0: every model of the E2 and E4 runs, one line per cell
    family and flavour, one panel per length."""
    groups = lambda_groups(runs)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), sharey=True)
    axes = axes.ravel()
    print("\n### E2: success against the rest-state eigenvalue lambda0 (all E2 and E4 models)\n")
    print("| cell | flavour | T | " + " | ".join(f"[{a:g}, {b:g})" for a, b in zip(LAMBDA_BINS[:-1], LAMBDA_BINS[1:]))
          + " |")
    print("|---|---|---|" + "---|" * (len(LAMBDA_BINS) - 1))
    for ax, length in zip(axes, LENGTHS):
        for (fam, flavor), rows in sorted(groups.items()):
            pick = [r for r in rows if r["length"] == length]
            if not pick:
                continue
            lam = np.array([r["lambda0"] for r in pick])
            ok = np.array([r["success"] for r in pick])
            cells, (xs, ys, err) = binned(lam, ok, np.digitize(lam, LAMBDA_BINS) - 1, len(LAMBDA_BINS) - 1)
            print(f"| {fam} | {flavor} | {length} | " + " | ".join(cells) + " |")
            ax.errorbar(xs, ys, yerr=err, color=COLORS.get(fam, "k"), marker=MARKERS.get(flavor, "x"),
                        capsize=2, lw=1, ms=5, label=f"{fam} ({flavor})", alpha=0.85)
        ax.axvline(1.0, color="0.5", ls="--", lw=0.8)
        ax.set_title(f"T = {length}")
        ax.set_xlabel("rest-state eigenvalue at initialisation, lambda0")
        ax.set_xlim(0, 2.0)
        ax.grid(alpha=0.3)
    for ax in axes[::2]:
        ax.set_ylabel("success frequency (Wilson 95%; bins of >= 5 models)")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Latch, one unit, the question's budget: success vs the rest-state eigenvalue at initialisation\n"
                 "(every model of findings/v2/e2-lambda (shared data) and e4-* with --data per-seed)", fontsize=10)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "findings_lambda.png", dpi=120)
    plt.close(fig)


MEMORY_BINS = np.array([-np.inf, -12, -8, -6, -5, -4, -3, -2, -1, -1e-9, np.inf])


def memory_figure(runs: Path, out: Path) -> None:
    """Success against log10(lambda0^T), what is left of the first input after T contracting steps at
    rest, pooled over lengths: one line per cell family and flavour."""
    groups = lambda_groups(runs)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    print("\n### success against log10(lambda0^T), all lengths pooled\n")
    print("| cell | flavour | " + " | ".join(f"({a:g}, {b:g}]" for a, b in zip(MEMORY_BINS[:-1], MEMORY_BINS[1:]))
          + " |")
    print("|---|---|" + "---|" * (len(MEMORY_BINS) - 1))
    for (fam, flavor), rows in sorted(groups.items()):
        memory = np.array([r["length"] * np.log10(max(r["lambda0"], 1e-30)) for r in rows])
        ok = np.array([r["success"] for r in rows])
        idx = np.digitize(memory, MEMORY_BINS, right=True) - 1
        cells, (xs, ys, err) = binned(memory, ok, idx, len(MEMORY_BINS) - 1, clip=(-14, 1))
        print(f"| {fam} | {flavor} | " + " | ".join(cells) + " |")
        ax.errorbar(xs, ys, yerr=err, color=COLORS.get(fam, "k"), marker=MARKERS.get(flavor, "x"), capsize=2,
                    lw=1, ms=5, label=f"{fam} ({flavor})", alpha=0.85)
    ax.axvline(0.0, color="0.5", ls="--", lw=0.8)
    ax.set_xlabel("log10(lambda0^T): the first input's share left after T steps at rest (>= 0: lambda0 >= 1)")
    ax.set_ylabel("success frequency (Wilson 95%)")
    ax.set_xlim(-14.5, 1.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("Latch, one unit, T in {20, 50, 100, 200} pooled (e2-lambda and e4-* per-seed runs)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "findings_lambda_memory.png", dpi=120)
    plt.close(fig)


def e2_table(runs: Path) -> None:
    path = runs / "e2-lambda" / "explain.csv"
    if not path.is_file():
        return
    rows = explain_rows(runs / "e2-lambda")
    print("\n### E2: each intervention (100 seeds; median lambda0 at init)\n")
    print("| cell | b_f | median lambda0 | " + " | ".join(f"T={t}" for t in LENGTHS) + " |")
    print("|---|---|---|" + "---|" * len(LENGTHS))
    keys = sorted({(r["cell"], r["forget_bias"]) for r in rows}, key=lambda k: (family(k[0]), k[0], k[1]))
    for cell, fb in keys:
        pick = [r for r in rows if r["cell"] == cell and r["forget_bias"] == fb]
        lam = np.median([r["lambda0"] for r in pick])
        counts = [successes(pick, length=float(t)) for t in LENGTHS]
        print(f"| {cell} | {fb:g} | {lam:.3f} | " + " | ".join(f"{int(c.sum())}/{len(c)}" for c in counts) + " |")
    print("\n" + PAIRED_HEADER)
    for t in LENGTHS:
        for fb in (2.5, 3.0):
            print(paired_line(f"T={t}: lstm b_f={fb:g} vs srnn (Keras init)",
                              successes(rows, cell="lstm", forget_bias=fb, length=float(t)),
                              successes(rows, cell="srnn", forget_bias=1.0, length=float(t))))


def e3_table(runs: Path) -> None:
    if not all((runs / f"e3-{h}" / "explain.csv").is_file() for h in ("aligned", "reversed")):
        return
    aligned, reversed_ = explain_rows(runs / "e3-aligned"), explain_rows(runs / "e3-reversed")
    print("\n### E3: the head starts aligned vs reversed (same 100 seeds)\n")
    print(PAIRED_HEADER)
    for cell, fb in (("srnn", 1.0), ("srnn:rec=1.5", 1.0), ("lstm", 1.0), ("lstm", 3.0)):
        for t in LENGTHS:
            where = {"cell": cell, "forget_bias": fb, "length": float(t)}
            label = f"{cell}{' b_f=' + format(fb, 'g') if cell == 'lstm' else ''}, T={t}: aligned vs reversed"
            print(paired_line(label, successes(aligned, **where), successes(reversed_, **where)))


def e3_head_table(runs: Path) -> None:
    """Dense(1) sigmoid vs Dense(2) softmax heads, same seeds and data (e3-head-sigmoid vs e4-keras2),
    overall and split by the Dense(2) model's starting orientation."""
    if not all((runs / n / "explain.csv").is_file() for n in ("e3-head-sigmoid", "e4-keras2")):
        return
    sigmoid, softmax = explain_rows(runs / "e3-head-sigmoid"), explain_rows(runs / "e4-keras2")
    print("\n### E3: Dense(2) softmax vs Dense(1) sigmoid head (same seeds, same data)\n")
    print(PAIRED_HEADER)
    for cell in ("srnn", "lstm", "gru"):
        for t in LENGTHS:
            print(paired_line(f"{cell}, T={t}: Dense(2) vs Dense(1)", successes(softmax, cell=cell, length=float(t)),
                              successes(sigmoid, cell=cell, length=float(t))))
    print("\n| cell | head | aligned starts: successes | reversed starts: successes |\n|---|---|---|---|")
    for cell in ("srnn", "lstm", "gru"):
        for label, rows in (("Dense(2) softmax", softmax), ("Dense(1) sigmoid", sigmoid)):
            pick = [r for r in rows if r["cell"] == cell]
            al = [r["success"] for r in pick if r["proto_acc0"] > 0.5]
            rv = [r["success"] for r in pick if r["proto_acc0"] < 0.5]
            print(f"| {cell} | {label} | {sum(al)}/{len(al)} | {sum(rv)}/{len(rv)} |")


E6_VARIANTS = {"base": "update-bit-relay as is (keras2, 8 units, shuffled split, lr 1e-3, Dense(2), noise 0.1)",
               "keras3": "Keras 3 cells (sigmoid gates, GRU reset_after)", "keras-split": "Keras's validation_split",
               "lr0.01": "lr 0.01", "head-sigmoid": "Dense(1) sigmoid head", "noise0.5": "noise sigma 0.5"}


def e6_table(runs: Path) -> None:
    if not (runs / "e6" / "base" / "summary.csv").is_file():
        return
    print("\n### E6: the asker's Q5 setting (bit relay, 8 units, 10 repeats, 10 epochs) and one change at a time\n")
    print("| setting | cell | T=5 | T=20 | T=50 | T=100 |\n|---|---|---|---|---|---|")
    for name, label in E6_VARIANTS.items():
        path = runs / "e6" / name / "summary.csv"
        if not path.is_file():
            continue
        rows = read(path)
        for cell in ("srnn", "lstm", "gru"):
            by = {int(r["length"]): r for r in rows if r["cell"] == cell}
            print(f"| {label if cell == 'srnn' else ''} | {cell} | " +
                  " | ".join(f"{by[t]['successes']}/{by[t]['n']}" for t in (5, 20, 50, 100)) + " |")


def plain_table(runs: Path, name: str, title: str) -> None:
    path = runs / name / "summary.csv"
    if not path.is_file():
        return
    rows = read(path)
    lengths = sorted({int(r["length"]) for r in rows})
    print(f"\n### {title}\n")
    print("| cell | lr | b_f | " + " | ".join(f"T={t}" for t in lengths) + " |")
    print("|---|---|---|" + "---|" * len(lengths))
    keys = list(dict.fromkeys((r["cell"], r["lr"], r["forget_bias"]) for r in rows))
    first_fb = rows[0]["forget_bias"]  # a cell without a forget gate repeats itself at every forget bias
    keys = [k for k in keys if uses_forget_bias(k[0]) or k[2] == first_fb]
    for cell, lr, fb in keys:
        by = {int(r["length"]): r for r in rows if (r["cell"], r["lr"], r["forget_bias"]) == (cell, lr, fb)}
        print(f"| {cell} | {float(lr):g} | {fb} | " + " | ".join(
            f"{by[t]['successes']}/{by[t]['n']}" for t in lengths) + " |")


def trained_models(config: dict) -> int:
    """Models a run trained (results.csv repeats a cell without a forget gate once per forget bias)."""
    from latchjax.rundir.upgrade import upgrade_config
    from latchjax.sweep.settings import from_settings

    cfg = from_settings(upgrade_config(config))
    per_cell = [len(cfg.forget_biases) if uses_forget_bias(c) else 1 for c in cfg.cells]
    return sum(per_cell) * len(cfg.lengths) * len(cfg.lrs) * cfg.seeds


def saturated_gates(runs: Path, name: str, title: str, cut: float = 0.02) -> None:
    """Per cell and learning rate: the fraction of trained models whose gates sit within ``cut`` of 0
    or 1 at the trained cell's zero-input rest state (saturated: sigmoid' < ~cut, no gradient flows),
    from the run's saved parameters (params.npz)."""

    import jax

    from latchjax.analysis.explain import rest_jacobian
    from latchjax.core.cells import make_cell
    from latchjax.rundir.files import load_params
    from latchjax.rundir.sweepdir import read_config
    from latchjax.sweep.settings import from_settings

    path = runs / name / "params.npz"
    if not path.is_file():
        return
    cfg = from_settings(read_config(runs / name))
    params = load_params(path)
    print(f"\n### {title}: share of trained models with each gate saturated (< {cut} or > {1 - cut}) at rest\n")
    print("| cell | lr | gate: saturated share (all lengths pooled) |")
    print("|---|---|---|")
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
            print(f"| {spec} | {lr:g} | " + ", ".join(f"{g} {np.mean(v):.2f}" for g, v in by_gate.items()) + " |")


def e5_paired(runs: Path, name: str, title: str) -> None:
    """The literature's cells against the framework cell they modify, seed by seed, per learning rate."""
    if not (runs / name / "explain.csv").is_file():
        return
    rows = explain_rows(runs / name)
    lengths = sorted({int(r["length"]) for r in rows})
    print(f"\n### {title}\n")
    print(PAIRED_HEADER)
    for a, b in (("brc", "srnn"), ("nbrc", "srnn"), ("lstm97", "lstm"), ("cifg", "lstm"), ("janet", "lstm")):
        for lr in sorted({r["lr"] for r in rows}):
            for t in lengths:
                print(paired_line(f"lr {lr:g}, T={t}: {a} vs {b}", successes(rows, cell=a, lr=lr, length=float(t)),
                                  successes(rows, cell=b, lr=lr, length=float(t))))


def compute_table(runs: Path) -> None:
    """Models, compile and training seconds of every run, from each run's meta.json and results.csv."""
    import json

    print("\n### Compute (2-core CPU; runs that shared the CPU with other work are upper bounds)\n")
    print("| run | models | compile s | training s | wall s |")
    print("|---|---|---|---|---|")
    total = [0, 0.0, 0.0]
    for meta_path in sorted(runs.glob("*/meta.json")) + sorted(runs.glob("e6/*/meta.json")):
        meta = json.loads(meta_path.read_text())
        models = trained_models(json.loads((meta_path.parent / "config.json").read_text()))
        compile_s = sum(t["compile_s"] for t in meta["timing"].values())
        run_s = sum(t["run_s"] for t in meta["timing"].values())
        from datetime import datetime

        wall = (datetime.fromisoformat(meta["end"]) - datetime.fromisoformat(meta["start"])).total_seconds()
        total = [total[0] + models, total[1] + compile_s, total[2] + run_s]
        print(f"| `{meta_path.parent.relative_to(runs)}` | {models} | {compile_s:.0f} | {run_s:.0f} | {wall:.0f} |")
    print(f"| total | {total[0]} | {total[1]:.0f} | {total[2]:.0f} | |")


def main(runs: Path, out: Path) -> None:
    e4_tables(runs, "-perseed")
    e1_table(runs, "-perseed")
    e1_alignment_table(runs)
    e4_tables(runs)
    e1_table(runs)
    e2_table(runs)
    e3_table(runs)
    e3_head_table(runs)
    plain_table(runs, "e3-sgd", "E3: plain SGD instead of Adam")
    lambda_figure(runs, out)
    memory_figure(runs, out)
    plain_table(runs, "e5-latch", "E5: latch, keras3 flavour")
    plain_table(runs, "e5-bit-relay", "E5: bit relay, keras3 flavour")
    e5_paired(runs, "e5-latch", "E5 latch: each literature cell against the cell it modifies")
    e5_paired(runs, "e5-bit-relay", "E5 bit relay: each literature cell against the cell it modifies")
    saturated_gates(runs, "e5-latch", "E5 latch")
    saturated_gates(runs, "e5-bit-relay", "E5 bit relay")
    e6_table(runs)
    plain_table(runs, "e7-controls", "E7: chrono initialisation, hard_sigmoid vs sigmoid gates")
    plain_table(runs, "e7-wide", "E7: 10 units")
    compute_table(runs)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
