"""The commands that read a finished run: ``plot``, ``summary``, ``diagnose``, ``explain``, ``compare``.

Each reads and checks the run first (:func:`~latchjax.rundir.sweepdir.read_run`,
:func:`~latchjax.rundir.files.load_params`, :func:`~latchjax.rundir.load.run_settings`: a damaged file is one
line naming it), then checks that every place it writes can be written, then computes, and writes its files
only at the end, each atomically (:func:`~latchjax.rundir.files.write_files`): a command that fails leaves the
run as it was.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from latchjax.analysis import compare, diagnostics, explain, learning
from latchjax.core.tasks.output import task_name
from latchjax.core.vocabulary import SettingsError
from latchjax.rundir import analysis_plots, plots
from latchjax.rundir.claim import own_file
from latchjax.rundir.files import check_destination, csv_text, fmt, load_params, write_files
from latchjax.rundir.load import run_settings
from latchjax.rundir.lock import RunDirError
from latchjax.rundir.sweepdir import read_run
from latchjax.rundir.tables import summary_text
from latchjax.rundir.upgrade import params_path


def rendered(draw: Callable[[Path], list[Path]], out: Path) -> dict[Path, bytes]:
    """The figures ``draw(directory)`` makes, drawn in a temporary directory: ``{out / name: bytes}``, to be
    written into ``out`` with the command's other files."""
    with tempfile.TemporaryDirectory(prefix="latchjax-figures-") as tmp:
        return {out / path.name: path.read_bytes() for path in draw(Path(tmp))}


