"""The pure trainer: one model's whole training as a function of its hyperparameters and data.

:func:`make_train` returns ``train(hparams, data)``: initialise, then a ``lax.scan`` over epochs of a
``lax.scan`` over minibatches of the masked time scan (:func:`latchjax.model.run_cell`). Both arguments
are pytrees (:class:`Hparams`, :class:`Data`), so batching whole sweeps is a matter of axes:
:func:`make_program` vmaps it over models (``in_axes=(0, None)``: hyperparameters per model, data shared)
and over lengths (``(None, 0)``), optionally splits the model axis across devices, and jits it.

Sequences are left-padded to the longest length of a program and the state is held at its initial
value until a model's own first element, so a length-L model inside a mixed-length program computes
exactly what it computes alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latchjax.cells import Cell
from latchjax.config import SweepConfig
from latchjax.model import initial_params, model_loss
from latchjax.optim import resolve_optimizer

METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


class Hparams(NamedTuple):
    """What differs between the models of one program: the random key (initialisation and shuffles),
    the learning rate and the forget-gate bias."""

    key: jax.Array
    lr: jax.Array
    forget_bias: jax.Array


class Data(NamedTuple):
    """One length's dataset, left-padded to the program's longest length ``T``: ``x_* (n, T, n_in)``,
    ``y_* (n,)``, and ``length``, the real length (padding = the first ``T - length`` steps)."""

    length: jax.Array
    x_train: jax.Array
    y_train: jax.Array
    x_val: jax.Array
    y_val: jax.Array


OnEpoch = Callable[[Any, Any], None]


def make_train(cell: Cell, cfg: SweepConfig, on_epoch: OnEpoch | None = None) -> Callable[..., dict]:
    """``train(hparams, data, tag=0) -> outputs`` for one model: the metrics of every epoch
    (:data:`METRICS`, each ``(epochs,)``), ``diverged`` and the final ``params``.

    ``on_epoch(tag, epoch_index)`` is called from the compiled program (``jax.debug.callback``) at the
    end of every epoch, once for all the models of a vmapped program; ``tag`` is whatever the caller
    passed (the runner passes its chunk's index). It only reports progress and changes no result.
    """
    batch = cfg.batch_size
    n_train = cfg.n_train
    n_batches = -(-n_train // batch)  # Keras keeps a last, smaller batch
    n_pad = n_batches * batch - n_train
    make_optimizer = resolve_optimizer(cfg.optimizer, cell.flavor)

    def train(hparams: Hparams, data: Data, tag: Any = 0) -> dict:
        n_in, max_length = data.x_train.shape[-1], data.x_train.shape[-2]
        _, k_shuffle = jax.random.split(hparams.key)
        params = initial_params(cell, cfg, hparams.key, hparams.forget_bias, n_in, data.length, max_length)
        tx = make_optimizer(hparams.lr)
        start = max_length - data.length
        weights = jnp.concatenate([jnp.ones(n_train), jnp.zeros(n_pad)]).reshape(n_batches, batch)

        def batch_loss(params, x, y, weight):
            return model_loss(cell, cfg.head, params, x, y, weight, start, cfg.unroll)

        def minibatch(state, inputs):
            params, opt_state = state
            idx, weight = inputs
            (loss, acc), grads = jax.value_and_grad(batch_loss, has_aux=True)(
                params, data.x_train[idx], data.y_train[idx], weight
            )
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), (loss, acc)

        def epoch(state, inputs):
            epoch_key, epoch_index = inputs
            order = jax.random.permutation(epoch_key, n_train)
            order = jnp.concatenate([order, order[:n_pad]]).reshape(n_batches, batch)
            state, (losses, accs) = jax.lax.scan(minibatch, state, (order, weights))
            sizes = weights.sum(axis=1)
            train_loss = jnp.sum(losses * sizes) / n_train  # Keras's running mean over the epoch
            train_acc = jnp.sum(accs * sizes) / n_train
            val_loss, val_acc = batch_loss(state[0], data.x_val, data.y_val, jnp.ones(data.y_val.shape[0]))
            finite = jnp.all(jnp.isfinite(losses)) & jnp.isfinite(val_loss)
            metrics = (train_loss, jnp.where(finite, train_acc, jnp.nan), val_loss, jnp.where(finite, val_acc, jnp.nan))
            if on_epoch is not None:
                jax.debug.callback(on_epoch, tag, epoch_index)
            return state, (metrics, finite)

        epoch_keys = jax.random.split(k_shuffle, cfg.epochs)
        epochs = (epoch_keys, jnp.arange(cfg.epochs))
        (params, _), (metrics, finite) = jax.lax.scan(epoch, (params, tx.init(params)), epochs)
        diverged = ~jnp.all(finite)
        return dict(zip(METRICS, metrics)) | {"diverged": diverged, "params": params}

    return train


def make_program(cell: Cell, cfg: SweepConfig, on_epoch: OnEpoch | None = None,
                 devices: list | None = None) -> Callable[..., dict]:
    """Jitted ``program(hparams, data, tag)`` training every model of a chunk on every length of a bucket.

    ``hparams`` leaves have shape ``(n_models,)``; ``data`` leaves a leading length axis (with
    ``cfg.data == "per-seed"`` the data arrays have a model axis after it: ``(n_lengths, n_models, ...)``).
    Outputs have shape ``(n_lengths, n_models, ...)``. With several ``devices`` the model axis is split
    across them (``shard_map``: each device trains its own models on a copy of the data; nothing is
    exchanged), so ``n_models`` must be a multiple of ``len(devices)``.
    """
    per_seed = cfg.data == "per-seed"
    data_per_model = Data(None, 0, 0, 0, 0) if per_seed else None
    per_length = jax.vmap(make_train(cell, cfg, on_epoch), in_axes=(0, data_per_model, None))
    program = jax.vmap(per_length, in_axes=(None, 0, None))
    if devices is not None and len(devices) > 1:
        P = jax.sharding.PartitionSpec
        mesh = jax.sharding.Mesh(np.asarray(devices), ("models",))
        data_spec = Data(P(), *(P(None, "models"),) * 4) if per_seed else P()
        program = jax.shard_map(program, mesh=mesh, in_specs=(P("models"), data_spec, P()),
                                out_specs=P(None, "models"), check_vma=False)
    return jax.jit(program)


# XLA's CPU backend hands some small reductions inside the time loop to YNNPACK, which costs a
# library call per time step: 5.5x slower for 120 one-unit LSTMs (benchmarks/RESULTS.md).
CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def compile_lowered(lowered: Any) -> Any:
    """Compile with :data:`CPU_COMPILER_OPTIONS` on CPU; without them where XLA does not know them."""
    if jax.default_backend() == "cpu":
        try:
            return lowered.compile(compiler_options=CPU_COMPILER_OPTIONS)
        except jax.errors.JaxRuntimeError as err:
            if "compile option" not in str(err):
                raise
    return lowered.compile()
