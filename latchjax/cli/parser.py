"""The parser of ``latchjax``: every command's flags. A command with a config (the sweep, ``landscape``,
``bengio``, ``guess``) gets one flag per setting its config declares (:func:`add_settings`); the flags of
writing a directory and of reading a run are declared once (:func:`add_output`, :func:`add_run_dir`)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from latchjax.analysis.landscape import LandscapeConfig
from latchjax.cli import listing, planning, runs, studies
from latchjax.cli import sweep as sweep_command
from latchjax.core.vocabulary import Setting, SettingsError, flag, settings_of
from latchjax.studies.bengio import BengioConfig
from latchjax.studies.guessing import GuessConfig
from latchjax.sweep.settings import SETTINGS

FORMATS = ("png", "svg", "pdf")


class Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: ...)`` only where a flag has a default and its help does not already say it (an on/off
    flag's ``False`` is not shown)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    commands: dict[str, argparse.ArgumentParser]  # latchjax's: the parser of each command

    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage + message)
        raise SettingsError(message)


class Once(argparse.Action):
    """A flag that may be given once: a second ``--cells`` would silently replace the first."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        previous = getattr(namespace, self.dest, None)
        if previous is not None and previous != self.default:
            raise SettingsError(f"{option_string}: given twice ({previous!s} and {values!s}); give it once "
                                "(several values are comma-separated)")
        setattr(namespace, self.dest, values)


def add_settings(parser: argparse.ArgumentParser, settings: Mapping[str, Setting],
                 default_text: str = "default") -> None:
    """One flag per setting (``--per-class`` for ``per_class``), its text kept as typed: the command parses it
    with the setting (:meth:`~latchjax.core.vocabulary.Setting.parse`), so that every message names the flag.
    ``--help`` shows each default once, as ``(default_text: shown default)``."""
    for s in settings.values():
        switch = {"nargs": "?", "const": "true"} if s.kind is bool else {}  # --stop-at-success alone: true
        parser.add_argument(flag(s.name), dest=s.name, metavar=s.metavar or s.kind.__name__.upper(),
                            required=s.required, action="append" if s.repeatable else Once, **switch,
                            help=s.help if s.required else f"{s.help} ({default_text}: {s.shown_default})")


def add_output(parser: argparse.ArgumentParser, figures: bool = True, quiet: bool = False,
               default: str | None = None) -> None:
    """The flags of a command that writes a directory: ``--out`` (required unless it has a ``default``) and
    ``--force``; ``--format`` where it draws ``figures``; ``--quiet`` where it shows progress."""
    parser.add_argument("--out", type=Path, required=default is None, action=Once,
                        help="output directory" + (f" (default: {default})" if default else ""))
    parser.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    if quiet:
        parser.add_argument("--quiet", action="store_true", help="no progress output")
    if figures:
        add_format(parser)


def add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="png", help="figure format (default: png)")


def add_run_dir(parser: argparse.ArgumentParser, figures: bool = False) -> None:
    """The positional ``dir`` of a command that reads a run (and ``--format`` where it draws ``figures``)."""
    parser.add_argument("dir", type=Path, help="a results directory written by `latchjax sweep`")
    if figures:
        add_format(parser)


