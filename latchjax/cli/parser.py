"""The parser of ``latchjax``: every command's flags, from the settings vocabularies where a command has one."""

from __future__ import annotations

import argparse
from pathlib import Path

from latchjax.cli import listing, runs, studies
from latchjax.cli import sweep as sweep_command
from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.config import SETTINGS

FORMATS = ("png", "svg", "pdf")


class Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: ...)`` only where a flag has a default and its help does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage + message)
        raise SettingsError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="latchjax", description="Long-term memory experiments on recurrent networks, "
                     "trained as one vmapped JAX program per cell.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sweep = sub.add_parser("sweep", help="train a sweep and write results, tables and figures")
    source = sweep.add_mutually_exclusive_group()
    source.add_argument("--preset", help="a preset (see `latchjax presets`)")
    source.add_argument("--config", type=Path, help="a TOML file of settings (same keys as the flags)")
    sweep.add_argument("--out", type=Path, help="results directory (default: runs/<preset>-<timestamp>)")
    sweep.add_argument("--force", action="store_true", help="overwrite an existing results directory")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--no-cache", action="store_true", help="compile every program afresh instead of loading it "
                       "from the compilation cache (~/.cache/latchjax/xla)")
    sweep.add_argument("--format", choices=FORMATS, default="png", help="figure format (default: png)")
    sweep.add_argument("--resume", type=Path, metavar="DIR", help="finish an interrupted sweep in DIR (its settings "
                       "come from DIR/config.json; finished chunks are not trained again)")
    sweep.add_argument("--max-memory", metavar="SIZE", help="cap on the memory one device may use for a chunk, "
                       "e.g. 2G (default: half an accelerator's memory, a quarter of the host's RAM on CPU)")
    sweep.add_argument("--chunk-models", type=int, metavar="N", help="models per chunk instead of --max-memory")
    sweep.add_argument("--distributed", action="store_true", help="one of several processes (jax.distributed, "
                       "e.g. under SLURM): each trains its share of the chunks, process 0 writes the tables")
    sweep.add_argument("--coordinator", metavar="HOST:PORT", help="with --num-processes and --process-id: "
                       "process 0's address, where JAX cannot detect the cluster")
    sweep.add_argument("--num-processes", type=int, help="processes in a --coordinator run")
    sweep.add_argument("--process-id", type=int, help="this process's index in a --coordinator run")
    for s in SETTINGS.values():
        sweep.add_argument(f"--{s.name.replace('_', '-')}", dest=s.name, metavar=s.kind.__name__.upper(),
                           help=f"{s.help} (default unless the preset sets it: {s.shown_default})")
    sweep.set_defaults(func=sweep_command.cmd_sweep)

    plot = sub.add_parser("plot", help="redraw the figures of a results directory (no training)")
    plot.add_argument("dir", type=Path)
    plot.add_argument("--format", choices=FORMATS, default="png")
    plot.set_defaults(func=runs.cmd_plot)

    summary = sub.add_parser("summary", help="print the success-frequency table of a results directory")
    summary.add_argument("dir", type=Path)
    summary.set_defaults(func=runs.cmd_summary)

    land = sub.add_parser("landscape", help="loss surface over two parameters (Pascanu 2013 Fig. 6, or the latch task)",
                          formatter_class=Defaults)
    land.add_argument("--preset", choices=("pascanu", "latch"), required=True,
                      help="pascanu: x_t = w sigmoid(x_{t-1}) + b, E = (sigmoid(x_T) - 0.7)^2; latch: a 1-unit cell")
    land.add_argument("--out", type=Path, required=True, help="output directory")
    land.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    land.add_argument("--cell", choices=("srnn", "lstm"), default="srnn", help="latch: the cell")
    land.add_argument("--params", help="latch: two parameters, e.g. w_rec,w_in (srnn) or b_f,w_in_c (lstm)")
    land.add_argument("--x-range", help="LO:HI of the first parameter (pascanu: w, default 0:10)")
    land.add_argument("--y-range", help="LO:HI of the second parameter (pascanu: b, default -10:2)")
    land.add_argument("--grid", type=int, help="points per axis (default: 201 pascanu, 81 latch)")
    land.add_argument("--steps", type=int, default=50, help="pascanu: the T of x_T")
    land.add_argument("--lengths", default="5,20,50,100,200", help="latch: sequence lengths")
    land.add_argument("--format", choices=FORMATS, default="png")
    land.set_defaults(func=studies.cmd_landscape)

    bengio = sub.add_parser("bengio", help="Bengio et al. 1994's minimal latch: convergence frequency vs length "
                            "(Fig. 2b) and vs initial weight and noise (Fig. 2a)",
                            formatter_class=Defaults)
    bengio.add_argument("--out", type=Path, required=True, help="output directory")
    bengio.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    bengio.add_argument("--lengths", default="5,10,15,20,30,40,50,60,70,80,90,100", help="sequence lengths T")
    bengio.add_argument("--seeds", type=int, default=100, help="trained latches per point")
    bengio.add_argument("--L", type=int, default=3, help="trainable initial inputs per class")
    bengio.add_argument("--noise", type=float, default=0.2, help="std of the noise inputs after the first L")
    bengio.add_argument("--w0", type=float, default=1.25, help="initial recurrent weight")
    bengio.add_argument("--epochs", type=int, default=200, help="full-batch gradient steps")
    bengio.add_argument("--lr", type=float, default=0.01, help="gradient descent step size (on the summed cost)")
    bengio.add_argument("--per-class", type=int, default=50, help="training sequences per class")
    bengio.add_argument("--grid-length", type=int, default=20, help="T of the (w0, noise) grid (Fig. 2a)")
    bengio.add_argument("--w0-grid", default="0.5,0.75,1,1.25,1.5,2,3", help="initial weights of the grid")
    bengio.add_argument("--noise-grid", default="0,0.1,0.2,0.5,1", help="noise levels of the grid")
    bengio.add_argument("--format", choices=FORMATS, default="png")
    bengio.set_defaults(func=studies.cmd_bengio)

    diag = sub.add_parser("diagnose", help="look inside the trained models of a saved run: gradient norms over "
                          "time, state trajectories, SimpleRNN fixed points", formatter_class=Defaults)
    diag.add_argument("dir", type=Path, help="a results directory written by `latchjax sweep`")
    diag.add_argument("--length", type=int, default=0, help="which trained length (default: the longest <= 50)")
    diag.add_argument("--samples", type=int, default=64, help="fresh test sequences per model")
    diag.add_argument("--format", choices=FORMATS, default="png")
    diag.set_defaults(func=runs.cmd_diagnose)

    gs = sub.add_parser("guess", help="Hochreiter & Schmidhuber's random weight guessing: trials until every "
                        "training sequence is classified correctly", formatter_class=Defaults)
    gs.add_argument("--task", required=True, help="latch1, latch2, two_sequence, parity or adding")
    gs.add_argument("--arch", help="latch1, unit, a1[:n=N], a2[:n=N], any cell spec (srnn, lstm, gru, cifg, janet, lstm97, brc, nbrc[:units=K:flavor=F]) "
                    "(default: latch1 for latch1, unit for latch2, a1 otherwise)")
    gs.add_argument("--simulations", type=int, default=40, help="independent searches, each with its own data")
    gs.add_argument("--length", type=int, help="minimal sequence length T (default: 500; 100 for two_sequence, adding)")
    gs.add_argument("--length-max", type=int, help="longest sequence length (default: T + T/5; T + T/10 for "
                    "two_sequence, adding)")
    gs.add_argument("--train", type=int, default=100, help="training sequences (half per class)")
    gs.add_argument("--test", type=int, default=100, help="fresh test sequences for the successful guess")
    gs.add_argument("--max-trials", type=int, default=1_000_000, help="give a simulation up after this many guesses")
    gs.add_argument("--batch", type=int, default=4096, help="most guesses evaluated at once")
    gs.add_argument("--seed", type=int, default=0)
    gs.add_argument("--task-option", action="append", default=[], metavar="KEY=VALUE",
                    help="task option: N (two_sequence: informative first inputs), noise_var (latch1, latch2, "
                    "two_sequence); repeatable")
    gs.add_argument("--out", type=Path, required=True, help="output directory")
    gs.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    gs.add_argument("--quiet", action="store_true")
    gs.set_defaults(func=studies.cmd_guess)

    explain = sub.add_parser("explain", help="per-model features of a saved run (rest-state eigenvalue, readout "
                             "alignment, gates) and how well each predicts success",
                             formatter_class=Defaults)
    explain.add_argument("dir", type=Path, help="a results directory written by `latchjax sweep`")
    explain.add_argument("--features", help="features for explain_summary.csv (comma-separated; default: all)")
    explain.add_argument("--boots", type=int, default=1000, help="bootstrap resamples for the AUC intervals")
    explain.add_argument("--format", choices=FORMATS, default="png")
    explain.set_defaults(func=runs.cmd_explain)

    compare = sub.add_parser("compare", help="paired comparison of two cells, lrs or forget biases of a run "
                             "(DIR A B), or of two runs with the same seeds (DIR_A DIR_B): McNemar and Newcombe")
    compare.add_argument("dir", type=Path, help="a results directory")
    compare.add_argument("a", help="condition A: a cell of DIR, lr=V or forget_bias=V; or a second results directory")
    compare.add_argument("b", nargs="?", help="condition B (omit when comparing two directories)")
    compare.add_argument("--csv", type=Path, metavar="FILE", help="also write the table as CSV")
    compare.set_defaults(func=runs.cmd_compare)

    presets = sub.add_parser("presets", help="list the presets")
    presets.set_defaults(func=listing.cmd_presets)

    cells = sub.add_parser("cells", help="list every cell and flavour: equations, source, parameter count")
    cells.add_argument("--units", type=int, default=1, help="width for the parameter counts")
    cells.add_argument("--n-in", type=int, default=1, help="input features for the parameter counts")
    cells.set_defaults(func=listing.cmd_cells)
    return parser
