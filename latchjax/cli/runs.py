"""The commands that read a finished run: ``plot``, ``summary``, ``diagnose``, ``explain``, ``compare``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from latchjax.analysis import compare, diagnostics, explain
from latchjax.core.vocabulary import SettingsError
from latchjax.rundir import plots
from latchjax.rundir.files import atomic_write, csv_text, fmt, load_params
from latchjax.rundir.sweepdir import read_run
from latchjax.rundir.tables import summary_text
from latchjax.rundir.upgrade import params_path
from latchjax.sweep.config import from_settings


def cmd_plot(args: argparse.Namespace) -> int:
    result, config = read_run(args.dir)
    for path in plots.draw_all(result, args.dir / "figures", config["threshold"], plots.run_title(config), args.format):
        print(path)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    print(summary_text(*read_run(args.dir)))
    return 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    result, config = read_run(args.dir)
    params = load_params(params_path(args.dir))
    lengths = result.coords["length"]
    length = args.length or max([n for n in lengths if n <= 50] or [min(lengths)])
    if length not in lengths:
        raise SettingsError(f"--length: {length} was not trained in {args.dir}; trained: {lengths}")
    if args.samples < 2:
        raise SettingsError(f"--samples: need at least 2, got {args.samples}")
    cfg = from_settings(config)
    report, y, diagram = diagnostics.diagnose_run(result, cfg, params, length, args.samples)
    if not report:
        raise SettingsError(f"{args.dir}: no cells with saved parameters to diagnose")
    out = args.dir / "diagnostics"
    out.mkdir(exist_ok=True)
    paths = plots.draw_diagnostics(report, y, diagram, length, out, args.format)
    np.savez_compressed(out / "gradient_norms.npz", **{k: v["norms"] for k, v in report.items()})
    for name, r in report.items():
        ratio = np.median(r["norms"][:, 0] / np.maximum(r["norms"][:, -1], 1e-30))
        print(f"{name}: T={length}, median ||dL/dh_0|| / ||dL/dh_T|| = {ratio:.3g} "
              f"({int(r['success'].sum())}/{len(r['success'])} models succeeded)")
    for path in [out / "gradient_norms.npz", *paths]:
        print(path)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    result, config = read_run(args.dir)
    params = load_params(params_path(args.dir))
    if args.boots < 0:
        raise SettingsError(f"--boots: must be >= 0, got {args.boots}")
    cfg = from_settings(config)
    t0 = time.perf_counter()
    table = explain.explain_run(result, cfg, config["threshold"], params)
    seconds = time.perf_counter() - t0
    features = explain.feature_names(table)
    if args.features:
        chosen = [f.strip() for f in args.features.split(",")]
        unknown = [f for f in chosen if f not in features]
        if unknown:
            raise SettingsError(f"--features: unknown feature(s) {', '.join(unknown)}; allowed: {', '.join(features)}")
        features = chosen
    rows = [[fmt(v) for v in row] for row in zip(*table.values())]
    atomic_write(args.dir / "explain.csv", csv_text(tuple(table), rows))
    summary = [[fmt(v) for v in row] for row in explain.summary_rows(table, features, args.boots)]
    atomic_write(args.dir / "explain_summary.csv", csv_text(explain.SUMMARY_COLUMNS, summary))
    paths = plots.draw_explain(table, args.dir / "figures", args.format, plots.run_title(config))
    print(f"{len(rows)} models explained in {seconds:.2f} s (compile included)")
    print("\n".join(explain.overview(table)))
    for path in [args.dir / "explain.csv", args.dir / "explain_summary.csv", *paths]:
        print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    if args.csv and not args.csv.parent.is_dir():
        raise SettingsError(f"--csv: no such directory {args.csv.parent}")
    try:
        if args.b is None:
            other = Path(args.a)
            if not other.is_dir():
                raise SettingsError(f"compare: give DIR A B (two conditions of one run) or DIR_A DIR_B; "
                                    f"{args.a!r} is not a directory")
            rows = compare.compare_runs(read_run(args.dir), read_run(other), (str(args.dir), str(other)))
        else:
            result, config = read_run(args.dir)
            rows = compare.compare_conditions(result, config["threshold"], args.a, args.b)
    except ValueError as err:
        raise SettingsError(str(err)) from None
    text_rows = [[str(fmt(v)) for v in row] for row in rows]
    print(compare.format_table(text_rows))
    if args.csv:
        atomic_write(args.csv, csv_text(compare.COLUMNS, text_rows))
        print(args.csv)
    return 0
