"""The memory benchmark suite's task generators, each against its paper's definition through statistics of the data
it draws (marker positions, target ranges and means, class balance, the memoryless predictor's loss against the
stated baseline), each through a tiny sweep, and each refusing what it cannot take. One promise per test."""

from __future__ import annotations

import math
import re
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.cli import run
from latchjax.core.model import sequence_loss
from latchjax.core.tasks import TASKS, digits
from latchjax.core.tasks.hs97 import (
    ADDING_BASELINE,
    LONG_LAG_P,
    MULTIPLICATION_BASELINE,
    REBER_SYMBOLS,
    two_sequence_3c_baseline,
)
from latchjax.core.tasks.jaeger01 import DELAYS, memory_capacity
from latchjax.core.tasks.output import as_sequences, task_baseline
from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.runner import run_sweep
from latchjax.sweep.settings import from_settings

N = 20000  # rows for the statistics: a proportion's standard error is at most 0.0035


def _draw(name, n, length, **options):
    seq = as_sequences(TASKS[name].bind(**options)(jax.random.key(7), n, length))
    as_np = [None if a is None else np.asarray(a) for a in seq]
    rows = as_np[3] if as_np[3] is not None else np.full(n, as_np[0].shape[1])
    return as_np[0], as_np[1], rows


def _own(a, rows, i):
    """Row ``i``'s own steps (its last ``rows[i]``)."""
    return a[i, a.shape[1] - rows[i]:]


# --- H&S 1997 Exp. 4 and 5: marked pairs ------------------------------------------------------------------------

@pytest.mark.parametrize("name, spread", [("adding", 0.0), ("multiplication", 0.0), ("multiplication", 0.1)])
def test_hs_marked_pairs_are_where_the_paper_puts_them_and_the_target_is_its_formula(name, spread):
    T = 40
    x, y, rows = _draw(name, 3000, T, spread=spread)
    assert rows.min() >= T and rows.max() <= T + int(spread * T) and (spread == 0 or len(set(rows)) > 1)
    low, neutral = (-1.0, 0.0) if name == "adding" else (0.0, 1.0)
    first_is_x1 = 0
    for i in range(len(rows)):
        v, m = _own(x[..., 0], rows, i), _own(x[..., 1], rows, i)
        assert np.all(x[i, : x.shape[1] - rows[i]] == 0)  # left padding
        marked = np.flatnonzero(m == 1)
        assert len(marked) == 2 and marked[0] < 10 and marked[1] < rows[i] // 2  # X2 among the first L/2 - 1 unmarked
        assert m[-1] == -1 and (m[0] == -1 or marked[0] == 0)
        assert np.all(np.delete(m, [0, len(m) - 1, *marked]) == 0)
        assert v.min() >= low and v.max() <= 1
        x1, x2 = v[marked]
        first_is_x1 += marked[0] == 0 and v[0] == neutral  # X1 on the first pair: X1 := 0 (adding), 1 (multiplying)
        want = 0.5 + (x1 + x2) / 4 if name == "adding" else x1 * x2
        assert y[i, 0] == pytest.approx(want, abs=1e-6)
    assert 0 <= y.min() and y.max() <= 1
    assert first_is_x1 / len(rows) == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize("name, baseline", [("adding", ADDING_BASELINE), ("multiplication", MULTIPLICATION_BASELINE)])
def test_hs_marked_pairs_memoryless_loss_is_the_stated_baseline(name, baseline):
    """The best constant prediction is the targets' mean (0.5 for adding); its MSE is the declared baseline."""
    _, y, _ = _draw(name, N, 20)
    mean = 0.5 if name == "adding" else 0.55 * 0.5
    assert y.mean() == pytest.approx(mean, abs=0.005)
    assert np.mean((y - mean) ** 2) == pytest.approx(baseline, rel=0.03)
    assert task_baseline(TASKS[name], 20) == pytest.approx(baseline)


