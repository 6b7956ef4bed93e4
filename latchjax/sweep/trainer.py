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
from latchjax.core.model import init_head, model_loss, model_outputs, resolve_scan, sequence_loss
from latchjax.core.optim import resolve_optimizer
from latchjax.core.scan import hold
from latchjax.core.shuffle import epoch_order
from latchjax.core.tasks.output import as_sequences, evaluate_rule
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
    the learning rate and the forget-gate bias; ``shuffle_key``, where given (``cfg.shuffle_seed``), shuffles
    instead of ``key``."""

    key: jax.Array
    lr: jax.Array
    forget_bias: jax.Array
    shuffle_key: jax.Array | None = None


class Data(NamedTuple):
    """One length's data, left-padded to the program's width ``T``: ``x_* (n, T, n_in)``, targets ``y_*`` (as the
    task's :class:`~latchjax.core.tasks.output.Output` says), and ``length``, the real (nominal) length (padding =
    the first ``T - length`` steps). Optional: ``start_*`` (n,) each row's first real step, for a task whose rows
    have their own lengths; ``mask_*`` (n, T) the steps whose outputs count, for an output at every step;
    ``stream`` the key of an online data stream (``cfg.data`` ``online`` / ``online-per-seed``: every minibatch is
    drawn in the program from ``fold_in(stream, step)``, and ``x_train``/``y_train`` are ``None``)."""

    length: jax.Array
    x_train: jax.Array | None
    y_train: jax.Array | None
    x_val: jax.Array
    y_val: jax.Array
    start_train: jax.Array | None = None
    start_val: jax.Array | None = None
    mask_train: jax.Array | None = None
    mask_val: jax.Array | None = None
    stream: jax.Array | None = None


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
    ``forward``, or ``auto`` and forward mode is expected to be faster on this backend (never for an output at every
    step, which forward mode does not compute)."""
    if cfg.output.every:
        return False
    if cfg.gradient == "auto" and resolve_scan(cell, cfg.scan) == "parallel":  # the parallel scan is reverse-mode's
        return False
    return cfg.gradient == "forward" or (cfg.gradient == "auto" and forward_is_cheaper(cell, n_in))


def online_batch(cfg: SweepConfig, key: jax.Array, n: int, length: int, width: int) -> tuple:
    """``(x, y, start, mask)`` of ``n`` fresh sequences of the task at ``length``, drawn inside the program (the task
    must be a JAX function), shaped as :func:`latchjax.core.data.make_dataset` shapes them at ``width``."""
    output = cfg.output
    seq = as_sequences(cfg.resolved.task(key, n, length))
    x = jnp.asarray(seq.x, jnp.float32)
    y = jnp.asarray(seq.y, jnp.int32 if output.kind == "class" else jnp.float32)
    start = width - length if seq.length is None else width - jnp.asarray(seq.length, jnp.int32)
    mask = None
    if output.every:
        mask = jnp.ones(x.shape[:2], jnp.float32) if seq.mask is None else jnp.asarray(seq.mask, jnp.float32)
        mask = mask * (jnp.arange(x.shape[1]) >= jnp.reshape(start, (-1, 1)))
    return x, y, start, mask


