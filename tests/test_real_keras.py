"""The keras2 and keras3 flavours against Keras 3's own layers (JAX backend): same weights in, same
outputs, and the same weights after 20 Adam steps on the same minibatches (latchjax.analysis.fidelity)."""

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
pytest.importorskip("keras")

from latchjax.analysis.fidelity import check_keras  # noqa: E402

pytestmark = pytest.mark.fidelity  # against Keras 3 itself


@pytest.mark.parametrize("flavor", ["keras2", "keras3"])
@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("kind", ["srnn", "lstm", "gru"])
def test_real_keras_layer_gives_the_same_outputs_and_training(kind, units, flavor):
    result = check_keras(kind, units, flavor)
    assert result.output_diff < 1e-5
    assert result.weight_diff < 1e-4