# --- H&S 1997 Exp. 6: temporal order ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, windows", [
    ("temporal_order", [(10, 20), (50, 60)]),
    ("temporal_order_8", [(10, 20), (33, 43), (66, 76)]),
])
def test_temporal_order_puts_x_and_y_in_the_papers_windows_and_the_class_is_their_order(name, windows):
    T = 100
    x, y, rows = _draw(name, 4000, T, spread=0.1)
    assert rows.min() == T and rows.max() == T + 10  # H&S: lengths U{100 .. 110}
    m = len(windows)
    for i in range(len(rows)):
        s = _own(x, rows, i).argmax(-1)
        assert s[0] == 0 and s[-1] == 1  # E first, the trigger B last
        xy = np.flatnonzero(s >= 6)
        assert len(xy) == m and all(lo <= t <= hi for t, (lo, hi) in zip(xy, windows))
        assert np.all((np.delete(s, [0, len(s) - 1, *xy]) >= 2) & (np.delete(s, [0, len(s) - 1, *xy]) <= 5))
        assert y[i] == int("".join(str(b - 6) for b in s[xy]), 2)  # X = 0, Y = 1, the first most significant
    counts = np.bincount(y, minlength=2**m) / len(y)
    np.testing.assert_allclose(counts, 1 / 2**m, atol=0.03)


# --- H&S 1997 Exp. 2a: noise-free long time lag -----------------------------------------------------------------

def test_long_lag_is_hs_2a_and_its_memoryless_loss_is_log2_over_t():
    T = LONG_LAG_P
    x, y, _ = _draw("long_lag", 2000, T)
    s = x.argmax(-1)
    assert x.shape == (2000, T, T + 1) and y.shape == (2000, T)
    assert set(s[:, 0]) == {T - 1, T} and np.all(s[:, 1:] == np.arange(T - 1))  # (x|y, a_1 .. a_{p-1})
    np.testing.assert_array_equal(y[:, :-1], s[:, 1:])  # the next symbol at every step
    np.testing.assert_array_equal(y[:, -1], s[:, 0])  # the last one: the first, p steps back
    assert np.mean(s[:, 0] == T) == pytest.approx(0.5, abs=0.04)
    # memoryless: every next symbol certain but the last, a coin between x and y
    logits = np.full((T, T + 1), -50.0)
    logits[np.arange(T - 1), np.arange(T - 1)] = 50.0  # a_{t+1} (class t) after step t
    logits[T - 1, [T - 1, T]] = 0.0
    loss, _ = sequence_loss("softmax", jnp.asarray(np.broadcast_to(logits, (2000, T, T + 1))), jnp.asarray(y),
                            jnp.ones((2000, T)))
    np.testing.assert_allclose(np.asarray(loss), math.log(2) / T, rtol=1e-4)
    assert task_baseline(TASKS["long_lag"], T) == pytest.approx(math.log(2) / T)


# --- H&S 1997 Exp. 3: 2-sequence problem with noise -------------------------------------------------------------

@pytest.mark.parametrize("name", ["two_sequence_3a", "two_sequence_3b", "two_sequence_3c"])
def test_two_sequence_3abc_carry_the_class_in_the_first_n_elements_with_the_papers_noise(name):
    T, n_inf = 50, 3
    x, y, rows = _draw(name, 4000, T, spread=0.1)
    assert rows.min() >= T and rows.max() <= T + 5
    cls = np.arange(4000) < 2000  # positives first
    head = np.stack([_own(x[..., 0], rows, i)[:n_inf] for i in range(4000)])
    tail = np.concatenate([_own(x[..., 0], rows, i)[n_inf:] for i in range(4000)])
    sign = np.where(cls, 1.0, -1.0)[:, None]
    if name == "two_sequence_3a":
        np.testing.assert_array_equal(head, np.broadcast_to(sign, head.shape))
    else:  # 3b, 3c: the informative elements carry noise of variance 0.2 too
        assert np.mean(head - sign) == pytest.approx(0, abs=0.02) and np.var(head - sign) == pytest.approx(0.2, rel=0.05)
    assert np.mean(tail) == pytest.approx(0, abs=0.01) and np.var(tail) == pytest.approx(0.2, rel=0.02)
    low, high = (0.2, 0.8) if name == "two_sequence_3c" else (0.0, 1.0)
    noise = 0.32 if name == "two_sequence_3c" else 0.0
    for part, want in ((cls, high), (~cls, low)):
        assert y[part, 0].mean() == pytest.approx(want, abs=0.03) and y[part, 0].std() == pytest.approx(noise, abs=0.02)
    baseline = two_sequence_3c_baseline(T) if name == "two_sequence_3c" else 0.25
    assert np.mean((y - 0.5) ** 2) == pytest.approx(baseline, rel=0.05)


