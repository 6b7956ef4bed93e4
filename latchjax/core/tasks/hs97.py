"""Hochreiter & Schmidhuber 1997 ("Long Short-Term Memory", Neural Computation 9(8)), section 5: Exp. 1 the
embedded Reber grammar (:data:`reber`), Exp. 2a noise-free long time lags (:data:`long_lag`), Exp. 3a/3b/3c the
2-sequence problem with noise (:data:`two_sequence_3a` ...), Exp. 4 adding (:data:`adding`), Exp. 5 multiplication
(:data:`multiplication`), Exp. 6a/6b temporal order (:data:`temporal_order`, :data:`temporal_order_8`).

A sweep's ``lengths`` play the role of T. H&S draw every sequence's length uniformly in [T, T + T/10] (Exp. 3, 4, 5,
6): the ``spread`` option does so (``spread=0.1``; each row then has its own length, left-padded to
``T + floor(spread T)``); its default, 0, keeps every row at T (one convention for every task here, so that a
sweep's length is the sequences' length). H&S train online (``--data online``) and test on 2560 held-out sequences.
``../shared/SPEC.md`` section 7 has the definitions they follow. The settings and results quoted were checked
against a text of the published paper's section 5 (Tables 2-10; the authors' NIPS 1996 pages at idsia.ch for the
adding problem); what could not be checked is marked *[unverified]* where it is used.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.tasks.bengio94 import two_sequence_at
from latchjax.core.tasks.common import row_lengths, row_steps
from latchjax.core.tasks.output import AbsError, LossRatio, NoErrors, Output, Sequences, TaskSpec

# --- Exp. 4 adding and Exp. 5 multiplication: pairs (value, marker) ---------------------------------------------

# MSE of the memoryless prediction 0.5: Var((X1 + X2) / 4) with Var X2 = 1/3 and X1 := 0 on the 1 row in 10 whose
# first pair is marked (Var X1 = 0.9 / 3): (0.3 + 1/3) / 16 = 19/480 (1/24 if X1 were never zeroed)
ADDING_BASELINE = (0.9 / 3.0 + 1.0 / 3.0) / 16.0
# MSE of the memoryless prediction E[X1 X2]: X1 is U[0, 1], or 1.0 on the 1 row in 10 whose first pair is marked
# (E X1 = 0.55, E X1^2 = 0.4); X2 U[0, 1]: E[X1^2] E[X2^2] - (E X1 E X2)^2 = 0.4 / 3 - 0.275^2
MULTIPLICATION_BASELINE = 0.4 / 3.0 - 0.275**2


def _marked_pairs(key: jax.Array, n: int, length: int, spread: float, low: float, first: float, name: str):
    """H&S's pairs (value U[``low``, 1], marker) at T = ``length``: ``(x, X1, X2, rows)``.

    One of the first 10 pairs is marked (marker 1; its value is X1), then one of the first L/2 - 1 pairs not yet
    marked (X2; L the row's own length). Every other marker is 0, except the first and the last pair's, -1. When the
    first pair is the one marked, its value is set to ``first`` (adding: X1 := 0; multiplication: 1.0 *[unverified]*,
    the neutral element of the product), so the input says so too.
    """
    if length < 10:
        raise ValueError(f"lengths: {name} needs length >= 10 (X1 is marked among the first 10 pairs), got {length}")
    k_value, k_first, k_second = jax.random.split(key, 3)
    rows, width = row_lengths(jax.random.fold_in(key, 1), n, length, spread)
    values = jax.random.uniform(k_value, (n, width), jnp.float32, low, 1.0)
    p1 = jax.random.randint(k_first, (n,), 0, 10)
    half = length // 2 - 1 if rows is None else rows // 2 - 1
    r = jax.random.randint(k_second, (n,), 0, half)
    p2 = jnp.where(r < p1, r, r + 1)  # the r-th of the first L/2 - 1 pairs that are not p1
    t = row_steps(rows, n, width)  # each row's own step, negative on its padding
    last = length - 1 if rows is None else rows[:, None] - 1
    markers = jnp.where((t == p1[:, None]) | (t == p2[:, None]), 1.0, jnp.where((t == 0) | (t == last), -1.0, 0.0))
    values = jnp.where((t == 0) & (p1[:, None] == 0), first, jnp.where(t < 0, 0.0, values))
    x1 = jnp.take_along_axis(values, (p1 + width - (length if rows is None else rows))[:, None], axis=1)[:, 0]
    x2 = jnp.take_along_axis(values, (p2 + width - (length if rows is None else rows))[:, None], axis=1)[:, 0]
    return jnp.stack([values, markers], axis=-1), x1, x2, rows


def adding_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """H&S 1997 Exp. 4 (section 5.4) at T = ``length`` (>= 10); checked against the authors' NIPS 1996 text.

    Each step is a pair (value U[-1, 1], marker), marked as :func:`_marked_pairs` says (X1 := 0 when the first pair
    is marked). Target ``0.5 + (X1 + X2) / 4`` in [0, 1], shape ``(n, 1)``; a sequence is right when the absolute
    error at its end is below 0.04.

    ``spread`` > 0 (H&S: 0.1): each row's length is drawn uniformly from ``T .. T + floor(spread T)`` (its X2 among
    its own first L/2 - 1 pairs), rows left-padded with zeros to that width; returns
    :class:`~latchjax.core.tasks.output.Sequences` with each row's length. ``spread`` 0: ``(x, y)``, every row T.
    """
    x, x1, x2, rows = _marked_pairs(key, n, length, spread, -1.0, 0.0, "adding")
    target = (0.5 + (x1 + x2) / 4.0)[:, None]
    return (x, target) if rows is None else Sequences(x, target, length=rows)


def multiplication_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """H&S 1997 Exp. 5 (section 5.5) at T = ``length`` (>= 10): the adding problem's pairs with values U[0, 1] and
    the target ``X1 X2`` in [0, 1], shape ``(n, 1)``. *[unverified]*: X1 := 1.0 when the first pair is marked. The
    rule (checked, Table 8): a sequence is right when its absolute error is below 0.04, as in Exp. 4; H&S stop at
    fewer than 140 (or 13) wrong of 2560 test sequences and report 139 (14) wrong, MSE 0.0223 (0.0139) after
    482,000 (1,273,000) sequences at T = 100, lr 0.1.
    ``spread`` as :func:`adding_fn`'s."""
    x, x1, x2, rows = _marked_pairs(key, n, length, spread, 0.0, 1.0, "multiplication")
    target = (x1 * x2)[:, None]
    return (x, target) if rows is None else Sequences(x, target, length=rows)


