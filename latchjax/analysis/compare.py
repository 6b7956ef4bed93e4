"""Paired comparisons of two conditions of one run, or of two runs with the same seeds.

A condition is a cell of the run (``lstm``), a learning rate (``lr=0.01``) or a forget-gate bias
(``forget_bias=1``, alias ``b_f=1``). Models of A and B with the same seed (and the same values of
every other axis) form pairs: repeat ``i`` has the same initialisation key and shuffles in every
cell, lr and bias of a run, and in every run with the same base seed. :func:`compare_conditions` and
:func:`compare_runs` give, per point of the remaining axes, the paired statistics of
:func:`latchjax.core.stats.paired_comparison`, and ``p_holm``: McNemar's p adjusted by Holm's method
(:func:`latchjax.core.stats.holm`) over the lengths of each family -- the rows that share every other key (cell,
lr, forget_bias), i.e. one curve's tests, as a reader scanning a curve for "where do A and B differ" makes them.
"""

from __future__ import annotations

import itertools

import numpy as np

from latchjax.core.stats import PAIRED_COLUMNS, holm, paired_comparison
from latchjax.sweep.results import DIMS, SweepResult

AXES = {"lr": "lr", "forget_bias": "forget_bias", "b_f": "forget_bias"}
KEY_COLUMNS = ("cell", "length", "lr", "forget_bias")
COLUMNS = ("a", "b", *KEY_COLUMNS, *PAIRED_COLUMNS, "p_holm")  # p_holm last: the older columns keep their place
FAMILY = ("a", "b", "cell", "lr", "forget_bias")  # Holm's family: every key but the length


def with_holm(rows: list[list]) -> list[list]:
    """``rows`` (of :data:`COLUMNS` but ``p_holm``) with ``p_holm`` appended: Holm's adjustment of ``p_mcnemar``
    within each family of rows sharing :data:`FAMILY` (the tests at every length of one curve)."""
    at = [COLUMNS.index(k) for k in FAMILY]
    families: dict[tuple, list[int]] = {}
    for i, row in enumerate(rows):
        families.setdefault(tuple(str(row[j]) for j in at), []).append(i)
    p_holm = np.empty(len(rows))
    for members in families.values():
        p_holm[members] = holm([rows[i][COLUMNS.index("p_mcnemar")] for i in members])
    return [[*row, float(p)] for row, p in zip(rows, p_holm)]


def parse_condition(text: str, result: SweepResult) -> tuple[str, int]:
    """``(axis, index)`` of a condition of ``result``: a cell name, ``lr=V`` or ``forget_bias=V``."""
    c = result.coords
    if text in c["cell"]:
        return "cell", c["cell"].index(text)
    name, sep, value = text.partition("=")
    if sep and name in AXES:
        axis = AXES[name]
        try:
            number = float(value)
        except ValueError:
            number = None
        matches = [i for i, v in enumerate(c[axis]) if number is not None and np.isclose(v, number)]
        if matches:
            return axis, matches[0]
        raise ValueError(f"{text!r}: {axis} {value} was not trained; trained: {', '.join(f'{v:g}' for v in c[axis])}")
    raise ValueError(f"{text!r}: not a cell of the run ({', '.join(c['cell'])}) nor lr=V / forget_bias=V")


def compare_conditions(result: SweepResult, threshold: float, a: str, b: str) -> list[list]:
    """Rows of :data:`COLUMNS` comparing conditions ``a`` and ``b`` of one run, one per point of the other
    axes (the compared axis's column is empty)."""
    (axis_a, ia), (axis_b, ib) = parse_condition(a, result), parse_condition(b, result)
    if axis_a != axis_b:
        raise ValueError(f"compare: {a!r} and {b!r} are not values of one axis ({axis_a} vs {axis_b})")
    if ia == ib:
        raise ValueError(f"compare: {a!r} and {b!r} are the same condition")
    dim = DIMS.index(axis_a)
    success = result.success(threshold)
    ok_a, ok_b = np.take(success, ia, axis=dim), np.take(success, ib, axis=dim)
    others = [d for d in DIMS[:4] if d != axis_a]
    rows = []
    for idx in itertools.product(*(range(len(result.coords[d])) for d in others)):
        key = dict(zip(others, (result.coords[d][i] for d, i in zip(others, idx))))
        stats = paired_comparison(ok_a[idx], ok_b[idx])
        rows.append([a, b, *(key.get(k, "") for k in KEY_COLUMNS), *(stats[k] for k in PAIRED_COLUMNS)])
    return with_holm(rows)