# --- H&S 1997 Exp. 1: embedded Reber grammar --------------------------------------------------------------------

# the Reber grammar (Cleeremans et al. 1989) as a regular expression, and its transitions node by node: an oracle
# written apart from the task's table
REBER_RE = re.compile(r"^B(TS*X(S|X(T*VPX)*T*V(V|PS))|P(T*VPX)*T*V(V|PS))E$")
REBER_NODES = {1: {"T": 2, "P": 3}, 2: {"S": 2, "X": 4}, 3: {"T": 3, "V": 5}, 4: {"X": 3, "S": 6},
               5: {"P": 4, "V": 6}, 6: {"E": 0}}


def _reber(inner: str) -> bool:
    node = 1
    for c in inner[1:-1]:
        if c not in REBER_NODES.get(node, {}):
            return False
        node = REBER_NODES[node][c]
    return len(inner) >= 2 and inner[0] == "B" and node == 6 and inner[-1] == "E"


def _legal_after(prefix: str) -> set[str]:
    """The symbols that can follow ``prefix`` in the embedded grammar, by walking it."""
    if len(prefix) <= 2:
        return [{"T", "P"}, {"B"}][len(prefix) - 1]
    inner = prefix[2:]
    if _reber(inner):  # the inner string is complete: the outer T/P again
        return {prefix[1]}
    if _reber(inner[:-1]):  # and that read: the final E
        return {"E"}
    node = 1
    for c in inner[1:]:
        node = REBER_NODES[node][c]
    return set(REBER_NODES[node])


def test_reber_strings_are_embedded_reber_strings_and_the_targets_their_legal_successors():
    T = 30
    x, y, rows = _draw("reber", 3000, T)
    assert x.shape == (3000, T, 7) and y.shape == (3000, T, 7)
    lengths = []
    for i in range(3000):
        s = "".join(REBER_SYMBOLS[k] for k in _own(x, rows, i).argmax(-1))
        string = s + "E"  # the network never reads the final E
        assert s[0] == "B" and s[1] == s[-1] and s[1] in "TP" and _reber(string[2:-2]), string
        assert REBER_RE.match(string[2:-2]) is not None
        assert np.all(x[i, : T - rows[i]] == 0) and np.all(y[i, : T - rows[i]] == 0)
        for t in range(len(s)):
            want = _legal_after(s[: t + 1])
            got = {REBER_SYMBOLS[k] for k in np.flatnonzero(_own(y, rows, i)[t])}
            assert got == want, (s, t, got, want)
        lengths.append(len(string))
    lengths = np.asarray(lengths)
    assert lengths.min() >= 9 and lengths.max() <= T + 1
    # a fair coin at every branch: the inner string is the shortest (5 symbols: BTXSE or BPVVE) with probability 1/4
    assert np.mean(lengths == 9) == pytest.approx(0.25, abs=0.03)
    assert np.mean(x[np.arange(3000), T - rows, :].argmax(-1) == 0) == 1.0  # every row starts with B
    assert np.mean(np.asarray([_own(x, rows, i)[1].argmax() for i in range(3000)]) == 1) == pytest.approx(0.5, abs=0.03)


def test_reber_strings_longer_than_the_width_take_the_exit_branch_and_stay_grammatical():
    x, _, rows = _draw("reber", 500, 8)
    assert np.all(rows == 8)  # the shortest strings only: 9 symbols, 8 read
    for i in range(500):
        s = "".join(REBER_SYMBOLS[k] for k in x[i].argmax(-1)) + "E"
        assert _reber(s[2:-2]) and s[1] == s[-2]


# --- Arjovsky, Shah & Bengio 2016 (after Le et al. 2015): adding ------------------------------------------------