def build_parser() -> _Parser:
    parser = _Parser(prog="latchjax", description="Long-term memory experiments on recurrent networks, "
                     "trained as one vmapped JAX program per cell.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sweep = sub.add_parser("sweep", help="train a sweep and write results, tables and figures")
    source = sweep.add_mutually_exclusive_group()
    source.add_argument("--preset", help="a preset (see `latchjax presets`)")
    source.add_argument("--config", type=Path, help="a TOML file of settings (same keys as the flags)")
    add_output(sweep, quiet=True, default="runs/<preset>-<timestamp>")
    sweep.add_argument("--no-cache", action="store_true", help="compile every program afresh instead of loading it "
                       "from the compilation cache (~/.cache/latchjax/xla)")
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
    add_settings(sweep, SETTINGS, "default unless the preset sets it")
    sweep.set_defaults(func=sweep_command.cmd_sweep)

    plot = sub.add_parser("plot", help="redraw the figures of a results directory (no training)")
    add_run_dir(plot, figures=True)
    plot.set_defaults(func=runs.cmd_plot)

    summary = sub.add_parser("summary", help="print the success-frequency table of a results directory")
    add_run_dir(summary)
    summary.set_defaults(func=runs.cmd_summary)

    land = sub.add_parser("landscape", help="loss surface over two parameters (Pascanu 2013 Fig. 6, or the latch task)",
                          formatter_class=Defaults)
    add_settings(land, settings_of(LandscapeConfig))
    add_output(land)
    land.set_defaults(func=studies.cmd_landscape)

    bengio = sub.add_parser("bengio", help="Bengio et al. 1994's minimal latch: convergence frequency vs length "
                            "(Fig. 2b) and vs initial weight and noise (Fig. 2a)",
                            formatter_class=Defaults)
    add_settings(bengio, settings_of(BengioConfig))
    add_output(bengio)
    bengio.set_defaults(func=studies.cmd_bengio)

    diag = sub.add_parser("diagnose", help="look inside the trained models of a saved run: gradient norms over "
                          "time, state trajectories, SimpleRNN fixed points", formatter_class=Defaults)
    add_run_dir(diag, figures=True)
    diag.add_argument("--length", type=int, default=0, help="which trained length (default: the longest <= 50)")
    diag.add_argument("--samples", type=int, default=64, help="fresh test sequences per model")
    diag.set_defaults(func=runs.cmd_diagnose)

    gs = sub.add_parser("guess", help="Hochreiter & Schmidhuber's random weight guessing: trials until every "
                        "training sequence is classified correctly", formatter_class=Defaults)
    add_settings(gs, settings_of(GuessConfig))
    add_output(gs, figures=False, quiet=True)
    gs.set_defaults(func=studies.cmd_guess)

    explain = sub.add_parser("explain", help="per-model features of a saved run (rest-state eigenvalue, readout "
                             "alignment, gates) and how well each predicts success",
                             formatter_class=Defaults)
    add_run_dir(explain, figures=True)
    explain.add_argument("--features", help="features for explain_summary.csv (comma-separated; default: all)")
    explain.add_argument("--boots", type=int, default=1000, help="bootstrap resamples for the AUC intervals")
    explain.add_argument("--dynamics", action="store_true",
                         help="also: the trained models' stable zero-input fixed points and saddle, the untrained "
                         "models' class separability d' (explain.csv), and with snapshots (sweep --snapshots) lambda "
                         "and the parameters after every round (dynamics.csv)")
    explain.set_defaults(func=runs.cmd_explain)

    compare = sub.add_parser("compare", help="paired comparison of two cells, lrs or forget biases of a run "
                             "(DIR A B), or of two runs with the same seeds (DIR_A DIR_B): McNemar and Newcombe")
    add_run_dir(compare)
    compare.add_argument("a", help="condition A: a cell of DIR, lr=V or forget_bias=V; or a second results directory")
    compare.add_argument("b", nargs="?", help="condition B (omit when comparing two directories)")
    compare.add_argument("--csv", type=Path, metavar="FILE", help="also write the table as CSV")
    compare.set_defaults(func=runs.cmd_compare)

    planning.add_plan_seeds(sub)

    presets = sub.add_parser("presets", help="list the presets")
    presets.set_defaults(func=listing.cmd_presets)

    cells = sub.add_parser("cells", help="list every cell and flavour: equations, source, parameter count")
    cells.add_argument("--units", type=int, default=1, help="width for the parameter counts")
    cells.add_argument("--n-in", type=int, default=1, help="input features for the parameter counts")
    cells.set_defaults(func=listing.cmd_cells)
    parser.commands = sub.choices
    return parser


def command_parser(command: str) -> argparse.ArgumentParser:
    """The parser of one command (``latchjax COMMAND --help`` prints its help)."""
    return build_parser().commands[command]
