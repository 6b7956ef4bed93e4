"""What each ``latchjax`` command does (the parser is :mod:`latchjax.cli`): read the arguments, call the
library, write and print. Bad input raises :class:`~latchjax.settings.SettingsError` (one line, exit 2)
before anything is written.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import math
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils

from latchjax import compare, diagnostics, explain, landscape, plots, runner, store
from latchjax.bengio import BengioConfig, convergence
from latchjax.cells import cell_table
from latchjax.guessing import GuessConfig, guess
from latchjax.progress import SweepProgress
from latchjax.results import wilson_interval
from latchjax.settings import (
    META_KEYS,
    SETTINGS,
    SettingsError,
    load_preset,
    parse_flag,
    presets,
    read_toml,
    resolve,
    to_sweep_config,
)
from latchjax.store import RunDirError, SweepDir

__all__ = ["RunDirError"]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("latchjax", "jax", "jaxlib", "optax", "flax", "numpy", "matplotlib"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def _size(text: str | None, flag: str) -> int | None:
    """``2G``, ``512M``, ``1.5GB`` or a number of bytes."""
    if text is None:
        return None
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    body = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (body[:-1], body[-1]) if body and body[-1] in units else (body, "")
    try:
        value = int(float(number) * units[unit])
    except ValueError:
        raise SettingsError(f"{flag}: expected a size such as 2G, 512M or 1000000, got {text!r}") from None
    if value <= 0:
        raise SettingsError(f"{flag}: must be > 0, got {text!r}")
    return value


def _init_distributed(args: argparse.Namespace) -> tuple[int, int]:
    """Join JAX's multi-process runtime when asked; returns (process index, process count)."""
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if not args.distributed and all(v is None for v in explicit):
        return 0, 1
    if any(v is None for v in explicit) and not all(v is None for v in explicit):
        raise SettingsError("--coordinator, --num-processes and --process-id go together (or use --distributed "
                            "alone on a cluster JAX detects, such as SLURM)")
    if args.resume is None and args.out is None:
        raise SettingsError("--out: a multi-process sweep needs an explicit --out shared by every process")

    kwargs = {} if args.coordinator is None else {"coordinator_address": args.coordinator,
                                                  "num_processes": args.num_processes,
                                                  "process_id": args.process_id}
    try:
        jax.distributed.initialize(**kwargs)
    except (RuntimeError, ValueError) as err:
        raise SettingsError(f"--distributed: {str(err).splitlines()[0]}") from None
    return jax.process_index(), jax.process_count()


def _barrier(name: str, processes: int) -> None:
    """Wait until every process gets here."""
    if processes > 1:
        multihost_utils.sync_global_devices(f"latchjax-{name}")


def _plan_devices(plan, local: list) -> list:
    """The most local devices (<= all) whose count divides every chunk: a resumed run keeps its chunks."""
    size = math.gcd(*(c.size for c in plan))
    count = max(d for d in range(1, len(local) + 1) if size % d == 0)
    return local[:count]


def _open_sweep(args: argparse.Namespace, process: int) -> SweepDir:
    """The run directory of ``args``, locked (process 0), checked and holding ``config.json``: a new sweep's
    settings are resolved and validated, and its plan checked to fit, before anything is written."""
    memory, chunk_models = _size(args.max_memory, "--max-memory"), args.chunk_models
    if chunk_models is not None and chunk_models < 1:
        raise SettingsError(f"--chunk-models: must be >= 1, got {chunk_models}")
    if args.resume is not None:
        given = [f"--{k.replace('_', '-')}" for k in SETTINGS if getattr(args, k) is not None]
        given += [flag for flag, value in (("--preset", args.preset), ("--config", args.config), ("--out", args.out),
                                           ("--max-memory", memory), ("--chunk-models", chunk_models)) if value]
        if given:
            raise SettingsError(f"--resume: takes its settings from {args.resume}/config.json; drop {', '.join(given)}")
        return SweepDir.resume(args.resume) if process == 0 else SweepDir.attach(args.resume)
    if args.preset:
        base, name = load_preset(args.preset), args.preset
    elif args.config:
        base, name = read_toml(args.config), args.config.stem
    else:
        base, name = {}, "custom"
    overrides = {k: parse_flag(s, getattr(args, k)) for k, s in SETTINGS.items() if getattr(args, k) is not None}
    settings = resolve(base, overrides)
    cfg = to_sweep_config(settings)
    plan_args = {"memory": memory or runner.default_memory_budget(), "chunk_models": chunk_models,
                 "devices": len(jax.local_devices())}
    try:
        runner.plan_sweep(cfg, **plan_args)  # refuses, with its estimate, what cannot fit
    except ValueError as err:
        raise SettingsError(str(err)) from None
    out = args.out or Path("runs") / f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    config = {"preset": name, **{k: base[k] for k in META_KEYS if k in base}, **settings,
              "buckets": cfg.length_buckets, "plan": plan_args}
    return SweepDir.create(out, config, args.force) if process == 0 else SweepDir.attach(out)


