"""latchjax's cells against the real frameworks: same weights, same outputs, same weights after training.

Each check builds the framework's own layer (``keras.layers.SimpleRNN/LSTM/GRU`` on Keras 3's JAX
backend, or ``torch.nn.RNN/LSTM/GRU``) and a two-class linear read-out, copies latchjax's initial
parameters into it, and compares

* the last hidden state on a batch of ``latch`` sequences (``output_diff``), and
* every weight after ``steps`` Adam steps on the same minibatches, each side with its own
  framework's Adam and cross-entropy (``weight_diff``),

as maximum absolute differences. Keras and PyTorch are optional: they are imported only here.
``python -m latchjax.analysis.fidelity`` prints the table recorded in ``docs/CELLS.md``.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latchjax.core.cells import RNNCell, hard_sigmoid
from latchjax.core.model import head_logits, head_loss, init_head, run_cell
from latchjax.core.optim import default_optimizer
from latchjax.core.tasks import latch

LAYERS = {"srnn": ("SimpleRNN", "RNN"), "lstm": ("LSTM", "LSTM"), "gru": ("GRU", "GRU")}


class Fidelity(NamedTuple):
    output_diff: float
    weight_diff: float


def _problem(cell: RNNCell, seed: int, length: int, batch: int, steps: int):
    """Initial parameters (biases perturbed where the framework starts them at zero, so that every
    term of the equations is exercised) and ``steps`` minibatches of the latch task."""
    k_cell, k_head, k_bias, k_data = jax.random.split(jax.random.key(seed), 4)
    params = {"cell": cell.init(k_cell, 1), "head": init_head(k_head, cell, "softmax")}
    if cell.flavor_spec.layout == "keras":
        bias = params["cell"]["bias"]
        params["cell"]["bias"] = bias + 0.3 * jax.random.normal(k_bias, bias.shape)
        params["head"]["bias"] = 0.3 * jax.random.normal(jax.random.fold_in(k_bias, 1), (2,))
    x, y = latch(k_data, batch * steps, length)
    return params, np.asarray(x).reshape(steps, batch, length, 1), np.asarray(y).reshape(steps, batch)


def _train(cell: RNNCell, params: Any, xs: np.ndarray, ys: np.ndarray, lr: float) -> tuple[np.ndarray, Any]:
    """latchjax's side: the last hidden state on the first minibatch, and the parameters after one Adam
    step per minibatch (the flavour's Adam, mean cross-entropy of a softmax head)."""
    tx = default_optimizer(cell.flavor)(lr)

    def loss(p, x, y):
        return head_loss("softmax", head_logits(p, run_cell(cell, p["cell"], x)), y)[0].mean()

    @jax.jit
    def step(p, state, x, y):
        updates, state = tx.update(jax.grad(loss)(p, x, y), state, p)
        return optax.apply_updates(p, updates), state

    h0 = np.asarray(run_cell(cell, params["cell"], jnp.asarray(xs[0])))
    state = tx.init(params)
    for x, y in zip(xs, ys):
        params, state = step(params, state, jnp.asarray(x), jnp.asarray(y))
    return h0, jax.tree.map(np.asarray, params)


def _max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))) for x, y in zip(a, b))