# --- Exp. 6 temporal order --------------------------------------------------------------------------------------

SYMBOLS = ("E", "B", "a", "b", "c", "d", "X", "Y")


def _temporal_order(key: jax.Array, n: int, length: int, windows: list[tuple[int, int]], spread: float, name: str):
    """H&S's temporal order with ``m = len(windows)`` X/Y positions, position i drawn in ``windows[i]`` (inclusive,
    steps of each row); class = the X/Y pattern read as binary, the first position most significant (X = 0)."""
    if length < 10:
        raise ValueError(f"lengths: {name} needs length >= 10 (its X/Y windows must not meet), got {length}")
    m = len(windows)
    keys = jax.random.split(key, 2 + m)  # fill, one per position, class (6a's draws of before the spread option)
    rows, width = row_lengths(jax.random.fold_in(key, 1), n, length, spread)
    symbols = jax.random.randint(keys[0], (n, width), 2, 6)  # a, b, c, d
    label = jax.random.randint(keys[-1], (n,), 0, 2**m)
    t = row_steps(rows, n, width)
    for i, (lo, hi) in enumerate(windows):
        at = jax.random.randint(keys[1 + i], (n,), lo, hi + 1)
        bit = (label >> (m - 1 - i)) & 1
        symbols = jnp.where(t == at[:, None], (6 + bit)[:, None], symbols)  # X = 6, Y = 7
    last = length - 1 if rows is None else rows[:, None] - 1
    symbols = jnp.where(t == 0, 0, jnp.where(t == last, 1, jnp.where(t < 0, -1, symbols)))  # E first, B last
    x = jax.nn.one_hot(symbols, len(SYMBOLS), dtype=jnp.float32)  # padding (-1): all zeros
    return (x, label.astype(jnp.int32)) if rows is None else Sequences(x, label.astype(jnp.int32), length=rows)


