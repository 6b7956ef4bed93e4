"""One compiled program trains every model of a cell type: all lengths, seeds and hyperparameters.

The training of one model is a pure function (``_make_train_model``): initialise, then a
``lax.scan`` over epochs of a ``lax.scan`` over minibatches of a ``lax.scan`` over time.
It is vmapped twice:

* over **lengths** (outer), with each length's dataset batched along the same axis, so the
  data is never copied per model;
* over **seeds x learning rates x forget-gate biases** (inner), with the data shared.

Sequences are left-padded to the longest length in the program and the state is held at
its initial value until a model's own first element, so a length-L model inside a
mixed-length program computes exactly what it computes alone.

``length_buckets`` splits the lengths into at most that many groups, each padded only to
its own longest length (one compile per group, however many lengths and seeds). With one
bucket the whole sweep of a cell is a single program. The default is 3 on CPU (padding to
200 steps would do 2.3x the work on the question's lengths) and 1 on accelerators.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latchjax.cells import FLAVORS, Cell, make_cell, torch_uniform
from latchjax.data import SPLITS, Dataset, make_dataset
from latchjax.optim import default_optimizer
from latchjax.results import SweepResult
from latchjax.tasks import Task, make_task

# The question's lengths: [2, 5, 8, 10, 15, 20, 25, 30] + range(30, 210, 10). Its loop ran 30 twice
# (26 iterations) and its result dict kept one; latchjax runs each distinct length once.
QUESTION_LENGTHS: tuple[int, ...] = (2, 5, 8, 10, 15, 20, 25, 30) + tuple(range(40, 210, 10))
HEADS = ("softmax", "sigmoid")
HEAD_INITS = ("random", "aligned", "reversed")
DATA_MODES = ("shared", "per-seed")
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


def default_length_buckets() -> int:
    """3 on CPU, where padded steps cost as much as real ones; 1 on accelerators, where a step's
    cost hardly depends on its width and one program is fastest (benchmarks/RESULTS.md)."""
    return 3 if jax.default_backend() == "cpu" else 1


@dataclass(frozen=True)
class SweepConfig:
    """Everything that defines a sweep. Defaults are the question's Q1 setup with a correct split.

    ``cells`` holds names or specs (``srnn``, ``lstm``, ``gru``, ``janet:flavor=torch``, ...; see
    :func:`~latchjax.cells.parse_cell`), :class:`~latchjax.cells.RNNCell` /
    :class:`~latchjax.cells.FlaxCell` objects or Flax cells. ``task`` is a name or a function
    ``(key, n, length) -> (x, y)``. ``optimizer`` maps a learning rate to an optax
    transformation (default: each cell's flavour's Adam: Keras's for ``keras2``/``keras3``,
    PyTorch's for ``torch``); ``lrs`` and ``forget_biases`` are grids trained side by side in the
    same program (default forget bias: the flavour's, 1 for Keras, PyTorch's random draw for torch). ``seeds`` is the number of repeats; repeat ``i`` uses
    ``fold_in(key(seed), i)`` for its initialisation and shuffles, whatever else is in the sweep.

    ``head_init``: ``random`` (the framework's draw), or ``aligned`` / ``reversed``: after the draw the
    head's class difference is flipped where needed so that the task's noiseless prototypes start
    classified right / wrong (:func:`latchjax.prototypes.orient_head`). ``data``: ``shared`` (the
    question's: one dataset per length, common to every repeat) or ``per-seed`` (repeat ``i`` draws its
    own dataset from ``fold_in(fold_in(key(data_seed), length), i)``, so repeats are independent in data too).
    """

    task: str | Task = "latch"
    task_kwargs: Mapping[str, Any] = field(default_factory=dict)
    cells: tuple = ("srnn", "lstm")
    flavor: str = "keras2"
    units: int = 1
    lengths: tuple[int, ...] = QUESTION_LENGTHS
    seeds: int = 30
    epochs: int = 5
    batch_size: int = 16
    samples: int = 10_000
    split: str = "shuffled"
    val_fraction: float = 0.2
    lrs: tuple[float, ...] = (1e-3,)
    forget_biases: tuple[float, ...] | None = None
    head: str = "softmax"
    optimizer: Callable[[Any], optax.GradientTransformation] | None = None
    seed: int = 0
    data_seed: int = 0
    length_buckets: int | None = None
    unroll: int = 1
    head_init: str = "random"
    data: str = "shared"

    def __post_init__(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(message)

        need(self.flavor in FLAVORS, f"flavor: unknown flavor {self.flavor!r}; allowed: {', '.join(FLAVORS)}")
        if self.forget_biases is None:
            object.__setattr__(self, "forget_biases", (FLAVORS[self.flavor].default_forget_bias,))
        for name in ("cells", "lengths", "lrs", "forget_biases"):
            value = getattr(self, name)
            if isinstance(value, (str, int, float)) or not hasattr(value, "__len__"):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        need(len(self.cells) > 0, "cells: give at least one cell")
        names = [make_cell(cell, self.units, self.flavor).name for cell in self.cells]
        need(len(set(names)) == len(names), f"cells: duplicate cells in {names}")
        make_task(self.task, **self.task_kwargs)
        need(len(self.lengths) > 0, "lengths: give at least one length")
        need(
            all(isinstance(n, (int, np.integer)) and n >= 1 for n in self.lengths),
            f"lengths: every length must be an integer >= 1, got {list(self.lengths)}",
        )
        need(len(set(self.lengths)) == len(self.lengths), f"lengths: duplicates in {list(self.lengths)}")
        if self.length_buckets is None:
            object.__setattr__(self, "length_buckets", default_length_buckets())
        for name in ("seeds", "epochs", "batch_size", "samples", "length_buckets", "unroll"):
            value = getattr(self, name)
            need(isinstance(value, (int, np.integer)) and value >= 1, f"{name}: must be an integer >= 1, got {value!r}")
        need(self.split in SPLITS, f"split: unknown split {self.split!r}; allowed: {', '.join(SPLITS)}")
        need(
            isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction < 1,
            f"val_fraction: must be in (0, 1), got {self.val_fraction!r}",
        )
        n_train = int(self.samples * (1.0 - self.val_fraction))
        need(
            0 < n_train < self.samples,
            f"samples: {self.samples} samples leave an empty train or validation set at val_fraction={self.val_fraction}",
        )
        need(
            self.batch_size <= n_train,
            f"batch_size: {self.batch_size} is larger than the training set ({n_train} samples)",
        )
        need(self.head in HEADS, f"head: unknown head {self.head!r}; allowed: {', '.join(HEADS)}")
        need(len(self.lrs) > 0 and all(float(lr) > 0 for lr in self.lrs), f"lrs: must be > 0, got {list(self.lrs)}")
        need(len(self.forget_biases) > 0, "forget_biases: give at least one value")
        need(self.head_init in HEAD_INITS, f"head_init: unknown head init {self.head_init!r}; "
                                           f"allowed: {', '.join(HEAD_INITS)}")
        if self.head_init != "random":
            from latchjax.prototypes import has_prototypes

            need(has_prototypes(self.task), f"head_init: {self.head_init} needs a task with class prototypes "
                                            "(latch, bit_relay, two_sequence)")
        need(self.data in DATA_MODES, f"data: unknown data mode {self.data!r}; allowed: {', '.join(DATA_MODES)}")

    @property
    def n_train(self) -> int:
        return int(self.samples * (1.0 - self.val_fraction))

    def replace(self, **changes) -> SweepConfig:
        return dataclasses.replace(self, **changes)


def init_head(key: jax.Array, cell: Cell, head: str) -> dict:
    """The read-out as the cell's framework initialises it: Keras's Dense (glorot_uniform kernel, zero
    bias) or PyTorch's ``nn.Linear(units, n_out)`` (weight and bias U(-1/sqrt(units), 1/sqrt(units)));
    stored as ``kernel (units, n_out)`` and ``bias (n_out,)`` either way."""
    units, n_out = cell.units, (2 if head == "softmax" else 1)
    if FLAVORS[cell.flavor].layout == "torch":
        k_weight, k_bias = jax.random.split(key)
        return {"kernel": torch_uniform(k_weight, (n_out, units), units).T,
                "bias": torch_uniform(k_bias, (n_out,), units)}
    limit = jnp.sqrt(6.0 / (units + n_out))
    return {
        "kernel": jax.random.uniform(key, (units, n_out), jnp.float32, -limit, limit),
        "bias": jnp.zeros((n_out,), jnp.float32),
    }


def head_logits(params: Any, h: jax.Array) -> jax.Array:
    """The Dense head on the cell's last output: ``h @ kernel + bias``."""
    return h @ params["head"]["kernel"] + params["head"]["bias"]


def head_loss(head: str, logits: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per-sample loss and correctness of Dense(2)+softmax+CE or Dense(1)+sigmoid+BCE."""
    if head == "softmax":
        logp = jax.nn.log_softmax(logits)
        loss = -jnp.take_along_axis(logp, y[:, None], axis=1)[:, 0]
        correct = jnp.argmax(logits, axis=1) == y
    else:
        z = logits[:, 0]
        loss = jax.nn.softplus(z) - y * z
        correct = (z > 0) == (y == 1)
    return loss, correct.astype(jnp.float32)


def run_cell(cell: Cell, params: Any, x: jax.Array, start: int | jax.Array = 0, unroll: int = 1) -> jax.Array:
    """The cell's last output after reading ``x`` of shape (batch, T, n_in).

    Steps ``t < start`` are left padding: the state stays at its initial value, so a
    sequence left-padded to any length gives exactly the result of the unpadded one.
    """
    batch, _, n_in = x.shape
    init = (cell.initial_carry(batch, n_in), jnp.zeros((batch, cell.units), jnp.float32))

    def time_step(state, inputs):
        t, x_t = inputs
        new_state = cell.step(params, state[0], x_t)
        active = t >= start
        return jax.tree.map(lambda new, old: jnp.where(active, new, old), new_state, state), None

    steps = (jnp.arange(x.shape[1]), jnp.swapaxes(x, 0, 1))
    (_, h), _ = jax.lax.scan(time_step, init, steps, unroll=unroll)
    return h


def initial_params(cell: Cell, cfg: SweepConfig, key: jax.Array, forget_bias: float | jax.Array, n_in: int,
                   length: int | jax.Array, max_length: int) -> dict:
    """The parameters model ``key`` starts training from: ``{"cell": ..., "head": ...}``.

    The trainer calls this very function, so a run's initial parameters are regenerated exactly from its
    config (keys from :func:`_model_grid`). ``length`` and ``max_length`` only matter for ``head_init``
    ``aligned`` / ``reversed``, which orient the head on the prototypes of that length.
    """
    k_init, _ = jax.random.split(key)  # the other half shuffles the minibatches
    k_cell, k_head = jax.random.split(k_init)
    params = {"cell": cell.init(k_cell, n_in, forget_bias), "head": init_head(k_head, cell, cfg.head)}
    if cfg.head_init != "random":
        from latchjax.prototypes import orient_head

        params = orient_head(cell, cfg, params, length, max_length)
    return params


def _make_train_model(cell: Cell, cfg: SweepConfig, n_in: int, max_length: int,
                      on_epoch: Callable[[Any], None] | None = None) -> Callable:
    """The pure training function of one model (before vmapping).

    ``on_epoch(epoch_index)`` is called from the compiled program (``jax.debug.callback``) at the
    end of every epoch, once for all models; it only reports progress and changes no result.
    """
    batch = cfg.batch_size
    n_train = cfg.n_train
    n_batches = -(-n_train // batch)  # Keras keeps a last, smaller batch
    n_pad = n_batches * batch - n_train

    def batch_loss(params, x, y, weight, start):
        loss, correct = head_loss(cfg.head, head_logits(params, run_cell(cell, params["cell"], x, start, cfg.unroll)), y)
        total = jnp.sum(weight)
        return jnp.sum(loss * weight) / total, jnp.sum(correct * weight) / total

    def train_model(key, lr, forget_bias, length, x_train, y_train, x_val, y_val):
        _, k_shuffle = jax.random.split(key)
        params = initial_params(cell, cfg, key, forget_bias, n_in, length, max_length)
        tx = (cfg.optimizer or default_optimizer(cell.flavor))(lr)
        start = max_length - length
        weights = jnp.concatenate([jnp.ones(n_train), jnp.zeros(n_pad)]).reshape(n_batches, batch)

        def minibatch(state, inputs):
            params, opt_state = state
            idx, weight = inputs
            (loss, acc), grads = jax.value_and_grad(batch_loss, has_aux=True)(
                params, x_train[idx], y_train[idx], weight, start
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
            val_loss, val_acc = batch_loss(state[0], x_val, y_val, jnp.ones(y_val.shape[0]), start)
            finite = jnp.all(jnp.isfinite(losses)) & jnp.isfinite(val_loss)
            metrics = (train_loss, jnp.where(finite, train_acc, jnp.nan), val_loss, jnp.where(finite, val_acc, jnp.nan))
            if on_epoch is not None:
                jax.debug.callback(on_epoch, epoch_index)
            return state, (metrics, finite)

        epoch_keys = jax.random.split(k_shuffle, cfg.epochs)
        epochs = (epoch_keys, jnp.arange(cfg.epochs))
        (params, _), (metrics, finite) = jax.lax.scan(epoch, (params, tx.init(params)), epochs)
        diverged = ~jnp.all(finite)
        return dict(zip(METRICS, metrics)) | {"diverged": diverged, "params": params}

    return train_model


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


def make_trainer(cell: Cell, cfg: SweepConfig, n_in: int, max_length: int,
                 on_epoch: Callable[[Any], None] | None = None, devices: list | None = None) -> Callable:
    """Jitted ``trainer(keys, lrs, forget_biases, lengths, x_train, y_train, x_val, y_val)``.

    ``keys``, ``lrs``, ``forget_biases`` have shape ``(n_models,)`` (models sharing data);
    ``lengths`` and the data arrays have a leading length axis (with ``cfg.data == "per-seed"`` the data
    arrays have a model axis after it: ``(n_lengths, n_models, ...)``). Outputs have shape
    ``(n_lengths, n_models, ...)``. With several ``devices`` the model axis is split across them
    (``shard_map``: each device trains its own models on a copy of the data; nothing is exchanged),
    so ``n_models`` must be a multiple of ``len(devices)``.
    """
    train_model = _make_train_model(cell, cfg, n_in, max_length, on_epoch)
    data_axis = 0 if cfg.data == "per-seed" else None
    per_length = jax.vmap(train_model, in_axes=(0, 0, 0, None) + (data_axis,) * 4)
    trainer = jax.vmap(per_length, in_axes=(None, None, None, 0, 0, 0, 0, 0))
    if devices is not None and len(devices) > 1:
        mesh = jax.sharding.Mesh(np.asarray(devices), ("models",))
        models, shared = jax.sharding.PartitionSpec("models"), jax.sharding.PartitionSpec()
        data = jax.sharding.PartitionSpec(None, "models") if cfg.data == "per-seed" else shared
        trainer = jax.shard_map(trainer, mesh=mesh, in_specs=(models,) * 3 + (shared,) + (data,) * 4,
                                out_specs=jax.sharding.PartitionSpec(None, "models"), check_vma=False)
    return jax.jit(trainer)


def bucket_lengths(lengths: tuple[int, ...], buckets: int) -> list[tuple[int, ...]]:
    """Split sorted lengths into at most ``buckets`` contiguous groups minimising padded work.

    Work of a group = (number of lengths) x (its longest length); solved exactly by dynamic programming.
    """
    ordered = sorted(lengths)
    n = len(ordered)
    k_max = min(buckets, n)
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(k_max + 1)]
    cut = [[0] * (n + 1) for _ in range(k_max + 1)]
    cost[0][0] = 0.0
    for k in range(1, k_max + 1):
        for j in range(1, n + 1):
            for i in range(k - 1, j):
                c = cost[k - 1][i] + (j - i) * ordered[j - 1]
                if c < cost[k][j]:
                    cost[k][j], cut[k][j] = c, i
    k = min(range(1, k_max + 1), key=lambda kk: cost[kk][n])
    groups, j = [], n
    while k > 0:
        i = cut[k][j]
        groups.append(tuple(ordered[i:j]))
        j, k = i, k - 1
    return groups[::-1]


# --- planning: chunks that fit in memory ----------------------------------------------------------

def model_bytes(cell: Cell, cfg: SweepConfig, n_lengths: int, max_length: int, n_in: int) -> int:
    """Estimated device memory of one model (all ``n_lengths`` lengths of a bucket) while training.

    The backward pass keeps every time step of a minibatch: about ``(4 g + 2) units + 2 + n_in``
    floats per sample and step for a cell with g gate blocks (SimpleRNN 1, GRU 3, LSTM 4; Flax cells
    are counted as 4). Fitted to XLA's own ``memory_analysis()`` (tests/test_plan.py), which it
    overestimates by up to 50% (SimpleRNN; 5-20% for LSTM and GRU).
    """
    gates = getattr(cell, "gate_blocks", 4)
    floats = (4 * gates + 2) * cell.units + 2 + n_in
    return 4 * n_lengths * cfg.batch_size * max_length * floats


def data_bytes(cfg: SweepConfig, n_lengths: int, max_length: int, n_in: int) -> int:
    """The bucket's dataset (train + validation), shared by every model of a device."""
    return 4 * n_lengths * cfg.samples * max_length * (n_in + 1)


def default_memory_budget(device: Any = None) -> int:
    """Bytes one device may use for a chunk: half an accelerator's memory, or a quarter of the host's RAM."""
    device = device or jax.local_devices()[0]
    if device.platform != "cpu":
        limit = (device.memory_stats() or {}).get("bytes_limit")
        if limit:
            return int(limit) // 2
        return 8 << 30
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4


@dataclass(frozen=True)
class Chunk:
    """Models ``start:stop`` (flattened lr x forget_bias x seed) of one cell, for every length of one
    bucket: one call of a compiled program whose model axis has ``size`` entries (the last chunk of a
    bucket is padded with copies of its last model, so every chunk of a bucket shares one program)."""

    index: int
    cell_index: int
    bucket: int
    lengths: tuple[int, ...]
    start: int
    stop: int
    size: int

    @property
    def name(self) -> str:
        return f"{self.index:05d}-cell{self.cell_index}-bucket{self.bucket}-models{self.start}-{self.stop}"

    @property
    def models(self) -> int:
        return (self.stop - self.start) * len(self.lengths)


def _n_in(cfg: SweepConfig) -> int:
    task = make_task(cfg.task, **cfg.task_kwargs)
    x, _ = jax.eval_shape(lambda: task(jax.random.key(0), 2, max(cfg.lengths)))
    return int(x.shape[-1])


def _fb_values(cfg: SweepConfig, cell: Cell) -> tuple[float, ...]:
    return cfg.forget_biases if cell.has_forget_bias else cfg.forget_biases[:1]


def plan_sweep(cfg: SweepConfig, memory: int | None = None, chunk_models: int | None = None,
               devices: int | None = None) -> list[Chunk]:
    """Split every cell's models into chunks that fit ``memory`` bytes per device.

    ``chunk_models`` fixes the models per chunk instead (rounded up to a multiple of ``devices``,
    the number of local devices the model axis is split across, and to at least 2 per device). The
    estimate comes from :func:`model_bytes` and :func:`data_bytes`, before anything is compiled.
    A model's results do not depend on its chunk: chunked and unchunked sweeps agree bit for bit
    (tests/test_chunks.py).
    """
    devices = devices or len(jax.local_devices())
    n_in = _n_in(cfg)
    budget = memory or default_memory_budget()
    chunks: list[Chunk] = []
    # bucket-major, so that consecutive chunks share a dataset (one is held at a time)
    for bi, group in enumerate(bucket_lengths(cfg.lengths, cfg.length_buckets)):
        for ci, cell in enumerate(cfg.cells):
            cell = make_cell(cell, cfg.units, cfg.flavor)
            n_models = len(cfg.lrs) * len(_fb_values(cfg, cell)) * cfg.seeds
            if chunk_models:
                per_device = -(-chunk_models // devices)
            else:
                data = data_bytes(cfg, len(group), max(group), n_in)
                per_seed = cfg.data == "per-seed"  # every model holds its own dataset
                free = budget - (0 if per_seed else data)
                per_device = max(1, free // (model_bytes(cell, cfg, len(group), max(group), n_in) + per_seed * data))
            # at least 2 models per device: XLA compiles a model axis of size 1 differently, and results would
            # differ in the last bit from the same models trained in wider chunks
            per_device = max(2, min(per_device, -(-n_models // devices)))
            size = per_device * devices
            for start in range(0, n_models, size):
                chunks.append(Chunk(len(chunks), ci, bi, group, start, min(start + size, n_models), size))
    return chunks


def plan_memory(cfg: SweepConfig, plan: list[Chunk], devices: int = 1) -> int:
    """Estimated peak bytes per device of the largest chunk in ``plan``."""
    n_in = _n_in(cfg)
    peak = 0
    for chunk in plan:
        cell = make_cell(cfg.cells[chunk.cell_index], cfg.units, cfg.flavor)
        n_len, t_max = len(chunk.lengths), max(chunk.lengths)
        data = data_bytes(cfg, n_len, t_max, n_in)
        per_model = model_bytes(cell, cfg, n_len, t_max, n_in) + (data if cfg.data == "per-seed" else 0)
        need = (0 if cfg.data == "per-seed" else data) + chunk.size // devices * per_model
        peak = max(peak, need)
    return peak


# --- running chunks -------------------------------------------------------------------------------

Progress = Callable[[str, dict], None]


class MemoryStore:
    """Finished chunks kept in memory (the default); :class:`latchjax.store.ChunkStore` keeps them on disk."""

    def __init__(self) -> None:
        self.chunks: dict[str, dict] = {}

    def load(self, chunk: Chunk) -> dict | None:
        return self.chunks.get(chunk.name)

    def save(self, chunk: Chunk, out: dict) -> None:
        self.chunks[chunk.name] = out


def _model_grid(cfg: SweepConfig, cell: Cell) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Keys, learning rates and forget biases of every model of a cell, flattened (lr, forget_bias, seed)."""
    fbs = _fb_values(cfg, cell)
    grid = np.meshgrid(np.arange(len(cfg.lrs)), np.arange(len(fbs)), np.arange(cfg.seeds), indexing="ij")
    lr_idx, fb_idx, seed_idx = (g.ravel() for g in grid)
    base = jax.random.key(cfg.seed)
    keys = jax.vmap(lambda s: jax.random.fold_in(base, s))(jnp.asarray(seed_idx))
    return keys, np.asarray(cfg.lrs, np.float32)[lr_idx], np.asarray(fbs, np.float32)[fb_idx]


def train_chunks(cfg: SweepConfig, plan: list[Chunk], store: Any, owns: Callable[[Chunk], bool] = lambda c: True,
                 progress: Progress | None = None, devices: list | None = None) -> int:
    """Train every chunk of ``plan`` that ``owns`` and ``store`` does not have yet; save each as it ends.

    ``progress(event, info)`` hears ``"start"`` before compiling a program, ``"compiled"``, ``"epoch"``
    after every epoch and ``"done"`` with the chunk's compile and run seconds. Returns the number of
    chunks trained.
    """
    devices = devices if devices is not None else jax.local_devices()
    task = make_task(cfg.task, **cfg.task_kwargs)
    datasets: dict[tuple[int, ...], Dataset] = {}
    programs: dict[tuple[int, int], Any] = {}
    grids: dict[int, tuple] = {}  # per cell: keys, lrs and forget biases of all its models
    current: dict = {}  # the chunk a compiled program is running, for its epoch callbacks
    trained = 0
    for chunk in plan:
        if not owns(chunk) or store.load(chunk) is not None:
            continue
        cell = make_cell(cfg.cells[chunk.cell_index], cfg.units, cfg.flavor)
        group = chunk.lengths
        pick = np.minimum(np.arange(chunk.start, chunk.start + chunk.size), chunk.stop - 1)  # pad with the last
        repeats = tuple(int(i) for i in pick % cfg.seeds) if cfg.data == "per-seed" else None  # seed is fastest
        if (group, repeats) not in datasets:
            datasets = {(group, repeats): make_dataset(task, group, cfg.samples, cfg.val_fraction, cfg.split,
                                                       cfg.data_seed, repeats)}
        data = datasets[group, repeats]
        if chunk.cell_index not in grids:
            grids[chunk.cell_index] = _model_grid(cfg, cell)
        keys, lrs, fbs = grids[chunk.cell_index]
        info = {"cell": cell.name, "lengths": group, "max_length": data.max_length, "models": chunk.models,
                "epochs": cfg.epochs, "devices": len(devices), "chunk": chunk.index}
        report = (lambda event, **extra: progress(event, info | extra)) if progress else (lambda *a, **k: None)
        args = (keys[pick], jnp.asarray(lrs[pick]), jnp.asarray(fbs[pick]), jnp.asarray(data.lengths),
                data.x_train, data.y_train, data.x_val, data.y_val)
        t0 = time.perf_counter()
        program_key = (chunk.cell_index, chunk.bucket)
        if program_key not in programs:
            report("start")
            on_epoch = (lambda e: progress("epoch", current | {"epoch": int(e) + 1})) if progress else None
            trainer = make_trainer(cell, cfg, data.n_in, data.max_length, on_epoch, devices)
            programs[program_key] = compile_lowered(trainer.lower(*args))
        current.clear()
        current.update(info)
        t1 = time.perf_counter()
        report("compiled", compile_s=t1 - t0)
        out = jax.tree.map(lambda a: np.asarray(a)[:, : chunk.stop - chunk.start], programs[program_key](*args))
        t2 = time.perf_counter()
        report("done", compile_s=t1 - t0, run_s=t2 - t1)
        out["timing"] = {"compile_s": np.float64(t1 - t0), "run_s": np.float64(t2 - t1)}
        store.save(chunk, out)
        trained += 1
    return trained


def collect(cfg: SweepConfig, plan: list[Chunk], store: Any,
            on_cell: Callable[[SweepResult], None] | None = None) -> SweepResult:
    """Assemble the :class:`SweepResult` of a sweep from the stored outputs of all its chunks."""
    parts = []
    for ci, spec in enumerate(cfg.cells):
        cell = make_cell(spec, cfg.units, cfg.flavor)
        mine = [c for c in plan if c.cell_index == ci]
        outs = {}
        for chunk in mine:
            out = store.load(chunk)
            if out is None:
                raise RuntimeError(f"chunk {chunk.name} of {cell.name} is missing")
            outs[chunk.name] = out
        per_length: dict[int, dict] = {}
        for bucket in sorted({c.bucket for c in mine}):
            chunks = sorted((c for c in mine if c.bucket == bucket), key=lambda c: c.start)
            joined = jax.tree.map(lambda *a: np.concatenate(a, axis=1),
                                  *[{k: v for k, v in outs[c.name].items() if k != "timing"} for c in chunks])
            for i, length in enumerate(chunks[0].lengths):
                per_length[length] = jax.tree.map(lambda a, i=i: a[i], joined)
        compile_s = sum(float(o["timing"]["compile_s"]) for o in outs.values())
        run_s = sum(float(o["timing"]["run_s"]) for o in outs.values())
        fbs = _fb_values(cfg, cell)
        shape = (len(cfg.lrs), len(fbs), cfg.seeds)
        metrics = {}
        for name in (*METRICS, "diverged"):  # (length, model[, epoch]) -> (length, lr, fb, seed[, epoch])
            arr = np.stack([per_length[n][name] for n in cfg.lengths])
            arr = arr.reshape(len(cfg.lengths), *shape, *arr.shape[2:])
            if len(fbs) < len(cfg.forget_biases):  # the bias has no effect on this cell: same model for every value
                arr = np.repeat(arr, len(cfg.forget_biases), axis=2)
            metrics[name] = arr
        params = [per_length[n]["params"] for n in cfg.lengths]
        parts.append(SweepResult.from_cell(cell.name, cfg, metrics, params, compile_s=compile_s, run_s=run_s))
        if on_cell is not None:
            on_cell(parts[-1])
    return SweepResult.concat(parts)


def train_cell(cfg: SweepConfig, cell: Cell | str, progress: Progress | None = None) -> SweepResult:
    """Train every (length, lr, forget_bias, seed) model of one cell; returns a :class:`SweepResult`."""
    return run_sweep(cfg.replace(cells=(cell,)), progress)


def run_sweep(cfg: SweepConfig, progress: Progress | None = None,
              on_cell: Callable[[SweepResult], None] | None = None, *, plan: list[Chunk] | None = None,
              store: Any = None, memory: int | None = None, chunk_models: int | None = None,
              devices: list | None = None) -> SweepResult:
    """Train every model of ``cfg`` and return the results.

    The sweep is split into chunks (:func:`plan_sweep`: by ``memory`` bytes per device or
    ``chunk_models``), each a call of one compiled program per cell and length bucket, with the
    model axis split across ``devices`` (default: all local devices). ``store`` (default: in
    memory) keeps finished chunks; chunks it already has are not trained again. ``on_cell(result)``
    is called as each cell is assembled.
    """
    devices = devices if devices is not None else jax.local_devices()
    plan = plan or plan_sweep(cfg, memory, chunk_models, len(devices))
    store = store if store is not None else MemoryStore()
    train_chunks(cfg, plan, store, progress=progress, devices=devices)
    return collect(cfg, plan, store, on_cell)


def train_one(cfg: SweepConfig, cell: Cell | str, length: int, seed: int, lr: float | None = None,
              forget_bias: float | None = None) -> dict:
    """Train a single model without padding or vmapping (a reference for tests and notebooks)."""
    cell = make_cell(cell, cfg.units, cfg.flavor)
    task = make_task(cfg.task, **cfg.task_kwargs)
    repeats = (seed,) if cfg.data == "per-seed" else None
    data = make_dataset(task, (length,), cfg.samples, cfg.val_fraction, cfg.split, cfg.data_seed, repeats)
    train_model = jax.jit(_make_train_model(cell, cfg, data.n_in, length))
    key = jax.random.fold_in(jax.random.key(cfg.seed), seed)
    lr = cfg.lrs[0] if lr is None else lr
    forget_bias = cfg.forget_biases[0] if forget_bias is None else forget_bias
    first = (0, 0) if repeats else 0  # per-seed data: this model's own dataset
    out = train_model(key, jnp.float32(lr), jnp.float32(forget_bias), length,
                      data.x_train[first], data.y_train[first], data.x_val[first], data.y_val[first])
    return jax.tree.map(np.asarray, out)
