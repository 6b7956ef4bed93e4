"""The listing commands: ``presets`` and ``cells`` (every kind and flavour, with equations and sources)."""

from __future__ import annotations

import argparse

from latchjax.core.cells import FLAVORS, KINDS, ZOO_KINDS, RNNCell, ZooCell
from latchjax.core.cells.rnn import MAX_UNITS
from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.settings import presets


def cmd_presets(args: argparse.Namespace) -> int:
    found = presets()
    width = max(map(len, found))
    for name, preset in found.items():
        print(f"{name.ljust(width)}  {preset.get('description', '')}")
    return 0


def cmd_cells(args: argparse.Namespace) -> int:
    if not 1 <= args.units <= MAX_UNITS:
        raise SettingsError(f"must be an integer in [1, {MAX_UNITS}], got {args.units}", "units")
    if not 1 <= args.n_in <= MAX_UNITS:
        raise SettingsError(f"must be an integer in [1, {MAX_UNITS}], got {args.n_in}", "n_in")
    print(cell_table(args.units, args.n_in))
    return 0


def cell_table(units: int = 1, n_in: int = 1) -> str:
    """Every kind and flavour: blocks, parameters (for ``units`` units and ``n_in`` inputs, read-out
    excluded), equations and source; what ``latchjax cells`` prints."""
    lines = [f"flavours (parameters for {units} unit(s), {n_in} input(s); '-': not defined):"]
    lines += [f"  {f.name:7s} {f.gate} gates, {'PyTorch' if f.layout == 'torch' else 'Keras'} init and layout, "
              f"{'PyTorch' if f.layout == 'torch' else 'Keras'}'s Adam; {f.source}" for f in FLAVORS.values()]
    header = ["cell", "blocks", *FLAVORS]
    rows = [header]
    for kind in KINDS.values():
        counts = [str(RNNCell(kind.name, units, f).n_params(n_in)) if f in kind.flavors else "-" for f in FLAVORS]
        rows.append([kind.name, ",".join(kind.blocks["keras"]), *counts])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += [""] + ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows] + [""]
    for kind in KINDS.values():
        lines += [f"{kind.name}: {kind.equations}", f"    source: {kind.source}"]
    return "\n".join(lines + ["", *zoo_table(units, n_in)])


def zoo_table(units: int = 1, n_in: int = 1) -> list[str]:
    """The literature's cells with their own parameters: flavours, parameters, options with the authors' defaults,
    equations, source and the authors' code they were checked against."""
    lines = [f"the memory literature's cells (their authors' init; parameters for {units} unit(s), {n_in} input(s); "
             "options as kind:option=value, defaults the authors'):"]
    for kind in ZOO_KINDS.values():
        options = ", ".join(f"{o.name}={'-' if o.default is None else o.default} ({o.help})" for o in kind.options)
        lines += [f"{kind.name}: {kind.equations}",
                  f"    parameters: {ZooCell(kind.name, units).n_params(n_in)}; flavour: {' or '.join(kind.flavors)}"
                  f"{'; linear in h (associative scan)' if kind.coefficients else ''}",
                  *([f"    options: {options}"] if options else []),
                  *([f"    held as: {kind.parameterisation}"] if kind.parameterisation else []),
                  f"    source: {kind.source}", f"    authors' code: {kind.code}"]
    return lines