def temporal_order_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """H&S 1997 Exp. 6a (section 5.6; temporal order, 4 classes) at T = ``length`` (>= 10).

    One-hot symbols (:data:`SYMBOLS`): E first, the trigger B last, X or Y at t1 in [T/10, 2T/10] and at t2 in
    [T/2, 6T/10] (H&S's [10, 20] and [50, 60] at T = 100, scaled as Pascanu et al. 2013 scale theirs), a, b, c
    or d elsewhere. Class = the order of the two: XX 0, XY 1, YX 2, YY 3 (balanced in expectation). H&S draw the
    length in U{100 .. 110} (``spread=0.1``: the windows stay those of T, E and B at each row's own ends).
    """
    return _temporal_order(key, n, length, [(length // 10, 2 * length // 10), (length // 2, 6 * length // 10)],
                           spread, "temporal_order")


def temporal_order_8_fn(key: jax.Array, n: int, length: int, *, spread: float = 0.0):
    """H&S 1997 Exp. 6b (section 5.6; 8 classes) at T = ``length`` (>= 10): as :func:`temporal_order_fn` with three
    X/Y positions, t1 in [T/10, 2T/10], t2 in [33T/100, 43T/100], t3 in [66T/100, 76T/100] (H&S's [10, 20],
    [33, 43], [66, 76] at T = 100); class XXX 0, XXY 1, ..., YYY 7. H&S: a sequence is right when every output's
    final error is below 0.3 (``../shared/SPEC.md``); latchjax reads the softmax probabilities against the one-hot
    target (:class:`AbsError` ``(0.3)``)."""
    windows = [(length // 10, 2 * length // 10), (33 * length // 100, 43 * length // 100),
               (66 * length // 100, 76 * length // 100)]
    return _temporal_order(key, n, length, windows, spread, "temporal_order_8")


# --- Exp. 2a noise-free long time lag ---------------------------------------------------------------------------

LONG_LAG_P = 100  # H&S's p: p + 1 = 101 one-hot symbols a_1 .. a_{p-1}, x = a_p, y = a_{p+1}


def long_lag_baseline(length: int) -> float:
    """The memoryless cross-entropy: every prediction is certain but the last, a coin between x and y:
    ``log 2 / T``."""
    return math.log(2.0) / length


def long_lag_fn(key: jax.Array, n: int, length: int) -> tuple[jax.Array, jax.Array]:
    """H&S 1997 Exp. 2a (section 5.2) at lag p = ``length`` (2 .. 100).

    Two sequences, each drawn with probability 0.5: ``(y, a_1, ..., a_{p-1}, y)`` and ``(x, a_1, ..., a_{p-1}, x)``
    over the p + 1 = 101 locally coded symbols of H&S's p = 100 (a_i is class i - 1, x class 99, y class 100; a
    shorter lag uses a_1 .. a_{T-1} of the same alphabet, so that the output does not change with the length). The
    network reads the first T symbols and predicts the next symbol at every step: class labels ``(n, T)``. Only the
    last prediction needs memory (of the first symbol, p steps back). H&S's rule (checked, section 5.2): the maximal
    absolute error of every output below 0.25 over 10,000 successive sequences (here on the softmax probabilities
    against the one-hot target, at every step); they report LSTM (10,504 weights, lr 1.0) solving p = 100 in 18 of
    18 trials, after 5,040 sequences on average (Table 2).
    """
    if not 2 <= length <= LONG_LAG_P:
        raise ValueError(f"lengths: long_lag needs 2 <= length <= {LONG_LAG_P} (H&S's p; its {LONG_LAG_P + 1} "
                         f"symbols fix the output), got {length}")
    ends = jnp.where(jax.random.bernoulli(key, 0.5, (n,)), LONG_LAG_P, LONG_LAG_P - 1)  # y or x
    chain = jnp.arange(length - 1)  # a_1 .. a_{T-1}
    inputs = jnp.concatenate([ends[:, None], jnp.broadcast_to(chain, (n, length - 1))], axis=1)
    targets = jnp.concatenate([jnp.broadcast_to(chain, (n, length - 1)), ends[:, None]], axis=1)
    return jax.nn.one_hot(inputs, LONG_LAG_P + 1, dtype=jnp.float32), targets.astype(jnp.int32)


# --- Exp. 3 the 2-sequence problem with noise -------------------------------------------------------------------

TWO_SEQUENCE_NOISE = 0.2**0.5  # H&S: Gaussian noise of variance 0.2
TARGET_NOISE = 0.32  # Exp. 3c: Gaussian noise on the targets (SPEC: sigma 0.32)


def _two_sequence(key: jax.Array, n: int, length: int, *, noise: float, informative: int, spread: float,
                  signal_noise: float, targets: tuple[float, float], target_noise: float, name: str):
    """Bengio's 2-sequence problem as H&S 1997 Exp. 3 pose it (shared by 3a, 3b, 3c): the first ``informative``
    elements are +1 (class 1, the first n//2 rows) or -1 (class 0) plus N(0, ``signal_noise``^2), the rest
    N(0, ``noise``^2); target ``targets[class]`` plus N(0, ``target_noise``^2), shape ``(n, 1)``."""
    if not 1 <= informative < length:
        raise ValueError(f"informative: {name} needs 1 <= informative < length ({length}), got {informative!r}")
    if not (isinstance(noise, (int, float)) and noise >= 0):
        raise ValueError(f"noise: must be a number >= 0, got {noise!r}")
    k_rows, k_x, k_signal, k_target = jax.random.split(key, 4)
    rows, width = row_lengths(k_rows, n, length, spread)
    j = row_steps(rows, n, width)
    x, s = two_sequence_at(k_x, j, noise=noise, informative=informative)
    if signal_noise:
        x = x + jnp.where((j >= 0) & (j < informative), signal_noise, 0.0)[..., None] * \
            jax.random.normal(k_signal, x.shape, jnp.float32)
    y = jnp.where(s > 0, targets[1], targets[0]) + target_noise * jax.random.normal(k_target, (n,), jnp.float32)
    return (x, y[:, None]) if rows is None else Sequences(x, y[:, None], length=rows)


def two_sequence_3a_fn(key: jax.Array, n: int, length: int, *, noise: float = TWO_SEQUENCE_NOISE,
                       informative: int = 3, spread: float = 0.0):
    """H&S 1997 Exp. 3a (section 5.3): Bengio et al. 1994's 2-sequence problem with a regression read-out. The
    first N = ``informative`` elements are +1 (target 1) or -1 (target 0), every later one Gaussian of variance 0.2;
    a sequence is right when the absolute error at its end is below 0.2. Checked (section 5.3, Table 4): N = 3 (and
    1), the 0.2 rule, T = 100 and 1000 with lengths in [T, T + T/10] (``spread=0.1``). The binary :func:`~latchjax.core.tasks.bengio94.two_sequence` is
    the same sequences read as a class."""
    return _two_sequence(key, n, length, noise=noise, informative=informative, spread=spread, signal_noise=0.0,
                         targets=(0.0, 1.0), target_noise=0.0, name="two_sequence_3a")


def two_sequence_3b_fn(key: jax.Array, n: int, length: int, *, noise: float = TWO_SEQUENCE_NOISE,
                       informative: int = 3, spread: float = 0.0):
    """H&S 1997 Exp. 3b: as 3a, with Gaussian noise of the same variance (``noise``^2, 0.2) added to the N
    informative elements too (checked, section 5.3, Table 5)."""
    return _two_sequence(key, n, length, noise=noise, informative=informative, spread=spread, signal_noise=noise,
                         targets=(0.0, 1.0), target_noise=0.0, name="two_sequence_3b")


def two_sequence_3c_fn(key: jax.Array, n: int, length: int, *, noise: float = TWO_SEQUENCE_NOISE,
                       informative: int = 3, spread: float = 0.0, target_noise: float = TARGET_NOISE):
    """H&S 1997 Exp. 3c: as 3b, with targets 0.2 (class 0) and 0.8 (class 1) plus Gaussian noise of standard
    deviation ``target_noise`` (0.32): the network must learn the conditional mean.

    H&S judge the output against the noise-free target; the validation set here carries the noisy one, so the
    rule is latchjax's: a validation MSE within 0.01 of the noise's own variance (a :class:`LossRatio` of the
    memoryless :func:`two_sequence_3c_baseline`, computed at the default ``target_noise``: the network's own error
    about the conditional mean then 0.1 in root mean square)."""
    if not (isinstance(target_noise, (int, float)) and target_noise >= 0):
        raise ValueError(f"target_noise: must be a number >= 0, got {target_noise!r}")
    return _two_sequence(key, n, length, noise=noise, informative=informative, spread=spread, signal_noise=noise,
                         targets=(0.2, 0.8), target_noise=target_noise, name="two_sequence_3c")


def two_sequence_3c_baseline(length: int, target_noise: float = TARGET_NOISE) -> float:
    """The memoryless MSE of Exp. 3c: predicting 0.5 misses the balanced 0.2 / 0.8 by 0.3, plus the targets'
    noise: ``0.09 + target_noise^2``."""
    return 0.3**2 + target_noise**2


# --- Exp. 1 the embedded Reber grammar --------------------------------------------------------------------------

REBER_SYMBOLS = ("B", "T", "P", "S", "X", "V", "E")
_B, _T, _P, _S, _X, _V, _E = range(7)
_BRANCH = -2  # the symbol of the state that repeats the second symbol (T or P)
# The embedded grammar as an automaton, state -> its two equally likely (symbol, next state): 0 start, 1 the outer
# T/P, 2-8 the Reber grammar's nodes (Cleeremans et al. 1989, H&S Fig. 3), 9 the outer T/P again, 10 the final E,
# 11 done (no symbol).
_REBER = [((_B, 1), (_B, 1)), ((_T, 2), (_P, 2)), ((_B, 3), (_B, 3)), ((_T, 4), (_P, 5)), ((_S, 4), (_X, 6)),
          ((_T, 5), (_V, 7)), ((_X, 5), (_S, 8)), ((_P, 6), (_V, 8)), ((_E, 9), (_E, 9)),
          ((_BRANCH, 10), (_BRANCH, 10)), ((_E, 11), (_E, 11)), ((-1, 11), (-1, 11))]
_REBER_DONE = 11
_REBER_SYM = np.array([[a[0], b[0]] for a, b in _REBER], np.int32)
_REBER_NEXT = np.array([[a[1], b[1]] for a, b in _REBER], np.int32)


def _shortest_rest() -> np.ndarray:
    """The fewest symbols each state still emits before the string ends (the shortest path to 'done')."""
    rest = np.full(len(_REBER), 10**6)
    rest[_REBER_DONE] = 0
    for _ in range(len(_REBER)):
        for s in range(len(_REBER)):
            if s != _REBER_DONE:
                rest[s] = 1 + min(rest[_REBER_NEXT[s, 0]], rest[_REBER_NEXT[s, 1]])
    return rest


_REBER_REST = _shortest_rest()  # 9 from the start: the shortest embedded string, e.g. BTBTXSETE
_REBER_LEGAL = np.zeros((len(_REBER), 7), np.float32)  # the legal next symbols in each state (9: the branch's)
for _s, ((_a, _), (_b, _)) in enumerate(_REBER):
    for _sym in (_a, _b):
        if _sym >= 0:
            _REBER_LEGAL[_s, _sym] = 1.0


def reber_fn(key: jax.Array, n: int, length: int) -> Sequences:
    """H&S 1997 Exp. 1 (section 5.1): strings of the embedded Reber grammar, ``B (T|P) <Reber string> (T|P) E`` with
    the two outer T/P the same, every choice a fair coin; the network reads each string but its last symbol and
    predicts, at every step, the legal next symbols: multilabel targets ``(n, T, 7)`` over :data:`REBER_SYMBOLS`
    (1 or 2 legal; after the inner string's E only the outer T/P seen L - 2 steps earlier, the long-term part).

    ``length`` T (>= 8) is the longest string's length less one (the shortest string has 9 symbols); each row has
    its own length (:class:`Sequences` ``length``), left-padded to T. Strings are drawn by the grammar with one
    change: where a loop would leave too few steps to end within T + 1 symbols, the exit branch is taken (no
    effect on strings the budget allows; H&S bound no length, but a width must be fixed). Checked (section 5.1):
    H&S's 256 training and 256 test strings, and their rule (every symbol of every training and test string
    predicted right; here every label on the right side of 0.5, :class:`NoErrors`).
    """
    if length < 8:
        raise ValueError(f"lengths: reber needs length >= 8 (the shortest embedded string has 9 symbols), got "
                         f"{length}")
    budget = length + 1  # symbols of the longest string
    sym_table, next_table, rest = jnp.asarray(_REBER_SYM), jnp.asarray(_REBER_NEXT), jnp.asarray(_REBER_REST)
    coins = jax.random.bernoulli(key, 0.5, (budget, n)).astype(jnp.int32)

    def _emit(carry, step):
        state, branch, t = carry
        fits = t + 1 + rest[next_table[state]] <= budget  # (n, 2): each choice still ends in time
        pick = jnp.where(fits[jnp.arange(n), step], step, 1 - step)
        symbol = sym_table[state, pick]
        symbol = jnp.where(symbol == _BRANCH, branch, symbol)
        branch = jnp.where(state == 1, symbol, branch)
        nxt = next_table[state, pick]
        return (nxt, branch, t + 1), (symbol, nxt)

    init = (jnp.zeros(n, jnp.int32), jnp.zeros(n, jnp.int32), jnp.int32(0))
    (_, branch, _), (symbols, after) = jax.lax.scan(_emit, init, coins)
    symbols, after = symbols.T, after.T  # (n, budget)
    rows = jnp.sum(symbols >= 0, axis=1) - 1  # inputs: every symbol but the final E
    idx = jnp.arange(length) - (length - rows)[:, None]
    real = idx >= 0
    idx = jnp.maximum(idx, 0)
    x = jnp.where(real[..., None], jax.nn.one_hot(jnp.take_along_axis(symbols, idx, axis=1), 7), 0.0)
    state = jnp.take_along_axis(after, idx, axis=1)
    legal = jnp.where((state == 9)[..., None], jax.nn.one_hot(branch, 7)[:, None, :], jnp.asarray(_REBER_LEGAL)[state])
    y = jnp.where(real[..., None], legal, 0.0)
    return Sequences(x.astype(jnp.float32), y.astype(jnp.float32), length=rows.astype(jnp.int32))


# --- the tasks as the registry holds them -----------------------------------------------------------------------

_2SEQ_RIGHT = AbsError(0.2)
adding = TaskSpec(adding_fn, Output("regress", 1), AbsError(0.04), baseline=ADDING_BASELINE, label="adding")
multiplication = TaskSpec(multiplication_fn, Output("regress", 1), AbsError(0.04), baseline=MULTIPLICATION_BASELINE,
                          label="multiplication")
temporal_order = TaskSpec(temporal_order_fn, Output("class", 4), baseline=math.log(4),
                          label="temporal_order")  # success: accuracy >= the sweep's threshold
temporal_order_8 = TaskSpec(temporal_order_8_fn, Output("class", 8), AbsError(0.3), baseline=math.log(8),
                            label="temporal_order_8")
long_lag = TaskSpec(long_lag_fn, Output("class", LONG_LAG_P + 1, at="every"), AbsError(0.25),
                    baseline=long_lag_baseline, label="long_lag")
two_sequence_3a = TaskSpec(two_sequence_3a_fn, Output("regress", 1), _2SEQ_RIGHT, baseline=0.25,
                           label="two_sequence_3a")
two_sequence_3b = TaskSpec(two_sequence_3b_fn, Output("regress", 1), _2SEQ_RIGHT, baseline=0.25,
                           label="two_sequence_3b")
# success: validation MSE <= target_noise^2 + 0.01 at the default noise, as a ratio of the memoryless baseline
two_sequence_3c = TaskSpec(two_sequence_3c_fn, Output("regress", 1),
                           LossRatio((TARGET_NOISE**2 + 0.01) / two_sequence_3c_baseline(0), two_sequence_3c_baseline),
                           label="two_sequence_3c")
reber = TaskSpec(reber_fn, Output("multilabel", 7, at="every"), NoErrors(), label="reber")