def cmd_sweep(args: argparse.Namespace) -> int:
    process, processes = _init_distributed(args)
    if not args.no_cache:
        runner.enable_compilation_cache()
    with _open_sweep(args, process) as run:
        _barrier("config", processes)
        config = run.config
        cfg = to_sweep_config(resolve(config, {}), saved=True)
        plan = runner.plan_sweep(cfg, **config["plan"])  # the plan it started with, whatever this machine has
        devices = _plan_devices(plan, jax.local_devices())
        chunks = run.chunk_store((*SETTINGS, "plan"))
        meta: dict[str, Any] = {"versions": _versions(), "backend": jax.default_backend(),
                                "devices": [str(d) for d in devices], "processes": processes,
                                "machine": platform.platform(), "chunks": len(plan),
                                "chunk_models": sorted({c.size for c in plan}),
                                "memory_estimate": runner.plan_memory(cfg, plan, config["plan"]["devices"]),
                                "start": datetime.datetime.now().isoformat(timespec="seconds")}

        def owns(chunk) -> bool:
            return chunk.index % processes == process

        todo = [c for c in plan if owns(c) and not chunks.path(c).is_file()]
        done_before = chunks.finished(plan)
        if done_before and process == 0 and not args.quiet:
            print(f"resuming {run.path}: {done_before} of {len(plan)} chunks already done", file=sys.stderr)
        with SweepProgress.for_plan(todo, cfg.epochs, args.quiet or process != 0) as bar:
            try:
                runner.train_chunks(cfg, plan, chunks, owns, progress=bar, devices=devices)
            except KeyboardInterrupt:
                bar.close()
                print(f"latchjax: interrupted; {chunks.finished(plan)} of {len(plan)} chunks are saved in "
                      f"{run.path / 'chunks'}. Resume with: latchjax sweep --resume {run.path}", file=sys.stderr)
                return 130
        _barrier("trained", processes)
        if process != 0:
            print(f"process {process}: trained its {len(todo)} chunks of {run.path}")
            return 0
        result = runner.collect(cfg, plan, chunks)
        meta |= {"end": datetime.datetime.now().isoformat(timespec="seconds"), "timing": result.timing,
                 "compile_s": round(sum(t["compile_s"] for t in result.timing.values()), 2),
                 "run_s": round(sum(t["run_s"] for t in result.timing.values()), 2)}
        run.finish(result, meta, cfg.threshold,
                   draw=lambda figures: plots.draw_all(result, figures, cfg.threshold, plots.run_title(config), args.format))
    if not args.quiet:
        print(store.summary_text(run.path))
    print(f"results in {run.path}  (compile {meta['compile_s']:.1f} s, training {meta['run_s']:.1f} s)")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    result, config = store.read_run(args.dir)
    for path in plots.draw_all(result, args.dir / "figures", config["threshold"], plots.run_title(config), args.format):
        print(path)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    print(store.summary_text(args.dir))
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    found = presets()
    width = max(map(len, found))
    for name, preset in found.items():
        print(f"{name.ljust(width)}  {preset.get('description', '')}")
    return 0


def cmd_cells(args: argparse.Namespace) -> int:
    if args.units < 1 or args.n_in < 1:
        raise SettingsError(f"--units and --n-in: must be >= 1, got {args.units} and {args.n_in}")
    print(cell_table(args.units, args.n_in))
    return 0