def test_arjovsky_adding_marks_one_value_per_half_and_its_memoryless_loss_is_one_sixth():
    T = 30
    x, y, _ = _draw("adding_arjovsky", N, T)
    marks = x[..., 1]
    assert np.all(marks.sum(1) == 2) and set(np.unique(marks)) == {0.0, 1.0}
    first, second = marks[:, : T // 2].argmax(1), T // 2 + marks[:, T // 2:].argmax(1)
    assert np.all(marks[:, : T // 2].sum(1) == 1)  # exactly one in each half
    np.testing.assert_allclose(np.bincount(first, minlength=T // 2) / N, 1 / (T // 2), atol=0.01)  # uniform
    np.testing.assert_allclose(np.bincount(second - T // 2, minlength=T - T // 2) / N, 1 / (T - T // 2), atol=0.01)
    assert x[..., 0].min() >= 0 and x[..., 0].max() <= 1
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marks).sum(1), rtol=1e-6)
    assert y.mean() == pytest.approx(1.0, abs=0.01)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.03) == task_baseline(TASKS["adding_arjovsky"], T)


# --- Pascanu, Mikolov & Bengio 2013 -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, starts", [("temporal_order_pascanu", (1, 5)), ("temporal_order_3bit_pascanu", (1, 3, 6))])
def test_pascanu_temporal_order_is_their_codes(name, starts):
    """tempOrder.py / tempOrder3bit.py: A/B (0/1) at one step of each window [s L/10, (s+1) L/10) of the row's own
    length, c..f elsewhere, class sum v_i 2^i; here with rows of lengths 50 .. 200 (spread 3 at T = 50)."""
    x, y, rows = _draw(name, 4000, 50, spread=3.0)
    assert rows.min() == 50 and rows.max() == 200 and x.shape[-1] == 6
    for i in range(4000):
        s, L = _own(x, rows, i).argmax(-1), rows[i]
        at = np.flatnonzero(s < 2)
        assert len(at) == len(starts) and all(k * L // 10 <= t < (k + 1) * L // 10 for t, k in zip(at, starts))
        assert y[i] == sum(int(s[t]) << b for b, t in enumerate(at))
    np.testing.assert_allclose(np.bincount(y, minlength=2 ** len(starts)) / 4000, 1 / 2 ** len(starts), atol=0.03)


@pytest.mark.parametrize("name", ["adding_pascanu", "multiplication_pascanu"])
def test_pascanu_adding_and_multiplication_are_their_codes_and_the_baseline_their_variance(name):
    T = 40
    x, y, _ = _draw(name, N, T)
    marks, v = x[..., 0], x[..., 1]
    assert np.all(marks.sum(1) == 2)
    p0, p1 = marks[:, : T // 10].argmax(1), T // 10 + marks[:, T // 10:].argmax(1)
    assert np.all(marks[:, : T // 10].sum(1) == 1) and p1.max() < T // 10 + 4 * T // 10  # p1 in [L/10, 5L/10)
    x0, x1 = v[np.arange(N), p0], v[np.arange(N), p1]
    want = (x0 + x1) / 2 if name == "adding_pascanu" else x0 * x1
    np.testing.assert_allclose(y[:, 0], want, rtol=1e-6)
    mean = 0.5 if name == "adding_pascanu" else 0.25
    assert np.mean((y - mean) ** 2) == pytest.approx(task_baseline(TASKS[name], T), rel=0.03)


# --- Jaeger 2001: memory capacity; Sussillo & Barak 2013: flip-flop --------------------------------------------

def test_memory_capacity_targets_are_the_delayed_inputs_after_the_washout():
    x, y, _ = _draw("memory_capacity", 500, 100, washout=45)
    seq = TASKS["memory_capacity"].bind(washout=45)(jax.random.key(7), 500, 100)
    mask = np.asarray(seq.mask)
    u = x[..., 0]
    assert u.min() >= -0.5 and u.max() <= 0.5 and np.var(u) == pytest.approx(1 / 12, rel=0.02)
    assert y.shape == (500, 100, DELAYS) and np.all(mask[:, :45] == 0) and np.all(mask[:, 45:] == 1)
    for k in range(1, DELAYS + 1):
        np.testing.assert_array_equal(y[:, 45:, k - 1], u[:, 45 - k:100 - k])
    # the memoryless prediction 0 scores the input's variance on every delay
    counted = y[:, 45:]
    assert np.mean(counted**2) == pytest.approx(task_baseline(TASKS["memory_capacity"], 100), rel=0.02)


def test_memory_capacity_of_a_delay_line_is_its_depth_and_of_a_noisy_copy_the_r2():
    """A shift register holding the last m inputs recalls delays 1..m exactly: MC_k = 1 there, 0 beyond (a constant
    output), MC = m, horizon m. A copy plus independent noise of variance s2 has r^2 = Var u / (Var u + s2)."""
    x, y, _ = _draw("memory_capacity", 400, 120)
    mask = np.asarray(TASKS["memory_capacity"](jax.random.key(7), 400, 120).mask)
    m = 7
    pred = np.where(np.arange(DELAYS) < m, y, 0.0)
    mc_k, mc, horizon = memory_capacity(pred, y, mask)
    np.testing.assert_allclose(np.asarray(mc_k), (np.arange(DELAYS) < m).astype(float), atol=1e-5)
    assert float(mc) == pytest.approx(m, abs=1e-4) and int(horizon) == m
    noisy = y + np.random.default_rng(0).normal(0, np.sqrt(1 / 12), y.shape)  # s2 = Var u: r^2 = 1/2
    mc_k, mc, _ = memory_capacity(noisy, y, mask)
    np.testing.assert_allclose(np.asarray(mc_k), 0.5, atol=0.02)
    unmasked = memory_capacity(y, y)[1]  # every step, washout included (zeros before the start): still exact
    assert float(unmasked) == pytest.approx(DELAYS, abs=1e-3)


def test_flip_flop_targets_hold_each_channels_last_pulse_and_the_memoryless_loss_is_the_baseline():
    T, rate = 60, 0.05
    x, y, _ = _draw("flip_flop", 3000, T)
    assert x.shape == y.shape == (3000, T, 3) and set(np.unique(x)) == {-1.0, 0.0, 1.0}
    assert np.all(x[:, 0] != 0)  # every channel starts with a pulse
    assert np.mean(x[:, 1:] != 0) == pytest.approx(rate, abs=0.003) and np.mean(x[x != 0]) == pytest.approx(0, abs=0.02)
    held = np.zeros((3000, 3))
    for t in range(T):  # the oracle: hold the last pulse
        held = np.where(x[:, t] != 0, x[:, t], held)
        np.testing.assert_array_equal(y[:, t], held)
    memoryless = np.where(x != 0, x, 0.0)  # the sign at a pulse, the mean (0) elsewhere
    assert np.mean((y - memoryless) ** 2) == pytest.approx(task_baseline(TASKS["flip_flop"], T), rel=0.02)


# --- scikit-learn's 8x8 digits, read in sequence (an optional extra) --------------------------------------------

def _without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails as if not installed
    digits._load.cache_clear()
    digits.split.cache_clear()


def test_digits_without_scikit_learn_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch):
    _without_sklearn(monkeypatch)
    try:
        with pytest.raises(ValueError, match="need scikit-learn"):
            TASKS["digits_pixel"](jax.random.key(0), 4, 64)
        out = tmp_path / "run"
        assert run(["sweep", "--task", "digits_row", "--lengths", "8", "--seeds", "2", "--quiet", "--out",
                    str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "pip install 'latchjax[digits]'" in err, err
        assert not out.exists()
    finally:
        digits._load.cache_clear()
        digits.split.cache_clear()


def test_digits_split_is_one_fixed_stratified_fifth_of_each_class():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    labels = sklearn_datasets.load_digits().target
    train, test = digits.split()
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(labels) == 1797
    for c in range(10):
        assert np.sum(labels[test] == c) == round(0.2 * np.sum(labels == c))
    digits.split.cache_clear()
    np.testing.assert_array_equal(digits.split()[1], test)  # the same split every time


@pytest.mark.parametrize("name, T", [("digits_pixel", 64), ("digits_row", 8), ("digits_permuted", 64)])
def test_digits_variants_are_the_images_read_pixel_by_pixel_row_by_row_or_permuted(name, T):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    data = sklearn_datasets.load_digits()
    train, test = digits.split()
    x, y, _ = _draw(name, len(train), T)
    flat = x.reshape(len(train), 64)
    if name == "digits_permuted":
        order = digits.pixel_order()
        assert sorted(order) == list(range(64)) and not np.array_equal(order, np.arange(64))
        flat = flat[:, np.argsort(order)]
    index = {row.tobytes(): i for i, row in enumerate((data.data / 16).astype(np.float32))}
    rows = np.asarray([index[r.tobytes()] for r in flat])  # every drawn sequence is one image, as read
    np.testing.assert_array_equal(np.sort(rows), train)  # every training image once, no test image
    np.testing.assert_array_equal(y, data.target[rows])
    _, y_test, _ = _draw(name, 50, T, part="test")
    assert len(y_test) == 50
    with pytest.raises(ValueError, match=f"samples: the test part of the digits has {len(test)} images"):
        TASKS[name].bind(part="test")(jax.random.key(0), len(test) + 1, T)
    with pytest.raises(ValueError, match=f"lengths: {name} needs length {T}"):
        TASKS[name](jax.random.key(0), 4, 9)


def test_digits_run_through_a_tiny_sweep():
    pytest.importorskip("sklearn.datasets")
    cfg = SweepConfig(task="digits_row", cells=("gru",), units=4, lengths=(8,), seeds=2, samples=200, epochs=1,
                      flavor="keras3")
    assert np.isfinite(run_sweep(cfg).final("val_loss")).all()


# --- every task: a tiny sweep, and refusals ---------------------------------------------------------------------

SUITE = {"reber": 10, "long_lag": 10, "two_sequence_3a": 10, "two_sequence_3b": 10, "two_sequence_3c": 10,
         "multiplication": 10, "temporal_order_8": 10, "adding_arjovsky": 10, "temporal_order_pascanu": 10,
         "temporal_order_3bit_pascanu": 10, "adding_pascanu": 10, "multiplication_pascanu": 10,
         "memory_capacity": 50, "flip_flop": 10}


@pytest.mark.parametrize("name", list(SUITE))
def test_every_new_task_runs_through_a_tiny_sweep(name):
    cfg = SweepConfig(task=name, cells=("gru",), units=4, lengths=(SUITE[name],), seeds=2, samples=200, epochs=1,
                      flavor="keras3")
    result = run_sweep(cfg)
    assert np.isfinite(result.final("val_loss")).all()


@pytest.mark.parametrize("name, length, words", [
    ("temporal_order_8", 9, "lengths: temporal_order_8 needs length >= 10"),
    ("multiplication", 5, "lengths: multiplication needs length >= 10"),
    ("long_lag", 101, "lengths: long_lag needs 2 <= length <= 100"),
    ("reber", 7, "lengths: reber needs length >= 8"),
    ("two_sequence_3a", 3, "informative: two_sequence_3a needs 1 <= informative < length"),
    ("adding_arjovsky", 1, "lengths: adding_arjovsky needs length >= 2"),
    ("temporal_order_pascanu", 9, "lengths: temporal_order_pascanu needs length >= 10"),
    ("adding_pascanu", 9, "lengths: adding_pascanu needs length >= 10"),
    ("memory_capacity", 40, "lengths: memory_capacity needs length > washout (40)"),
    ("flip_flop", 0, "lengths: flip_flop needs length >= 1"),
])
def test_a_length_a_task_cannot_take_is_refused_naming_the_setting(name, length, words):
    with pytest.raises(ValueError, match=re.escape(words.partition(": ")[2])):
        TASKS[name](jax.random.key(0), 4, length)
    with pytest.raises(SettingsError) as err:
        SweepConfig(task=name, cells=("gru",), lengths=(length,), seeds=2, samples=40, epochs=1)
    assert str(err.value).startswith(words.partition(": ")[0])


def test_an_option_a_task_does_not_take_is_refused():
    with pytest.raises(SettingsError, match="task reber has no such option"):
        from_settings({"task": "reber", "spread": 0.1})
    with pytest.raises(SettingsError, match="spread"):
        from_settings({"task": "multiplication", "spread": -1.0, "lengths": [10]})


@pytest.mark.integration
def test_a_bad_length_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["sweep", "--task", "temporal_order_8", "--lengths", "5", "--seeds", "2", "--quiet",
                "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "temporal_order_8 needs length >= 10" in err, err
    assert not out.exists()