def make_trainer(cell: Cell, cfg: SweepConfig, length: int | None = None) -> Trainer:
    """The :class:`Trainer` of one model: initialisation (:func:`initial_params` and the optimizer's state), then
    per round (an epoch of offline data, or ``cfg.eval_every`` minibatches of online data) a ``lax.scan`` over
    minibatches of the masked time scan, and a validation pass.

    Offline data: each epoch shuffles the training set (:func:`latchjax.core.shuffle.epoch_order`). Online data
    (``cfg.data`` ``online`` / ``online-per-seed``): minibatch ``s`` is drawn fresh from ``fold_in(data.stream, s)``
    by the task at ``length`` (static: one program per length), and steps past the budget change nothing. With
    ``cfg.stop_at_success`` the state carries a flag set when the success rule first holds; from then on the
    parameters and the optimizer state never change. With ``cfg.train`` ``head`` only the read-out trains: the cell's
    gradients and updates are zero, so it keeps its initial parameters exactly."""
    batch = cfg.batch_size
    online = cfg.online
    make_optimizer = resolve_optimizer(cfg.optimizer, cell.flavor)
    head, rule, output, stop = cfg.loss_head, cfg.rule, cfg.output, cfg.stop_at_success
    head_only = cfg.train == "head"
    lr_scales = cell.lr_scales() if hasattr(cell, "lr_scales") else {}
    head_scale = float(cfg.head_lr_scale)
    scan = resolve_scan(cell, cfg.scan)
    if online:
        if length is None:
            raise ValueError("make_trainer: online data needs the program's length")
        n_steps, total_steps = cfg.steps_per_round, cfg.total_steps
        n_train = n_steps * batch
    else:
        n_train = cfg.n_train
        n_steps = -(-n_train // batch)  # Keras keeps a last, smaller batch
    n_pad = n_steps * batch - n_train

    def init(hparams: Hparams, data: Data) -> tuple:
        n_in, max_length = data.x_val.shape[-1], data.x_val.shape[-2]
        params = initial_params(cell, cfg, hparams.key, hparams.forget_bias, n_in, data.length, max_length)
        state = (params, make_optimizer(hparams.lr).init(params))
        return (*state, jnp.zeros((), bool)) if stop else state

    def epoch(state: tuple, hparams: Hparams, data: Data, index: jax.Array) -> tuple[tuple, dict]:
        tx = make_optimizer(hparams.lr)
        width = data.x_val.shape[-2]
        start = width - data.length
        done = state[2] if stop else None

        def batch_loss(params, x, y, weight, start, mask):
            return model_loss(cell, head, params, x, y, weight, start, cfg.unroll, mask, scan)

        def minibatch(state, inputs):
            params, opt_state = state[:2]
            if online:
                step = inputs
                x, y, row_start, mask = online_batch(cfg, jax.random.fold_in(data.stream, step), batch, length, width)
                weight = jnp.ones(batch)
                active = step < total_steps
            else:
                idx, weight = inputs
                x, y = data.x_train[idx], data.y_train[idx]
                row_start = start if data.start_train is None else data.start_train[idx]
                mask = None if data.mask_train is None else data.mask_train[idx]
                active = None
            if forward_mode(cell, cfg, x.shape[-1]):
                (loss, acc), grads = forward_value_and_grad(cell, head, params, x, y, weight, row_start, cfg.unroll)
            else:
                (loss, acc), grads = jax.value_and_grad(batch_loss, has_aux=True)(params, x, y, weight, row_start,
                                                                                  mask)
            if head_only:  # the cell keeps its initial parameters; the optimizer never sees its gradients
                grads = grads | {"cell": jax.tree.map(jnp.zeros_like, grads["cell"])}
            updates, new_opt_state = tx.update(grads, opt_state, params)
            if head_only:
                updates = updates | {"cell": jax.tree.map(jnp.zeros_like, updates["cell"])}
            elif lr_scales:  # parameters with their own learning rate (expRNN's A): the same update, scaled
                updates = updates | {"cell": {k: u * lr_scales.get(k, 1.0) for k, u in updates["cell"].items()}}
            if head_scale != 1.0:  # the read-out's own effective learning rate
                updates = updates | {"head": jax.tree.map(lambda u: u * head_scale, updates["head"])}
            new = (optax.apply_updates(params, updates), new_opt_state)
            if stop or online:  # a solved model (or a step past the budget) changes nothing
                changes = jnp.logical_not(done) if stop else jnp.ones((), bool)
                changes = changes & active if online else changes
                new = hold(changes, new, (params, opt_state))
                weight = weight * active if online else weight  # the round's train loss: its steps in the budget
            return (*new, *state[2:]), ((loss, acc, jnp.sum(weight)) if online else (loss, acc))

        if online:
            steps = index * n_steps + jnp.arange(n_steps)
            state, (losses, accs, sizes) = jax.lax.scan(minibatch, state, steps)
            seen = jnp.maximum(jnp.sum(sizes), 1.0)
            train_loss, train_acc = jnp.sum(losses * sizes) / seen, jnp.sum(accs * sizes) / seen
        else:
            weights = jnp.concatenate([jnp.ones(n_train), jnp.zeros(n_pad)]).reshape(n_steps, batch)
            shuffle_key = hparams.key if hparams.shuffle_key is None else hparams.shuffle_key
            order = epoch_order(shuffle_key, index, cfg.epochs, n_train, batch)
            state, (losses, accs) = jax.lax.scan(minibatch, state, (order, weights))
            sizes = weights.sum(axis=1)
            train_loss = jnp.sum(losses * sizes) / n_train  # Keras's running mean over the epoch
            train_acc = jnp.sum(accs * sizes) / n_train
        params = state[0]
        val_start = start if data.start_val is None else data.start_val
        if rule is None and not output.every:
            val_loss, val_acc = batch_loss(params, data.x_val, data.y_val, jnp.ones(data.y_val.shape[0]), val_start,
                                           None)
            judged = {}
        else:  # the task's own success rule, on the same validation outputs
            out = model_outputs(cell, params, data.x_val, val_start, cfg.unroll, output.every, scan)
            per_sample, correct = sequence_loss(head, out, data.y_val, data.mask_val)
            val_loss, val_acc = jnp.mean(per_sample), jnp.mean(correct)
            judged = {} if rule is None else evaluate_rule(rule, output, out, data.y_val, val_loss, data.length,
                                                           data.mask_val)
        params_finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(params)]))
        finite = (jnp.all(jnp.isfinite(losses)) & jnp.isfinite(val_loss) & params_finite
                  & (train_loss <= DIVERGED_LOSS) & (val_loss <= DIVERGED_LOSS))
        metrics = {"train_loss": train_loss, "train_acc": jnp.where(finite, train_acc, jnp.nan),
                   "val_loss": val_loss, "val_acc": jnp.where(finite, val_acc, jnp.nan), "finite": finite}
        if rule is not None:  # a diverged model fails, and its rule's metrics are NaN
            metrics["success"] = (finite & judged.pop("success")).astype(jnp.float32)
            metrics |= {k: jnp.where(finite, v, jnp.nan).astype(jnp.float32) for k, v in judged.items()}
        if stop:  # solved now: frozen from the next step on
            solved = metrics["success"] > 0.5 if rule is not None else finite & (val_acc >= cfg.threshold)
            state = (*state[:2], state[2] | solved)
        return state, metrics

    return Trainer(init, epoch)