# --- landscape ---------------------------------------------------------------------------------

LATCH_DEFAULTS = {"srnn": (("w_rec", "w_in"), "-3:3", "-3:3"), "lstm": (("b_f", "w_in_c"), "-3:6", "-3:3")}


def _range(text: str, flag: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(":")
    try:
        low, high = float(lo), float(hi)
    except ValueError:
        raise SettingsError(f"{flag}: expected LO:HI with two numbers, got {text!r}") from None
    if not sep or not low < high:
        raise SettingsError(f"{flag}: expected LO:HI with LO < HI, got {text!r}")
    return low, high


def cmd_landscape(args: argparse.Namespace) -> int:
    grid = args.grid if args.grid is not None else (201 if args.preset == "pascanu" else 81)
    if grid < 3:
        raise SettingsError(f"--grid: need at least 3 points per axis, got {grid}")
    if args.preset == "pascanu":
        names, x_text, y_text = ("w", "b"), args.x_range or "0:10", args.y_range or "-10:2"
        if args.steps < 1:
            raise SettingsError(f"--steps: must be >= 1, got {args.steps}")
    else:
        names, x_default, y_default = LATCH_DEFAULTS[args.cell]
        if args.params:
            names = tuple(p.strip() for p in args.params.split(","))
            if len(names) != 2:
                raise SettingsError(f"--params: give exactly two parameters, got {args.params!r}")
            allowed = [n for n, spec in landscape.LATCH_PARAMETERS.items() if args.cell in spec[2]]
            bad = [n for n in names if n not in allowed]
            if bad or names[0] == names[1]:
                raise SettingsError(f"--params: unknown or repeated parameter in {args.params!r} for "
                                    f"{args.cell}; allowed: {', '.join(allowed)}")
        x_text, y_text = args.x_range or x_default, args.y_range or y_default
        try:
            lengths = tuple(int(n) for n in args.lengths.split(","))
        except ValueError:
            raise SettingsError(f"--lengths: expected integers, got {args.lengths!r}") from None
        if min(lengths) < 1:
            raise SettingsError(f"--lengths: every length must be >= 1, got {args.lengths!r}")
    x = np.linspace(*_range(x_text, "--x-range"), grid)
    y = np.linspace(*_range(y_text, "--y-range"), grid)
    store.check_output_dir(args.out, args.force)


    t0 = time.perf_counter()
    if args.preset == "pascanu":
        loss = landscape.pascanu_surface(x, y, steps=args.steps)
        arrays = {"w": x, "b": y, "loss": loss}
        lengths_done = (args.steps,)
    else:
        surface = landscape.latch_surface(args.cell, names, x, y, lengths)
        arrays = {"w": x, "b": y, "loss": surface.loss, "grad_norm": surface.grad_norm,
                  "length": surface.lengths, "names": np.asarray(names)}
        lengths_done = lengths
    seconds = time.perf_counter() - t0
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    store.atomic_write(args.out / "surface.npz", buf.getvalue())
    paths = plots.draw_landscape(arrays, args.preset, names, args.out, args.format)
    points = grid * grid * len(lengths_done)
    print(f"{points} points in {seconds:.2f} s ({points / seconds:.3g} points/s, compile included)")
    for path in [args.out / "surface.npz", *paths]:
        print(path)
    return 0


# --- bengio ------------------------------------------------------------------------------------

def _numbers(text: str, flag: str, kind: type = float) -> tuple:
    try:
        values = tuple(kind(v) for v in text.split(","))
    except ValueError:
        raise SettingsError(f"{flag}: expected comma-separated {kind.__name__}s, got {text!r}") from None
    return values


def cmd_bengio(args: argparse.Namespace) -> int:
    lengths = _numbers(args.lengths, "--lengths", int)
    w0s, noises = _numbers(args.w0_grid, "--w0-grid"), _numbers(args.noise_grid, "--noise-grid")
    if args.grid_length < args.L:
        raise SettingsError(f"--grid-length: must be >= L ({args.L}), got {args.grid_length}")
    if min(noises) < 0:
        raise SettingsError(f"--noise-grid: noise levels must be >= 0, got {args.noise_grid!r}")
    try:
        cfg = BengioConfig(lengths=lengths, seeds=args.seeds, L=args.L, noise=args.noise, w0=args.w0,
                           per_class=args.per_class, epochs=args.epochs, lr=args.lr)
    except ValueError as err:
        raise SettingsError(str(err)) from None
    store.check_output_dir(args.out, args.force)
    t0 = time.perf_counter()
    by_length = convergence(cfg)["converged"][:, 0, 0]  # (length, seed)
    grid = convergence(cfg, lengths=(args.grid_length,), w0s=w0s, noises=noises)["converged"][0]  # (w0, noise, seed)
    seconds = time.perf_counter() - t0
    rows = []
    for length, ok in zip(lengths, by_length):
        low, high = wilson_interval(ok.sum(), ok.size)
        rows.append([length, ok.size, int(ok.sum()), f"{ok.mean():.4g}", f"{float(low):.4g}", f"{float(high):.4g}"])
    store.atomic_write(args.out / "convergence.csv", store.csv_text(("length", "n", "converged", "freq", "ci_low",
                                                                 "ci_high"), rows))
    grid_rows = [[w0, noise, args.grid_length, grid.shape[-1], int(grid[i, j].sum()), f"{grid[i, j].mean():.4g}"]
                 for i, w0 in enumerate(w0s) for j, noise in enumerate(noises)]
    store.atomic_write(args.out / "grid.csv", store.csv_text(("w0", "noise", "length", "n", "converged", "freq"),
                                                         grid_rows))
    settings = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__} | {
        "grid_length": args.grid_length, "w0_grid": list(w0s), "noise_grid": list(noises), "seconds": round(seconds, 2)}
    store.atomic_write(args.out / "config.json", json.dumps(settings, indent=2, default=list) + "\n")
    paths = plots.draw_bengio(np.asarray(lengths), by_length, np.asarray(w0s), np.asarray(noises), grid, settings,
                        args.out, args.format)
    print(f"{by_length.size + grid.size} latches trained in {seconds:.1f} s")
    for length, row in zip(lengths, rows):
        print(f"T={length:4d}: converged {row[2]}/{row[1]} ({row[3]})")
    for path in [args.out / "convergence.csv", args.out / "grid.csv", *paths]:
        print(path)
    return 0


