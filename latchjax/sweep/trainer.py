"""The pure trainer: one model's whole training as a function of its hyperparameters and data.

:func:`make_train` returns ``train(hparams, data)``: initialise, then a ``lax.scan`` over epochs of a
``lax.scan`` over minibatches of the masked time scan (:func:`latchjax.core.model.run_cell`). Both arguments
are pytrees (:class:`Hparams`, :class:`Data`), so batching whole sweeps is a matter of axes: over models
``in_axes=(0, None)`` (hyperparameters per model, data shared), over lengths ``(None, 0)``.
:func:`make_program` does that for the runner with the same two pieces (:class:`Trainer`: ``init`` and one
``epoch``), jitted, optionally splitting the model axis across devices.

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

from latchjax.core.cells import Cell
from latchjax.core.forward import forward_is_cheaper, forward_value_and_grad
from latchjax.core.model import head_logits, head_loss, init_head, model_loss, run_cell
from latchjax.core.optim import resolve_optimizer
from latchjax.core.shuffle import epoch_order
from latchjax.core.tasks.output import evaluate_rule
from latchjax.core.tasks.prototypes import orient_head
from latchjax.sweep.config import SweepConfig

METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")
# A model has diverged when, in some epoch, a loss is not finite, a parameter is not finite, or its mean training
# loss or validation loss exceeds this many nats per sample (chance is ln 2 = 0.69 for two classes): a runaway
# model (lr 1000 reaches losses of 1e2-1e30) is a failure whatever its accuracy.
DIVERGED_LOSS = 100.0


def metric_names(cfg: SweepConfig) -> tuple[str, ...]:
    """The per-epoch metrics a sweep's models record: :data:`METRICS`, and for a task with its own success
    rule (:attr:`SweepConfig.rule`) ``success`` (1.0 or 0.0) and the rule's metrics (e.g. ``test_errors``)."""
    rule = cfg.rule
    return METRICS if rule is None else (*METRICS, "success", *rule.metrics)


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


def initial_params(cell: Cell, cfg: SweepConfig, key: jax.Array, forget_bias: float | jax.Array, n_in: int,
                   length: int | jax.Array, max_length: int) -> dict:
    """The parameters model ``key`` starts training from: ``{"cell": ..., "head": ...}``.

    The trainer calls this very function, so a run's initial parameters are regenerated exactly from its
    config (keys from :func:`latchjax.sweep.trainer.model_grid`). ``length`` and ``max_length`` only matter for
    ``head_init`` ``aligned`` / ``reversed``, which orient the head on the prototypes of that length.
    """
    k_init, _ = jax.random.split(key)  # the other half shuffles the minibatches
    k_cell, k_head = jax.random.split(k_init)
    params = {"cell": cell.init(k_cell, n_in, forget_bias),
              "head": init_head(k_head, cell, cfg.loss_head, cfg.output.size)}
    if cfg.head_init != "random":
        params = orient_head(cell, params, cfg.task, cfg.task_kwargs, cfg.head, cfg.head_init, length, max_length)
    return params


class Trainer(NamedTuple):
    """One model's training in two pure pieces, so a caller can run the epochs one call at a time:
    ``init(hparams, data) -> state`` and ``epoch(state, hparams, data, index) -> (state, metrics)``, where
    ``metrics`` holds this epoch's :data:`METRICS` and ``finite`` (every loss and parameter finite, the mean
    losses at most :data:`DIVERGED_LOSS`)."""

    init: Callable[..., Any]
    epoch: Callable[..., tuple[Any, dict]]


def forward_mode(cell: Cell, cfg: SweepConfig, n_in: int) -> bool:
    """Whether ``cell`` trains with forward-mode gradients (:mod:`latchjax.core.forward`): ``cfg.gradient`` is
    ``forward``, or ``auto`` and forward mode is expected to be faster on this backend."""
    return cfg.gradient == "forward" or (cfg.gradient == "auto" and forward_is_cheaper(cell, n_in))


