"""The ``latchjax`` command line (see ``latchjax --help``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import os

    from latchjax.commands import run

    try:
        return run(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
