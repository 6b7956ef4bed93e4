"""The parallel scan (``--scan parallel``, :func:`latchjax.core.scan.linear_scan`): the same recurrence as the time
loop, padding included, for every cell linear in its state; its setting and its refusals."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax import SweepConfig, run_sweep
from latchjax.core.cells import ZooCell, make_cell
from latchjax.core.model import resolve_scan, run_cell
from latchjax.core.scan import linear_scan
from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.plan import plan_sweep, scan_depth, sequential_steps

LINEAR = ("lru", "mingru", "minlstm", "s6")
# rows of their own lengths, 1 to 1000, padded on the left to the longest (one start per row, as the trainer passes)
ROW_LENGTHS = (1, 2, 3, 17, 999, 1000)


def close(parallel, sequential, tol=1e-5):
    """Agreement to ``tol`` of the sequential value's scale (leaf by leaf)."""
    for p, s in zip(jax.tree.leaves(parallel), jax.tree.leaves(sequential)):
        scale = max(float(jnp.max(jnp.abs(s))), 1e-30)
        assert float(jnp.max(jnp.abs(p - s))) <= tol * scale, (float(jnp.max(jnp.abs(p - s))), scale)


def held_states(a, b, h0, start):
    """h_t = a_t h_{t-1} + b_t from step ``start`` of each row on, h0 before it: a NumPy loop in double precision."""
    a, b, h = (np.asarray(v).astype(np.complex128 if np.iscomplexobj(v) else np.float64) for v in (a, b, h0))
    states = []
    for t in range(a.shape[0]):
        h = np.where((t >= np.asarray(start))[:, None], a[t] * h + b[t], h)
        states.append(h)
    return np.stack(states)


def test_linear_scan_holds_padding_and_equals_the_loop():
    """Real and complex leaves, a non-zero initial state, one start per row; log space with positive b."""
    keys = jax.random.split(jax.random.key(0), 4)
    a = jax.random.uniform(keys[0], (50, 3, 2), minval=-1.0, maxval=1.0)
    b = jax.random.normal(keys[1], (50, 3, 2))
    ac = jax.lax.complex(a, jax.random.uniform(keys[2], (50, 3, 2), minval=-0.5, maxval=0.5)) * 0.8
    bc = jax.lax.complex(b, b[::-1])
    h0 = jax.random.normal(keys[3], (3, 2))
    h0c = jax.lax.complex(h0, -h0)
    start = jnp.array([0, 7, 49])

    real, cplx = linear_scan((a, ac), (b, bc), (h0, h0c), start)
    close(real, held_states(a, b, h0, start))
    close(cplx, held_states(ac, bc, h0c, start))
    np.testing.assert_array_equal(real[:49, 2], jnp.broadcast_to(h0[2], (49, 2)))  # held exactly before its start
    close(linear_scan(a, b, h0, None), held_states(a, b, h0, jnp.zeros(3, int)))  # start=None: no padding

    a_pos, b_pos = jnp.abs(a) + 0.05, jnp.abs(b)
    log_space = linear_scan(jnp.log(a_pos), jnp.log(b_pos), h0, start, log=True)
    close(log_space, held_states(a_pos, b_pos, h0, start))
    np.testing.assert_array_equal(log_space[:49, 2], jnp.broadcast_to(h0[2], (49, 2)))


@pytest.mark.parametrize("kind", LINEAR)
def test_parallel_equals_sequential_in_outputs_and_gradients(kind):
    """Rows of lengths 1 to 1000 in one left-padded batch; the last output and every step's output (padded steps
    emit the step from the held state in both), and the gradients of a loss on each, to 1e-5."""
    cell = ZooCell(kind, units=3)
    n_in, width = 2, max(ROW_LENGTHS)
    params = cell.init(jax.random.key(1), n_in)
    x = jax.random.normal(jax.random.key(2), (len(ROW_LENGTHS), width, n_in))
    start = width - jnp.array(ROW_LENGTHS)
    probe = jax.random.normal(jax.random.key(3), (len(ROW_LENGTHS), width, cell.units))

    def run(p, scan, every):
        return run_cell(cell, p, x, start, every=every, scan=scan)

    for every in (False, True):
        loss = (lambda p, scan: jnp.sum(run(p, scan, True) * probe)) if every else \
            (lambda p, scan: jnp.sum(jnp.sin(run(p, scan, False))))
        grad = jax.grad(loss)
        close(run(params, "parallel", every), run(params, "sequential", every))
        close(grad(params, "parallel"), grad(params, "sequential"))
    # one start for the whole batch, and a sequence of one step
    close(run_cell(cell, params, x, 500, scan="parallel"), run_cell(cell, params, x, 500))
    close(run_cell(cell, params, x[:, :1], 0, scan="parallel"), run_cell(cell, params, x[:, :1], 0))


def test_parallel_refuses_a_cell_not_linear_in_its_state():
    with pytest.raises(ValueError, match="linear in their state"):
        run_cell(ZooCell("cornn"), ZooCell("cornn").init(jax.random.key(0), 1), jnp.zeros((1, 3, 1)), scan="parallel")


TINY = SweepConfig(cells=("mingru", "lru:rmin=0.9:rmax=0.999"), task="latch", lengths=(4, 30), seeds=6, epochs=2,
                   samples=400, lrs=(1e-2,), split="keras")


def test_a_sweeps_success_table_is_the_same_either_way():
    sequential = run_sweep(TINY.replace(scan="sequential"))
    parallel = run_sweep(TINY.replace(scan="parallel"))
    np.testing.assert_array_equal(parallel.success(), sequential.success())
    np.testing.assert_allclose(parallel.metrics["val_acc"], sequential.metrics["val_acc"], atol=1e-6)
    assert np.isfinite(parallel.metrics["val_loss"]).all()


def test_scan_setting_and_its_refusals():
    assert SweepConfig().scan == "auto"
    with pytest.raises(SettingsError, match="parallel is for cells linear in their state.*lstm is not") as err:
        SweepConfig(cells=("mingru", "lstm"), scan="parallel")
    assert err.value.as_flag().startswith("--scan: ") and "\n" not in str(err.value)
    with pytest.raises(SettingsError, match="sequential, parallel"):
        SweepConfig(scan="fast")
    with pytest.raises(SettingsError, match="forward-mode"):
        SweepConfig(cells=("s6",), scan="parallel", gradient="forward")
    # auto never takes the parallel scan for a cell that is not linear, whatever the backend
    for spec in ("srnn", "lstm", "gru", "cornn", "indrnn"):
        assert resolve_scan(make_cell(spec, 1, "keras2"), "auto", "gpu") == "sequential"


def test_critical_path_counts_the_parallel_scans_depth():
    assert [scan_depth(t, scan="parallel") for t in (1, 2, 3, 4, 1000)] == [1, 2, 4, 4, 20]
    assert scan_depth(1000, 8) == 125
    cfg = TINY.replace(cells=("mingru",), lengths=(30,), length_buckets=1)
    steps = {scan: sequential_steps(cfg.replace(scan=scan), plan_sweep(cfg)) for scan in ("sequential", "parallel")}
    batches = -(-cfg.n_train // cfg.batch_size)
    assert steps == {scan: cfg.epochs * (2 * batches + 1) * depth
                     for scan, depth in (("sequential", 30), ("parallel", 10))}