# --- diagnose ----------------------------------------------------------------------------------

def cmd_diagnose(args: argparse.Namespace) -> int:
    result, config = store.read_run(args.dir)
    if not (args.dir / "params.npz").is_file():
        raise SettingsError(f"{args.dir}: no params.npz (made by an older latchjax); re-run the sweep")
    lengths = result.coords["length"]
    length = args.length or max([n for n in lengths if n <= 50] or [min(lengths)])
    if length not in lengths:
        raise SettingsError(f"--length: {length} was not trained in {args.dir}; trained: {lengths}")
    if args.samples < 2:
        raise SettingsError(f"--samples: need at least 2, got {args.samples}")
    cfg = to_sweep_config(resolve(config, {}), saved=True)
    report, y = diagnostics.diagnose_run(result, cfg, store.load_params(args.dir / "params.npz"), length, args.samples)
    if not report:
        raise SettingsError(f"{args.dir}: no cells with saved parameters to diagnose")
    out = args.dir / "diagnostics"
    out.mkdir(exist_ok=True)
    paths = plots.draw_diagnostics(report, y, length, out, args.format)
    np.savez_compressed(out / "gradient_norms.npz", **{k: v["norms"] for k, v in report.items()})
    for name, r in report.items():
        ratio = np.median(r["norms"][:, 0] / np.maximum(r["norms"][:, -1], 1e-30))
        print(f"{name}: T={length}, median ||dL/dh_0|| / ||dL/dh_T|| = {ratio:.3g} "
              f"({int(r['success'].sum())}/{len(r['success'])} models succeeded)")
    for path in [out / "gradient_norms.npz", *paths]:
        print(path)
    return 0


# --- explain, compare -------------------------------------------------------------------------