def make_trainer(cell: Cell, cfg: SweepConfig) -> Trainer:
    """The :class:`Trainer` of one model: initialisation (:func:`initial_params` and the
    optimizer's state), then per epoch a shuffle (:func:`latchjax.core.shuffle.epoch_order`), a ``lax.scan`` over
    minibatches of the masked time scan, and a validation pass."""
    batch = cfg.batch_size
    n_train = cfg.n_train
    n_batches = -(-n_train // batch)  # Keras keeps a last, smaller batch
    n_pad = n_batches * batch - n_train
    make_optimizer = resolve_optimizer(cfg.optimizer, cell.flavor)
    head, rule = cfg.loss_head, cfg.rule

    def init(hparams: Hparams, data: Data) -> tuple:
        n_in, max_length = data.x_train.shape[-1], data.x_train.shape[-2]
        params = initial_params(cell, cfg, hparams.key, hparams.forget_bias, n_in, data.length, max_length)
        return params, make_optimizer(hparams.lr).init(params)

    def epoch(state: tuple, hparams: Hparams, data: Data, index: jax.Array) -> tuple[tuple, dict]:
        tx = make_optimizer(hparams.lr)
        start = data.x_train.shape[-2] - data.length
        weights = jnp.concatenate([jnp.ones(n_train), jnp.zeros(n_pad)]).reshape(n_batches, batch)

        def batch_loss(params, x, y, weight):
            return model_loss(cell, head, params, x, y, weight, start, cfg.unroll)

        def minibatch(state, inputs):
            params, opt_state = state
            idx, weight = inputs
            x, y = data.x_train[idx], data.y_train[idx]
            if forward_mode(cell, cfg, x.shape[-1]):
                (loss, acc), grads = forward_value_and_grad(cell, head, params, x, y, weight, start, cfg.unroll)
            else:
                (loss, acc), grads = jax.value_and_grad(batch_loss, has_aux=True)(params, x, y, weight)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), (loss, acc)

        order = epoch_order(hparams.key, index, cfg.epochs, n_train, batch)
        state, (losses, accs) = jax.lax.scan(minibatch, state, (order, weights))
        sizes = weights.sum(axis=1)
        train_loss = jnp.sum(losses * sizes) / n_train  # Keras's running mean over the epoch
        train_acc = jnp.sum(accs * sizes) / n_train
        if rule is None:
            val_loss, val_acc = batch_loss(state[0], data.x_val, data.y_val, jnp.ones(data.y_val.shape[0]))
        else:  # the task's own success rule, on the same validation outputs
            params = state[0]
            out = head_logits(params, run_cell(cell, params["cell"], data.x_val, start, cfg.unroll))
            per_sample, correct = head_loss(head, out, data.y_val)
            val_loss, val_acc = jnp.mean(per_sample), jnp.mean(correct)
            judged = evaluate_rule(rule, cfg.output, out, data.y_val, val_loss, data.length)
        params_finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(state[0])]))
        finite = (jnp.all(jnp.isfinite(losses)) & jnp.isfinite(val_loss) & params_finite
                  & (train_loss <= DIVERGED_LOSS) & (val_loss <= DIVERGED_LOSS))
        metrics = {"train_loss": train_loss, "train_acc": jnp.where(finite, train_acc, jnp.nan),
                   "val_loss": val_loss, "val_acc": jnp.where(finite, val_acc, jnp.nan), "finite": finite}
        if rule is not None:  # a diverged model fails, and its rule's metrics are NaN
            metrics["success"] = (finite & judged.pop("success")).astype(jnp.float32)
            metrics |= {k: jnp.where(finite, v, jnp.nan).astype(jnp.float32) for k, v in judged.items()}
        return state, metrics

    return Trainer(init, epoch)


def finish(state: tuple, metrics: dict) -> dict:
    """A model's outputs from its final state and its per-epoch metrics (each with a trailing epoch axis):
    every metric array (:func:`metric_names`), ``diverged`` (some epoch was not ``finite``: see :data:`DIVERGED_LOSS`) and the final
    ``params``."""
    kept = {name: value for name, value in metrics.items() if name != "finite"}
    return kept | {"diverged": ~jnp.all(metrics["finite"], axis=-1), "params": state[0]}


