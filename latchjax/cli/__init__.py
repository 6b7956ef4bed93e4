"""The ``latchjax`` command line: :mod:`.parser` (``latchjax --help``) over one module per group of commands
(:mod:`.sweep`, :mod:`.runs`, :mod:`.studies`, :mod:`.listing`, :mod:`.planning`).

Errors in user input print one line on stderr, naming the flag, and exit with code 2, before anything is written.
"""

from __future__ import annotations

import os
import signal
import sys

from latchjax.cli.parser import FORMATS, Defaults, build_parser
from latchjax.core.vocabulary import SettingsError
from latchjax.rundir.lock import RunDirError

__all__ = ["FORMATS", "Defaults", "Terminated", "build_parser", "run", "main", "use_every_cpu_core"]


def run(argv: list[str]) -> int:
    """Parse ``argv`` and run its command; bad input is one line on stderr and exit code 2."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SettingsError as err:
        print(f"latchjax: error: {err.as_flag()}", file=sys.stderr)
        return 2
    except RunDirError as err:
        print(f"latchjax: error: {err}", file=sys.stderr)
        return 2


def use_every_cpu_core() -> None:
    """One XLA CPU device per core, unless ``XLA_FLAGS`` says otherwise: the sweep's model axis is then split
    across the cores (``shard_map``), each training its own models. Measured on 2 cores: 1.3x faster for
    LSTM(1), 1.7x for SimpleRNN(1) (benchmarks/RESULTS.md); results are those of one device (a model's
    results do not depend on its chunk). Must run before JAX starts its CPU backend; accelerators unaffected."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags and (os.cpu_count() or 1) > 1:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={os.cpu_count()}".strip()


class Terminated(KeyboardInterrupt):
    """SIGTERM (what SLURM and ``kill`` send), handled like Ctrl-C: chunks are kept and the resume hint printed."""

    exit_code = 143


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def _ignore_signals() -> None:
    """From here on, neither Ctrl-C nor SIGTERM can turn an ended command into a traceback or a signal status."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    use_every_cpu_core()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt as err:  # outside a sweep's chunks (which say how to resume): nothing half-written
        _ignore_signals()
        print("latchjax: interrupted", file=sys.stderr)
        return getattr(err, "exit_code", 130)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        _ignore_signals()