def compare_runs(run_a: tuple[SweepResult, dict], run_b: tuple[SweepResult, dict],
                 labels: tuple[str, str] = ("A", "B")) -> list[list]:
    """Rows of :data:`COLUMNS` comparing two runs ``(result, config)`` pair by pair.

    The runs must share seeds (the same base ``seed``); pairs are the seeds both ran, for every cell,
    length, lr and forget bias both have. Cells are matched by name, or, when each run has exactly one
    cell, those two are paired whatever their names.
    """
    (res_a, cfg_a), (res_b, cfg_b) = run_a, run_b
    if cfg_a.get("task", "latch") != cfg_b.get("task", "latch"):
        raise ValueError(f"compare: the runs train different tasks ({cfg_a.get('task', 'latch')} vs "
                         f"{cfg_b.get('task', 'latch')}); their successes do not pair")
    if cfg_a.get("seed") != cfg_b.get("seed"):
        raise ValueError(f"compare: the runs do not share seeds (base seed {cfg_a.get('seed')} vs "
                         f"{cfg_b.get('seed')}); pairs need the same initialisation keys")
    cells = [(n, n) for n in res_a.coords["cell"] if n in res_b.coords["cell"]]
    if not cells and len(res_a.coords["cell"]) == len(res_b.coords["cell"]) == 1:
        cells = [(res_a.coords["cell"][0], res_b.coords["cell"][0])]
    if not cells:
        raise ValueError(f"compare: no cell to pair ({', '.join(res_a.coords['cell'])} vs "
                         f"{', '.join(res_b.coords['cell'])})")
    # (index in A, index in B) of every shared value; NaN (PyTorch's drawn forget bias) matches NaN, and two
    # runs with one forget bias each (each flavour's default, e.g. Keras's 1 and PyTorch's draw) are paired
    common = {d: [(i, j) for i, v in enumerate(res_a.coords[d]) for j, w in enumerate(res_b.coords[d])
                  if np.isclose(v, w, equal_nan=True)] for d in ("length", "lr", "forget_bias")}
    if not common["forget_bias"] and len(res_a.coords["forget_bias"]) == len(res_b.coords["forget_bias"]) == 1:
        common["forget_bias"] = [(0, 0)]
    missing = [d for d, values in common.items() if not values]
    if missing:
        raise ValueError(f"compare: the runs have no {' / '.join(missing)} in common")
    seeds = min(len(res_a.coords["seed"]), len(res_b.coords["seed"]))
    ok_a, ok_b = res_a.success(cfg_a["threshold"]), res_b.success(cfg_b["threshold"])

    info_a, info_b = res_a.cell_info(), res_b.cell_info()

    rows = []
    for (cell_a, cell_b), length, lr, fb in itertools.product(cells, *common.values()):
        ia, ib = res_a.coords["cell"].index(cell_a), res_b.coords["cell"].index(cell_b)
        if fb != common["forget_bias"][0] and not (info_a[ia]["has_forget_bias"] or info_b[ib]["has_forget_bias"]):
            continue  # a cell without a forget gate is the same model at every forget bias: one row
        pick_a = (ia, length[0], lr[0], fb[0])
        pick_b = (ib, length[1], lr[1], fb[1])
        stats = paired_comparison(ok_a[pick_a][:seeds], ok_b[pick_b][:seeds])
        cell = cell_a if cell_a == cell_b else f"{cell_a}|{cell_b}"
        fb_a, fb_b = res_a.coords["forget_bias"][fb[0]], res_b.coords["forget_bias"][fb[1]]
        forget = fb_a if np.isclose(fb_a, fb_b, equal_nan=True) else f"{fb_a:g}|{fb_b:g}"
        rows.append([*labels, cell, res_a.coords["length"][length[0]], res_a.coords["lr"][lr[0]], forget,
                     *(stats[k] for k in PAIRED_COLUMNS)])
    return with_holm(rows)

_P = PAIRED_COLUMNS.index("p_mcnemar") + 1
SHOWN = ("cell", "length", "lr", "forget_bias", *PAIRED_COLUMNS[:_P], "p_holm", *PAIRED_COLUMNS[_P:])


def format_table(rows: list[list[str]]) -> str:
    """The rows of :func:`compare_conditions` / :func:`compare_runs` (as text) as an aligned table, with a
    header line naming A and B and Holm's family (the keys other than the length that the rows fill in: the
    compared axis's column is empty)."""
    picks = [COLUMNS.index(c) for c in SHOWN]
    lines = [list(SHOWN)] + [[row[i] for i in picks] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(SHOWN))]
    family = [k for k in ("cell", "lr", "forget_bias") if rows[0][COLUMNS.index(k)] != ""]
    head = (f"A = {rows[0][0]}, B = {rows[0][1]}; pairs share seeds; a_only: A succeeded and B failed; "
            "p_mcnemar: exact two-sided; p_holm: p_mcnemar adjusted by Holm's method over the lengths at each "
            f"({', '.join(family)}); diff = p_A - p_B with Newcombe's paired 95% interval")
    return "\n".join([head] + ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines])