def make_train(cell: Cell, cfg: SweepConfig) -> Callable[[Hparams, Data], dict]:
    """``train(hparams, data) -> outputs``: one model's whole training as one pure function (its epochs a
    ``lax.scan``): the metrics of every epoch (:data:`METRICS`, each ``(epochs,)``), ``diverged`` and the
    final ``params``. Vmap it over models with ``in_axes=(0, None)`` and over lengths with ``(None, 0)``."""
    trainer = make_trainer(cell, cfg)

    def train(hparams: Hparams, data: Data) -> dict:
        def epoch(state, index):
            return trainer.epoch(state, hparams, data, index)

        state, metrics = jax.lax.scan(epoch, trainer.init(hparams, data), jnp.arange(cfg.epochs))
        return finish(state, metrics)

    return train


class Program(NamedTuple):
    """The jitted, vmapped :class:`Trainer` of a chunk: ``init(hparams, data)`` and
    ``epoch(state, hparams, data, index)`` over every model and length (see :func:`make_program`)."""

    init: Any
    epoch: Any


def make_program(cell: Cell, cfg: SweepConfig, devices: list | None = None) -> Program:
    """The :class:`Trainer` of ``cell`` for every model of a chunk on every length of a bucket, jitted.

    ``hparams`` leaves have shape ``(n_models,)``; ``data`` leaves a leading length axis (with
    ``cfg.data == "per-seed"`` the data arrays have a model axis after it: ``(n_lengths, n_models, ...)``);
    state and metrics have shape ``(n_lengths, n_models, ...)``. With several ``devices`` the model axis is
    split across them (``shard_map``: each device trains its own models on a copy of the data; nothing is
    exchanged), so ``n_models`` must be a multiple of ``len(devices)``. Epochs are separate calls: the caller
    reports progress between them, and no host callback keeps the programs out of the compilation cache.
    """
    trainer = make_trainer(cell, cfg)
    per_seed = cfg.data == "per-seed"
    data_axes = Data(None, 0, 0, 0, 0) if per_seed else None
    init = jax.vmap(jax.vmap(trainer.init, in_axes=(0, data_axes)), in_axes=(None, 0))
    epoch = jax.vmap(jax.vmap(trainer.epoch, in_axes=(0, 0, data_axes, None)), in_axes=(0, None, 0, None))
    if devices is not None and len(devices) > 1:
        P = jax.sharding.PartitionSpec
        mesh = jax.sharding.Mesh(np.asarray(devices), ("models",))
        data_spec = Data(P(), *(P(None, "models"),) * 4) if per_seed else P()
        per_model = P(None, "models")
        init = jax.shard_map(init, mesh=mesh, in_specs=(P("models"), data_spec), out_specs=per_model,
                             check_vma=False)
        epoch = jax.shard_map(epoch, mesh=mesh, in_specs=(per_model, P("models"), data_spec, P()),
                              out_specs=per_model, check_vma=False)
    return Program(jax.jit(init), jax.jit(epoch))
def forget_bias_values(cfg: SweepConfig, cell: Cell) -> tuple[float, ...]:
    """The forget biases a cell trains at: the sweep's grid, or its first value for a cell without one."""
    return cfg.forget_biases if cell.has_forget_bias else cfg.forget_biases[:1]


def model_grid(cfg: SweepConfig, cell: Cell) -> Hparams:
    """Keys, learning rates and forget biases of every model of a cell, flattened (lr, forget_bias, seed)."""
    fbs = forget_bias_values(cfg, cell)
    grid = np.meshgrid(np.arange(len(cfg.lrs)), np.arange(len(fbs)), np.arange(cfg.seeds), indexing="ij")
    lr_idx, fb_idx, seed_idx = (g.ravel() for g in grid)
    base = jax.random.key(cfg.seed)
    keys = jax.vmap(lambda s: jax.random.fold_in(base, s))(jnp.asarray(seed_idx))
    return Hparams(keys, np.asarray(cfg.lrs, np.float32)[lr_idx], np.asarray(fbs, np.float32)[fb_idx])