def finish(state: tuple, metrics: dict) -> dict:
    """A model's outputs from its final state and its per-epoch metrics (each with a trailing epoch axis):
    every metric array (:func:`metric_names`), ``diverged`` (some epoch was not ``finite``: see :data:`DIVERGED_LOSS`) and the final
    ``params``."""
    kept = {name: value for name, value in metrics.items() if name != "finite"}
    return kept | {"diverged": ~jnp.all(metrics["finite"], axis=-1), "params": state[0]}


def make_train(cell: Cell, cfg: SweepConfig, length: int | None = None) -> Callable[[Hparams, Data], dict]:
    """``train(hparams, data) -> outputs``: one model's whole training as one pure function (its rounds a
    ``lax.scan``): the metrics of every round (:data:`METRICS`, each ``(rounds,)``: an epoch of offline data,
    ``cfg.eval_every`` steps of online data), ``diverged`` and the final ``params``. Vmap it over models with
    ``in_axes=(0, None)`` and over lengths with ``(None, 0)``. Online data needs the (static) ``length``."""
    trainer = make_trainer(cell, cfg, length)

    def train(hparams: Hparams, data: Data) -> dict:
        def epoch(state, index):
            return trainer.epoch(state, hparams, data, index)

        state, metrics = jax.lax.scan(epoch, trainer.init(hparams, data), jnp.arange(cfg.rounds))
        return finish(state, metrics)

    return train


class Program(NamedTuple):
    """The jitted, vmapped :class:`Trainer` of a chunk: ``init(hparams, data)`` and
    ``epoch(state, hparams, data, index)`` over every model and length (see :func:`make_program`)."""

    init: Any
    epoch: Any


def data_axes(cfg: SweepConfig, data: Data) -> Data | None:
    """Which leaves of ``data`` have a model axis (``0``) in a program: every array of per-seed data, the stream
    of per-seed online data; ``None``: none (data shared by the models)."""
    if cfg.data == "per-seed":
        return Data(*(None if name == "length" or value is None else 0 for name, value in data._asdict().items()))
    if cfg.data == "online-per-seed":
        return Data(*(0 if name == "stream" else None for name in Data._fields))
    return None


def make_program(cell: Cell, cfg: SweepConfig, devices: list | None = None, data: Data | None = None,
                 length: int | None = None) -> Program:
    """The :class:`Trainer` of ``cell`` for every model of a chunk on every length of a bucket, jitted.

    ``hparams`` leaves have shape ``(n_models,)``; ``data`` leaves a leading length axis (with
    ``cfg.data == "per-seed"`` the data arrays have a model axis after it: ``(n_lengths, n_models, ...)``;
    ``data`` here, its shapes or arrays, says which optional fields are present: :func:`data_axes`); online data
    needs the bucket's one ``length``;
    state and metrics have shape ``(n_lengths, n_models, ...)``. With several ``devices`` the model axis is
    split across them (``shard_map``: each device trains its own models on a copy of the data; nothing is
    exchanged), so ``n_models`` must be a multiple of ``len(devices)``. Epochs are separate calls: the caller
    reports progress between them, and no host callback keeps the programs out of the compilation cache.
    """
    trainer = make_trainer(cell, cfg, length)
    axes = data_axes(cfg, data if data is not None else Data(0, 0, 0, 0, 0))
    init = jax.vmap(jax.vmap(trainer.init, in_axes=(0, axes)), in_axes=(None, 0))
    epoch = jax.vmap(jax.vmap(trainer.epoch, in_axes=(0, 0, axes, None)), in_axes=(0, None, 0, None))
    if devices is not None and len(devices) > 1:
        P = jax.sharding.PartitionSpec
        mesh = jax.sharding.Mesh(np.asarray(devices), ("models",))
        data_spec = P() if axes is None else jax.tree.map(lambda a: P() if a is None else P(None, "models"), axes,
                                                          is_leaf=lambda a: a is None)
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
    return Hparams(model_keys(cfg.seed, seed_idx), np.asarray(cfg.lrs, np.float32)[lr_idx],
                   np.asarray(fbs, np.float32)[fb_idx],
                   None if cfg.shuffle_seed is None else model_keys(cfg.shuffle_seed, seed_idx))


def model_keys(seed: int, repeats: Any) -> jax.Array:
    """Repeat ``i``'s key, ``fold_in(key(seed), i)``, for each of ``repeats``."""
    base = jax.random.key(seed)
    return jax.vmap(lambda s: jax.random.fold_in(base, s))(jnp.asarray(repeats))
