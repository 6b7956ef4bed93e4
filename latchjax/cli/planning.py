"""``latchjax plan-seeds``: how many seeds a comparison of two success probabilities needs, before the sweep runs.

Unpaired (two independent groups of seeds): :func:`~latchjax.core.stats.seeds_unpaired`. Paired (the same seeds in
both conditions, as ``latchjax compare`` pairs them): McNemar's test needs the discordant probabilities, given as
``--discordant`` (with ``--p1``, ``--p2``) or as ``--p10`` and ``--p01``; the count is the fewest pairs at which the
exact test ``compare`` runs reaches the power (:func:`~latchjax.core.stats.seeds_paired_exact`), beside Connor's
normal approximation (:func:`~latchjax.core.stats.seeds_paired`).
"""

from __future__ import annotations

import argparse

from latchjax.core.stats import mcnemar_exact_power, seeds_paired, seeds_paired_exact, seeds_unpaired
from latchjax.core.vocabulary import SettingsError


def add_plan_seeds(sub) -> None:
    """The ``plan-seeds`` command and its flags."""
    plan = sub.add_parser("plan-seeds", help="seeds per arm to detect p1 vs p2 with a given power (unpaired, or "
                          "paired with --paired: McNemar, as `latchjax compare` tests)")
    plan.add_argument("--p1", type=float, metavar="P", help="success probability of condition A")
    plan.add_argument("--p2", type=float, metavar="P", help="success probability of condition B")
    plan.add_argument("--paired", action="store_true", help="the same seeds in both conditions (McNemar's test)")
    plan.add_argument("--discordant", type=float, metavar="PSI", help="with --paired: the probability that a seed's "
                      "two models disagree (one succeeds, the other fails)")
    plan.add_argument("--p10", type=float, metavar="P", help="with --paired, instead of --discordant: P(A succeeds, "
                      "B fails)")
    plan.add_argument("--p01", type=float, metavar="P", help="with --paired, instead of --discordant: P(A fails, "
                      "B succeeds)")
    plan.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default: 0.05)")
    plan.add_argument("--power", type=float, default=0.8, help="the power to reach (default: 0.8)")
    plan.set_defaults(func=cmd_plan_seeds)


# above this many pairs the exact search (quadratic in n: ~2 s at 4,400 pairs) is skipped; there the normal
# approximation is within a few percent of it (measured: 4,315 vs 4,407 pairs for p10 = 0.1, p01 = 0.12)
EXACT_LIMIT = 5000


def _probability(args: argparse.Namespace, name: str, zero: bool = False) -> float | None:
    """``args.<name>``, checked to lie in (0, 1) (``zero``: [0, 1)); None if not given."""
    value = getattr(args, name)
    if value is not None and not ((0 <= value < 1) if zero else (0 < value < 1)):
        raise SettingsError(f"must be in {'[0' if zero else '(0'}, 1), got {value}", name)
    return value


def discordant_cells(args: argparse.Namespace) -> tuple[float, float]:
    """(p10, p01) of a paired plan, from ``--p10 --p01`` or from ``--discordant`` with ``--p1 --p2``: with
    psi the discordant probability and delta = p1 - p2, p10 = (psi + delta) / 2 and p01 = (psi - delta) / 2; the
    2x2 table they imply must have no negative cell: |delta| <= psi <= min(p1 + p2, 2 - p1 - p2)."""
    p1, p2 = args.p1, args.p2
    if args.p10 is not None or args.p01 is not None:
        if args.discordant is not None:
            raise SettingsError("give --discordant or --p10 and --p01, not both", "discordant")
        if args.p10 is None or args.p01 is None:
            raise SettingsError("needs --p10 and --p01 together", "p10" if args.p10 is None else "p01")
        p10, p01 = _probability(args, "p10", zero=True), _probability(args, "p01", zero=True)
        if p10 == p01:
            raise SettingsError(f"equals --p01 ({p01}): no difference to detect", "p10")
        if p10 + p01 > 1:
            raise SettingsError(f"--p10 + --p01 must be at most 1, got {p10 + p01:g}", "p01")
        if p1 is not None and p2 is not None and abs((p1 - p2) - (p10 - p01)) > 1e-9:
            raise SettingsError(f"--p10 - --p01 = {p10 - p01:g} must equal --p1 - --p2 = {p1 - p2:g}", "p01")
        return p10, p01
    if args.discordant is None:
        raise SettingsError("needs the discordant probability: --discordant (with --p1, --p2) or --p10 and --p01",
                            "paired")
    if p1 is None or p2 is None:
        raise SettingsError("needs --p1 and --p2", "discordant")
    psi, delta = args.discordant, p1 - p2
    most = min(p1 + p2, 2 - p1 - p2)
    if not abs(delta) <= psi <= most or psi <= 0:
        raise SettingsError(f"must be in [|p1 - p2|, min(p1 + p2, 2 - p1 - p2)] = [{abs(delta):g}, {most:g}] (and "
                            f"> 0) for p1 = {p1:g}, p2 = {p2:g}, got {psi:g}", "discordant")
    return (psi + delta) / 2, (psi - delta) / 2


def cmd_plan_seeds(args: argparse.Namespace) -> int:
    for name in ("alpha", "power"):
        _probability(args, name)
    for name in ("p1", "p2"):
        _probability(args, name)
    if args.p1 is not None and args.p1 == args.p2:
        raise SettingsError(f"equals --p2 ({args.p2}): no difference to detect", "p1")
    level = f"two-sided alpha = {args.alpha:g}, power = {args.power:g}"
    if not args.paired:
        for name in ("discordant", "p10", "p01"):
            if getattr(args, name) is not None:
                raise SettingsError("only with --paired", name)
        for name in ("p1", "p2"):
            if getattr(args, name) is None:
                raise SettingsError("required (the success probability of each condition)", name)
        n = seeds_unpaired(args.p1, args.p2, args.alpha, args.power)
        print(f"seeds per arm: {n}")
        print(f"  unpaired (two independent groups of seeds): p1 = {args.p1:g} vs p2 = {args.p2:g}; {level}")
        print("  normal approximation to the two-proportion z test, variance pooled under H0 (Fleiss, Levin & Paik "
              "2003, eq. 4.14; no continuity correction)")
        print("  the same seeds in both conditions (latchjax compare) may need fewer: --paired --discordant PSI")
        return 0
    p10, p01 = discordant_cells(args)
    approx = seeds_paired(p10, p01, args.alpha, args.power)
    cells = (f"  paired: p10 = P(A succeeds, B fails) = {p10:g}, p01 = P(A fails, B succeeds) = {p01:g} (discordant "
             f"{p10 + p01:g}); {level}")
    if approx > EXACT_LIMIT:
        print(f"seeds per arm: {approx} (pairs: each seed trained in both conditions)")
        print(cells)
        print(f"  Connor's (1987) normal approximation to McNemar's test; the exact test latchjax compare runs needs "
              f"slightly more (not searched above {EXACT_LIMIT:,} pairs)")
        return 0
    exact = seeds_paired_exact(p10, p01, args.alpha, args.power)
    print(f"seeds per arm: {exact} (pairs: each seed trained in both conditions)")
    print(cells)
    print(f"  McNemar's exact test (what latchjax compare runs) reaches power "
          f"{mcnemar_exact_power(exact, p10, p01, args.alpha):.3f} at {exact} pairs; Connor's (1987) normal "
          f"approximation says {approx} (exact power there {mcnemar_exact_power(approx, p10, p01, args.alpha):.3f})")
    return 0
