"""The studies' commands: ``landscape`` (loss surfaces), ``bengio`` (Bengio et al. 1994's latch) and ``guess``
(Hochreiter & Schmidhuber's random weight guessing).

Each builds its config from the flags (:func:`~latchjax.core.vocabulary.config_of`: every flag is declared on
its config's field, and checked there), checks its ``--out`` before any work, calls the library, writes its files
(:func:`~latchjax.rundir.sweepdir.open_output_dir`) and prints what it wrote.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import io
import json
import platform
import sys
import time

import numpy as np

from latchjax.analysis import landscape
from latchjax.analysis.landscape import LandscapeConfig
from latchjax.core.stats import wilson_interval
from latchjax.core.vocabulary import config_of
from latchjax.rundir import study_plots
from latchjax.rundir.files import atomic_write, csv_text
from latchjax.rundir.meta import versions
from latchjax.rundir.sweepdir import check_output_dir, open_output_dir
from latchjax.studies.bengio import BengioConfig, figure2
from latchjax.studies.guessing import GuessConfig, guess


def cmd_landscape(args: argparse.Namespace) -> int:
    cfg = config_of(LandscapeConfig, vars(args))
    check_output_dir(args.out, args.force, "landscape")
    t0 = time.perf_counter()
    arrays = landscape.evaluate(cfg)
    seconds = time.perf_counter() - t0
    open_output_dir(args.out, "landscape")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(args.out / "surface.npz", buf.getvalue())
    paths = study_plots.draw_landscape(arrays, cfg.preset, cfg.names, args.out, args.format)
    print(f"{cfg.points} points in {seconds:.2f} s ({cfg.points / seconds:.3g} points/s, compile included)")
    for path in [args.out / "surface.npz", *paths]:
        print(path)
    return 0


def cmd_bengio(args: argparse.Namespace) -> int:
    cfg = config_of(BengioConfig, vars(args))
    check_output_dir(args.out, args.force, "bengio")
    t0 = time.perf_counter()
    fig = figure2(cfg)
    seconds = time.perf_counter() - t0
    open_output_dir(args.out, "bengio")
    rows = []
    for length, ok in zip(cfg.lengths, fig.by_length):
        low, high = wilson_interval(ok.sum(), ok.size)
        rows.append([length, ok.size, int(ok.sum()), f"{ok.mean():.4g}", f"{float(low):.4g}", f"{float(high):.4g}"])
    atomic_write(args.out / "convergence.csv", csv_text(("length", "n", "converged", "freq", "ci_low", "ci_high"),
                                                        rows))
    grid = fig.grid
    grid_rows = [[w0, noise, cfg.grid_length, grid.shape[-1], int(grid[i, j].sum()), f"{grid[i, j].mean():.4g}"]
                 for i, w0 in enumerate(cfg.w0_grid) for j, noise in enumerate(cfg.noise_grid)]
    atomic_write(args.out / "grid.csv", csv_text(("w0", "noise", "length", "n", "converged", "freq"), grid_rows))
    settings = dataclasses.asdict(cfg) | {"seconds": round(seconds, 2)}
    atomic_write(args.out / "config.json", json.dumps(settings, indent=2) + "\n")
    paths = study_plots.draw_bengio(np.asarray(cfg.lengths), fig.by_length, np.asarray(cfg.w0_grid),
                              np.asarray(cfg.noise_grid), grid, settings, args.out, args.format)
    print(f"{fig.by_length.size + grid.size} latches trained in {seconds:.1f} s")
    for length, row in zip(cfg.lengths, rows):
        print(f"T={length:4d}: converged {row[2]}/{row[1]} ({row[3]})")
    for path in [args.out / "convergence.csv", args.out / "grid.csv", *paths]:
        print(path)
    return 0


def cmd_guess(args: argparse.Namespace) -> int:
    cfg = config_of(GuessConfig, vars(args))
    check_output_dir(args.out, args.force, "guess")

    def progress(s: int, trials: int) -> None:
        if not args.quiet:
            print(f"simulation {s + 1}/{cfg.simulations}: "
                  + (f"{trials} trials" if trials else f"unsolved after {cfg.max_trials} guesses"), file=sys.stderr)

    result = guess(cfg, progress)
    open_output_dir(args.out, "guess")
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
