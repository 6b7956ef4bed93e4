"""The one time loop, :func:`latchjax.core.scan.masked_scan`: left padding holds the state exactly."""

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.scan import masked_scan

W = jnp.array([[0.9, -0.4], [0.3, 1.1]])


def step(carry, x_t):
    """A two-leaf carry (a (batch, 2) state and a (batch,) running sum) that every step moves."""
    h, total = carry
    h = jnp.tanh(h @ W + x_t + 0.3)
    return (h, total + h[:, 0]), h


def zeros(batch):
    return jnp.zeros((batch, 2)), jnp.zeros((batch,))


def test_masked_scan_holds_the_state_through_left_padding():
    x = jax.random.normal(jax.random.key(0), (7, 3, 2))  # (time, batch, features)
    pad = jax.random.normal(jax.random.key(1), (4, 3, 2))  # non-zero padding: a padded step would move the state
    alone, alone_hs = masked_scan(step, zeros(3), x, outputs=True)

    # one start for the whole batch: the held carry is the unpadded run's, bit for bit
    held, _ = masked_scan(step, zeros(3), jnp.concatenate([pad, x]), start=4)
    jax.tree.map(np.testing.assert_array_equal, held, alone)
    moved, _ = masked_scan(step, zeros(3), jnp.concatenate([pad, x]))
    assert not np.allclose(moved[0], alone[0], atol=1e-3)

    # one start per row: row i is left-padded by starts[i] steps and ends as it does alone
    starts = [0, 2, 4]
    seqs = [x[: 7 - s, i] for i, s in enumerate(starts)]
    rows = jnp.stack([jnp.concatenate([pad[:s, i], seq]) for i, (s, seq) in enumerate(zip(starts, seqs))], axis=1)
    per_row, _ = masked_scan(step, zeros(3), rows, start=jnp.array(starts))
    for i, seq in enumerate(seqs):
        row_alone, _ = masked_scan(step, zeros(1), seq[:, None])
        jax.tree.map(lambda a, b, i=i: np.testing.assert_array_equal(a[i : i + 1], b), per_row, row_alone)

    # outputs=True stacks every step's output along time; outputs=False returns none
    assert alone_hs.shape == (7, 3, 2)
    h = zeros(3)
    for t in range(7):
        h, _ = step(h, x[t])
        np.testing.assert_allclose(alone_hs[t], h[0], rtol=1e-6, atol=1e-7)
    assert masked_scan(step, zeros(3), x)[1] is None
    # start=None: no step is padding, a plain lax.scan
    jax.tree.map(np.testing.assert_array_equal, masked_scan(step, zeros(3), x, None)[0], jax.lax.scan(step, zeros(3), x)[0])