def cmd_explain(args: argparse.Namespace) -> int:
    result, config = store.read_run(args.dir)
    if not (args.dir / "params.npz").is_file():
        raise SettingsError(f"{args.dir}: no params.npz (made by an older latchjax); re-run the sweep")
    if args.boots < 0:
        raise SettingsError(f"--boots: must be >= 0, got {args.boots}")
    cfg = to_sweep_config(resolve(config, {}), saved=True)
    t0 = time.perf_counter()
    table = explain.explain_run(result, cfg, config["threshold"], store.load_params(args.dir / "params.npz"))
    seconds = time.perf_counter() - t0
    features = explain.feature_names(table)
    if args.features:
        chosen = [f.strip() for f in args.features.split(",")]
        unknown = [f for f in chosen if f not in features]
        if unknown:
            raise SettingsError(f"--features: unknown feature(s) {', '.join(unknown)}; allowed: {', '.join(features)}")
        features = chosen
    rows = [[store._fmt(v) for v in row] for row in zip(*table.values())]
    store.atomic_write(args.dir / "explain.csv", store.csv_text(tuple(table), rows))
    summary = [[store._fmt(v) for v in row] for row in explain.summary_rows(table, features, args.boots)]
    store.atomic_write(args.dir / "explain_summary.csv", store.csv_text(explain.SUMMARY_COLUMNS, summary))
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
            rows = compare.compare_runs(store.read_run(args.dir), store.read_run(other), (str(args.dir), str(other)))
        else:
            result, config = store.read_run(args.dir)
            rows = compare.compare_conditions(result, config["threshold"], args.a, args.b)
    except ValueError as err:
        raise SettingsError(str(err)) from None
    text_rows = [[str(store._fmt(v)) for v in row] for row in rows]
    print(compare.format_table(text_rows))
    if args.csv:
        store.atomic_write(args.csv, store.csv_text(compare.COLUMNS, text_rows))
        print(args.csv)
    return 0


# --- guess -------------------------------------------------------------------------------------

def cmd_guess(args: argparse.Namespace) -> int:
    options = []
    for text in args.task_option:
        key, sep, value = text.partition("=")
        try:
            options.append((key.strip(), float(value)))
        except ValueError:
            raise SettingsError(f"--task-option: expected KEY=NUMBER, got {text!r}") from None
        if not sep:
            raise SettingsError(f"--task-option: expected KEY=NUMBER, got {text!r}")
    try:
        cfg = GuessConfig(task=args.task, arch=args.arch, simulations=args.simulations, length=args.length,
                          length_max=args.length_max, train=args.train, test=args.test, max_trials=args.max_trials,
                          batch=args.batch, seed=args.seed, options=tuple(options))
    except ValueError as err:
        raise SettingsError(str(err)) from None
    store.check_output_dir(args.out, args.force)

    def progress(s: int, trials: int) -> None:
        if not args.quiet:
            print(f"simulation {s + 1}/{cfg.simulations}: "
                  + (f"{trials} trials" if trials else f"unsolved after {cfg.max_trials} guesses"), file=sys.stderr)

    result = guess(cfg, progress)
    rows = [[s, int(t) if t else "", "" if np.isnan(a) else f"{a:.4f}"]
            for s, (t, a) in enumerate(zip(result.trials, result.test_accuracy))]
    store.atomic_write(args.out / "guess.csv", store.csv_text(("simulation", "trials", "test_accuracy"), rows))
    summary = result.summary() | {"versions": _versions(), "machine": platform.platform(),
                                  "date": datetime.datetime.now().isoformat(timespec="seconds")}
    store.atomic_write(args.out / "summary.json", json.dumps(summary, indent=2) + "\n")
    mean = summary["mean_trials"]
    print(f"{summary['task']} with {cfg.arch_spec} ({summary['n_params']} weights), lengths {cfg.length}-{cfg.length_max}: "
          f"solved {summary['solved']}/{cfg.simulations}"
          + (f", mean {mean:.1f} trials (median {summary['median_trials']:g}), test accuracy "
             f"{summary['mean_test_accuracy']:.3f}" if mean is not None else "")
          + f"; {summary['guesses_per_second']:.0f} guesses/s")
    for path in (args.out / "guess.csv", args.out / "summary.json"):
        print(path)
    return 0
