"""The torch flavour against PyTorch itself (the `torch` extra; skipped where torch is not installed):
same weights in, same outputs, the same weights after 20 Adam steps, and the same initial distribution."""

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

from latchjax.analysis.fidelity import check_torch  # noqa: E402
from latchjax.core.cells import RNNCell  # noqa: E402
from latchjax.core.model import init_head  # noqa: E402

pytestmark = pytest.mark.fidelity  # against PyTorch itself


@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("kind", ["srnn", "lstm", "gru"])
def test_real_torch_layer_gives_the_same_outputs_and_training(kind, units):
    result = check_torch(kind, units)
    assert result.output_diff < 1e-5
    assert result.weight_diff < 1e-4


def test_real_torch_initial_distribution_is_pytorchs():
    """10^4 one-unit LSTMs and heads from each side: every parameter, and the effective forget bias
    b_ih,f + b_hh,f, has the same distribution (two-sample Kolmogorov-Smirnov)."""
    n = 10_000
    torch.manual_seed(0)
    theirs = {"weight_ih": [], "weight_hh": [], "forget": [], "head": []}
    for _ in range(n):
        lstm, linear = torch.nn.LSTM(1, 1), torch.nn.Linear(1, 2)
        theirs["weight_ih"].append(lstm.weight_ih_l0.detach().numpy().ravel()[0])
        theirs["weight_hh"].append(lstm.weight_hh_l0.detach().numpy().ravel()[2])
        theirs["forget"].append(float(lstm.bias_ih_l0[1] + lstm.bias_hh_l0[1]))
        theirs["head"].append(linear.bias.detach().numpy()[0])
    cell = RNNCell("lstm", 1, "torch")
    keys = jax.random.split(jax.random.key(0), n)
    p = jax.vmap(lambda k: cell.init(k, 1))(keys)
    head = jax.vmap(lambda k: init_head(k, cell, "softmax"))(keys)
    ours = {"weight_ih": p["weight_ih"][:, 0, 0], "weight_hh": p["weight_hh"][:, 2, 0],
            "forget": p["bias_ih"][:, 1] + p["bias_hh"][:, 1], "head": head["bias"][:, 0]}
    for name in theirs:
        assert stats.ks_2samp(np.asarray(ours[name]), np.asarray(theirs[name])).pvalue > 1e-3, name