def cmd_plot(args: argparse.Namespace) -> int:
    result, config = read_run(args.dir)
    out = args.dir / "figures"
    check_destination(out, "plot", directory=True)
    files = rendered(lambda tmp: plots.draw_all(result, tmp, config["threshold"], plots.run_title(config),
                                                args.format), out)
    write_files(files, "plot")
    for path in files:
        print(path)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    print(summary_text(*read_run(args.dir)))
    return 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    result, config = read_run(args.dir)
    lengths = result.coords["length"]
    length = args.length or max([n for n in lengths if n <= 50] or [min(lengths)])
    if length not in lengths:
        raise SettingsError(f"--length: {length} was not trained in {args.dir}; trained: {lengths}")
    if args.samples < 2:
        raise SettingsError(f"--samples: need at least 2, got {args.samples}")
    cfg = run_settings(args.dir, result, config)
    if cfg.output.every or cfg.resolved.varies:
        raise SettingsError(f"diagnose: {args.dir}'s task {task_name(cfg.resolved.task)} declares {cfg.output}"
                            + (" with rows of their own lengths" if cfg.resolved.varies else "")
                            + "; diagnose follows the gradient of one output at the end of fixed-length sequences")
    params = load_params(params_path(args.dir), result, cfg)
    out = args.dir / "diagnostics"
    check_destination(out, "diagnose", directory=True)
    report, y, diagram = diagnostics.diagnose_run(result, cfg, params, length, args.samples)
    if not report:
        raise SettingsError(f"{args.dir}: no cells with saved parameters to diagnose")
    norms = io.BytesIO()
    np.savez_compressed(norms, **{k: v["norms"] for k, v in report.items()})
    files = {out / "gradient_norms.npz": norms.getvalue()}
    files |= rendered(lambda tmp: analysis_plots.draw_diagnostics(report, y, diagram, length, tmp, args.format), out)
    write_files(files, "diagnose")
    for name, r in report.items():
        ratio = np.median(r["norms"][:, 0] / np.maximum(r["norms"][:, -1], 1e-30))
        print(f"{name}: T={length}, median ||dL/dh_0|| / ||dL/dh_T|| = {ratio:.3g} "
              f"({int(r['success'].sum())}/{len(r['success'])} models succeeded)")
    for path in files:
        print(path)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    result, config = read_run(args.dir)
    if args.boots < 0:
        raise SettingsError(f"--boots: must be >= 0, got {args.boots}")
    cfg = run_settings(args.dir, result, config)
    params = load_params(params_path(args.dir), result, cfg)
    tables = [args.dir / "explain.csv", args.dir / "explain_summary.csv"]
    snapshots = None
    if args.dynamics and (args.dir / "snapshots.npz").is_file():
        snapshots = load_params(args.dir / "snapshots.npz")
        tables.append(args.dir / "dynamics.csv")
    for path in tables:
        check_destination(path, "explain")
    check_destination(args.dir / "figures", "explain", directory=True)
    t0 = time.perf_counter()
    extra = learning.dynamics_features(result, cfg, params) if args.dynamics else None
    table = explain.explain_run(result, cfg, config["threshold"], params, extra)
    seconds = time.perf_counter() - t0
    features = explain.feature_names(table)
    if args.features is not None:
        chosen = [f.strip() for f in args.features.split(",")]
        if not all(chosen):
            raise SettingsError(f"--features: empty feature name in {args.features!r}; allowed: {', '.join(features)}")
        if len(set(chosen)) < len(chosen):
            raise SettingsError(f"--features: duplicates in {args.features!r}")
        unknown = [f for f in chosen if f not in features]
        if unknown:
            raise SettingsError(f"--features: unknown feature(s) {', '.join(unknown)}; allowed: {', '.join(features)}")
        features = chosen
    rows = [[fmt(v) for v in row] for row in zip(*table.values())]
    summary = [[fmt(v) for v in row] for row in explain.summary_rows(table, features, args.boots)]
    files: dict[Path, bytes | str] = {tables[0]: csv_text(tuple(table), rows),
                                      tables[1]: csv_text(explain.SUMMARY_COLUMNS, summary)}
    if snapshots is not None:
        columns, dyn_rows = learning.dynamics_rows(result, cfg, snapshots)
        files[tables[2]] = csv_text(tuple(columns), [[fmt(v) for v in row] for row in dyn_rows])
    files |= rendered(lambda tmp: analysis_plots.draw_explain(table, tmp, args.format, plots.run_title(config)),
                      args.dir / "figures")
    write_files(files, "explain")
    print(f"{len(rows)} models explained in {seconds:.2f} s (compile included)")
    print("\n".join(explain.overview(table)))
    for path in files:
        print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    if args.csv:
        if args.csv.is_dir():
            raise SettingsError(f"--csv: {args.csv} is a directory; give a file name")
        if not args.csv.parent.is_dir():
            raise SettingsError(f"--csv: no such directory {args.csv.parent}")
        if own_file(args.csv) is not None:
            raise SettingsError(f"--csv: {args.csv} is a file of a latchjax {own_file(args.csv)} run; "
                                "choose another name")
        try:
            check_destination(args.csv, "compare")
        except RunDirError as err:
            raise SettingsError(f"--csv: {err}") from None
    try:
        if args.b is None:
            other = Path(args.a)
            if not other.is_dir():
                raise SettingsError(f"compare: give DIR A B (two conditions of one run) or DIR_A DIR_B; "
                                    f"{args.a!r} is not a directory")
            if other.resolve() == args.dir.resolve():
                raise SettingsError(f"compare: {args.dir} and {args.a} are the same run; give two runs, or one run "
                                    "and two of its conditions (DIR A B)")
            rows = compare.compare_runs(read_run(args.dir), read_run(other), (str(args.dir), str(other)))
        else:
            result, config = read_run(args.dir)
            rows = compare.compare_conditions(result, config["threshold"], args.a, args.b)
    except ValueError as err:
        raise SettingsError(str(err)) from None
    text_rows = [[str(fmt(v)) for v in row] for row in rows]
    print(compare.format_table(text_rows))
    if args.csv:
        write_files({args.csv: csv_text(compare.COLUMNS, text_rows)}, "compare")
        print(args.csv)
    return 0
