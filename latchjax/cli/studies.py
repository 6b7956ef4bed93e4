"""The studies' commands: ``landscape`` (loss surfaces), ``bengio`` (Bengio et al. 1994's latch) and ``guess``
(Hochreiter & Schmidhuber's random weight guessing)."""

from __future__ import annotations

import argparse
import datetime
import io
import json
import platform
import sys
import time

import numpy as np

from latchjax.analysis import landscape
from latchjax.core.stats import wilson_interval
from latchjax.core.vocabulary import SettingsError
from latchjax.rundir import plots
from latchjax.rundir.files import atomic_write, csv_text
from latchjax.rundir.meta import versions
from latchjax.rundir.sweepdir import check_output_dir
from latchjax.studies.bengio import BengioConfig, convergence
from latchjax.studies.guessing import GuessConfig, guess

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
    check_output_dir(args.out, args.force)


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
    atomic_write(args.out / "surface.npz", buf.getvalue())
    paths = plots.draw_landscape(arrays, args.preset, names, args.out, args.format)
    points = grid * grid * len(lengths_done)
    print(f"{points} points in {seconds:.2f} s ({points / seconds:.3g} points/s, compile included)")
    for path in [args.out / "surface.npz", *paths]:
        print(path)
    return 0


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
    check_output_dir(args.out, args.force)
    t0 = time.perf_counter()
    by_length = convergence(cfg)["converged"][:, 0, 0]  # (length, seed)
    grid = convergence(cfg, lengths=(args.grid_length,), w0s=w0s, noises=noises)["converged"][0]  # (w0, noise, seed)
    seconds = time.perf_counter() - t0
    rows = []
    for length, ok in zip(lengths, by_length):
        low, high = wilson_interval(ok.sum(), ok.size)
        rows.append([length, ok.size, int(ok.sum()), f"{ok.mean():.4g}", f"{float(low):.4g}", f"{float(high):.4g}"])
    atomic_write(args.out / "convergence.csv", csv_text(("length", "n", "converged", "freq", "ci_low",
                                                                 "ci_high"), rows))
    grid_rows = [[w0, noise, args.grid_length, grid.shape[-1], int(grid[i, j].sum()), f"{grid[i, j].mean():.4g}"]
                 for i, w0 in enumerate(w0s) for j, noise in enumerate(noises)]
    atomic_write(args.out / "grid.csv", csv_text(("w0", "noise", "length", "n", "converged", "freq"),
                                                         grid_rows))
    settings = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__} | {
        "grid_length": args.grid_length, "w0_grid": list(w0s), "noise_grid": list(noises), "seconds": round(seconds, 2)}
    atomic_write(args.out / "config.json", json.dumps(settings, indent=2, default=list) + "\n")
    paths = plots.draw_bengio(np.asarray(lengths), by_length, np.asarray(w0s), np.asarray(noises), grid, settings,
                        args.out, args.format)
    print(f"{by_length.size + grid.size} latches trained in {seconds:.1f} s")
    for length, row in zip(lengths, rows):
        print(f"T={length:4d}: converged {row[2]}/{row[1]} ({row[3]})")
    for path in [args.out / "convergence.csv", args.out / "grid.csv", *paths]:
        print(path)
    return 0


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
    check_output_dir(args.out, args.force)

    def progress(s: int, trials: int) -> None:
        if not args.quiet:
            print(f"simulation {s + 1}/{cfg.simulations}: "
                  + (f"{trials} trials" if trials else f"unsolved after {cfg.max_trials} guesses"), file=sys.stderr)

    result = guess(cfg, progress)
    rows = [[s, int(t) if t else "", "" if np.isnan(a) else f"{a:.4f}"]
            for s, (t, a) in enumerate(zip(result.trials, result.test_accuracy))]
    atomic_write(args.out / "guess.csv", csv_text(("simulation", "trials", "test_accuracy"), rows))
    summary = result.summary() | {"versions": versions(), "machine": platform.platform(),
                                  "date": datetime.datetime.now().isoformat(timespec="seconds")}
    atomic_write(args.out / "summary.json", json.dumps(summary, indent=2) + "\n")
    mean = summary["mean_trials"]
    print(f"{summary['task']} with {cfg.arch_spec} ({summary['n_params']} weights), lengths {cfg.length}-{cfg.length_max}: "
          f"solved {summary['solved']}/{cfg.simulations}"
          + (f", mean {mean:.1f} trials (median {summary['median_trials']:g}), test accuracy "
             f"{summary['mean_test_accuracy']:.3f}" if mean is not None else "")
          + f"; {summary['guesses_per_second']:.0f} guesses/s")
    for path in (args.out / "guess.csv", args.out / "summary.json"):
        print(path)
    return 0