def check_keras(kind: str, units: int, flavor: str = "keras3", steps: int = 20, lr: float = 0.01,
                length: int = 10, batch: int = 16, seed: int = 0) -> Fidelity:
    """latchjax's ``keras2``/``keras3`` cell against the Keras 3 layer on the JAX backend.

    ``keras2`` is Keras 3's layer with Keras 2.1's choices: ``recurrent_activation`` = Keras 2's
    hard_sigmoid (clip(0.2x + 0.5); Keras 3's own is clip(x/6 + 0.5)) and ``reset_after=False``.
    """
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    if keras.backend.backend() != "jax":
        raise RuntimeError(f"KERAS_BACKEND must be jax, got {keras.backend.backend()}")
    cell = RNNCell(kind, units, flavor)
    params, xs, ys = _problem(cell, seed, length, batch, steps)
    options: dict = {}
    if kind != "srnn":
        options["recurrent_activation"] = (lambda z: hard_sigmoid(z)) if flavor == "keras2" else "sigmoid"
    if kind == "gru":
        options["reset_after"] = cell.gru_reset_after
    layer = getattr(keras.layers, LAYERS[kind][0])(units, **options)
    dense = keras.layers.Dense(2)
    model = keras.Sequential([keras.Input((length, 1)), layer, dense])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    p = params["cell"]
    layer.set_weights([np.asarray(p["kernel"]), np.asarray(p["recurrent_kernel"]), np.asarray(p["bias"])])
    dense.set_weights([np.asarray(params["head"]["kernel"]), np.asarray(params["head"]["bias"])])
    theirs_h0 = np.asarray(layer(xs[0]))
    for x, y in zip(xs, ys):
        model.train_on_batch(x, y)
    ours_h0, trained = _train(cell, params, xs, ys, lr)
    ours = [trained["cell"]["kernel"], trained["cell"]["recurrent_kernel"], trained["cell"]["bias"],
            trained["head"]["kernel"], trained["head"]["bias"]]
    return Fidelity(_max_diff([ours_h0], [theirs_h0]), _max_diff(ours, layer.get_weights() + dense.get_weights()))


def check_torch(kind: str, units: int, steps: int = 20, lr: float = 0.01, length: int = 10, batch: int = 16,
                seed: int = 0) -> Fidelity:
    """latchjax's ``torch`` cell against ``torch.nn.RNN/LSTM/GRU`` + ``nn.Linear(units, 2)``, trained
    with ``torch.optim.Adam`` and ``nn.CrossEntropyLoss``."""
    import torch

    cell = RNNCell(kind, units, "torch")
    params, xs, ys = _problem(cell, seed, length, batch, steps)
    rnn = getattr(torch.nn, LAYERS[kind][1])(1, units, batch_first=True)
    linear = torch.nn.Linear(units, 2)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(rnn, f"{name}_l0").copy_(torch.from_numpy(np.array(params["cell"][name])))
        linear.weight.copy_(torch.from_numpy(np.array(params["head"]["kernel"]).T))
        linear.bias.copy_(torch.from_numpy(np.array(params["head"]["bias"])))
    with torch.no_grad():
        theirs_h0 = rnn(torch.tensor(xs[0]))[0][:, -1].numpy()
    optimizer = torch.optim.Adam([*rnn.parameters(), *linear.parameters()], lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for x, y in zip(xs, ys):
        optimizer.zero_grad()
        loss = loss_fn(linear(rnn(torch.tensor(x))[0][:, -1]), torch.tensor(y, dtype=torch.int64))
        loss.backward()
        optimizer.step()
    ours_h0, trained = _train(cell, params, xs, ys, lr)
    ours = [trained["cell"][n] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    ours += [trained["head"]["kernel"].T, trained["head"]["bias"]]
    theirs = [getattr(rnn, f"{n}_l0").detach().numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    theirs += [linear.weight.detach().numpy(), linear.bias.detach().numpy()]
    return Fidelity(_max_diff([ours_h0], [theirs_h0]), _max_diff(ours, theirs))


def main() -> None:
    print("| framework | flavour | cell | units | max output diff | max weight diff after 20 Adam steps |")
    print("|---|---|---|---|---|---|")
    for kind in LAYERS:
        for units in (1, 3):
            for flavor in ("keras2", "keras3"):
                out, weight = check_keras(kind, units, flavor)
                print(f"| Keras {_version('keras')} (JAX backend) | {flavor} | {kind} | {units} | {out:.1e} | {weight:.1e} |")
            out, weight = check_torch(kind, units)
            print(f"| PyTorch {_version('torch')} | torch | {kind} | {units} | {out:.1e} | {weight:.1e} |")


def _version(package: str) -> str:
    return metadata.version(package)


if __name__ == "__main__":
    main()
