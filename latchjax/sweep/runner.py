"""Running a sweep: training the chunks of a plan, storing them as they finish, assembling the results.

This is the side-effecting layer over the pure trainer (:mod:`latchjax.sweep.trainer`): it draws the
datasets, compiles one program per cell and length bucket (:mod:`latchjax.sweep.compiler`), calls it once per
chunk of the plan (:mod:`latchjax.sweep.plan`), hands finished chunks to a store (in memory, or
:class:`latchjax.rundir.chunks.ChunkStore` on disk, so an interrupted sweep loses nothing) and assembles a
:class:`~latchjax.sweep.results.SweepResult`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.core.cells import Cell, make_cell
from latchjax.core.data import ARRAYS, Dataset, make_dataset, make_test_set, shuffle_labels, stream_keys
from latchjax.sweep.compiler import compile_lowered
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.plan import Chunk, plan_sweep
from latchjax.sweep.results import SweepResult
from latchjax.sweep.trainer import (
    Data,
    Hparams,
    Program,
    data_axes,
    finish,
    forget_bias_values,
    make_program,
    make_train,
    metric_names,
    model_grid,
    model_keys,
)

Progress = Callable[[str, dict], None]


class MemoryStore:
    """Finished chunks kept in memory (the default); :class:`latchjax.rundir.chunks.ChunkStore` keeps them on disk."""

    def __init__(self) -> None:
        self.chunks: dict[str, dict] = {}

    def load(self, chunk: Chunk) -> dict | None:
        return self.chunks.get(chunk.name)

    def save(self, chunk: Chunk, out: dict) -> None:
        self.chunks[chunk.name] = out


def train_chunks(cfg: SweepConfig, plan: list[Chunk], store: Any, owns: Callable[[Chunk], bool] = lambda c: True,
                 progress: Progress | None = None, devices: list | None = None) -> int:
    """Train every chunk of ``plan`` that ``owns`` and ``store`` does not have yet; save each as it ends.

    ``progress(event, info)`` hears ``"start"`` before compiling a program, ``"compiled"``, ``"epoch"``
    after every epoch and ``"done"`` with the chunk's compile and run seconds. Returns the number of
    chunks trained.
    """
    devices = devices if devices is not None else jax.local_devices()
    n_in = cfg.resolved.n_in
    datasets: dict[tuple, Future[Dataset]] = {}
    programs: dict[tuple[int, int], Any] = {}
    grids: dict[int, Hparams] = {}  # per cell: the hyperparameters of all its models
    infos = {chunk.index: _chunk_info(cfg, chunk) for chunk in plan}
    trained = 0
    # datasets are drawn in a thread while the main thread compiles: both mostly keep one core busy
    drawing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="latchjax-data")
    try:
        for chunk in plan:
            if not owns(chunk) or store.load(chunk) is not None:
                continue
            cell = cfg.resolved.cells[chunk.cell_index]
            group = chunk.lengths
            pick = np.minimum(np.arange(chunk.start, chunk.start + chunk.size), chunk.stop - 1)  # pad with the last
            seed_of = tuple(int(i) for i in pick % cfg.seeds)  # seed fastest
            repeats = seed_of if cfg.data == "per-seed" else None
            if (group, repeats) not in datasets:  # one dataset held at a time
                datasets = {(group, repeats): drawing.submit(draw_data, cfg, group, repeats)}
            if chunk.cell_index not in grids:
                grids[chunk.cell_index] = model_grid(cfg, cell)
            hparams = jax.tree.map(lambda a: a[pick], grids[chunk.cell_index])
            info = infos[chunk.index]
            report = (lambda event, **extra: progress(event, info | extra)) if progress else (lambda *a, **k: None)
            t0 = time.perf_counter()
            program_key = (chunk.cell_index, chunk.bucket)
            if program_key not in programs:
                report("start")
                shape = (data_shapes(cfg, group, n_in, repeats, len(seed_of)) if not cfg.resolved.varies
                         else jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), as_data(
                             datasets[group, repeats].result(), cfg, seed_of)))
                program = make_program(cell, cfg, devices, shape, group[0] if cfg.online else None)
                shapes = (hparams, shape)
                state = jax.eval_shape(program.init, *shapes)
                programs[program_key] = Program(compile_lowered(program.init.lower(*shapes)),
                                                compile_lowered(program.epoch.lower(state, *shapes, np.int32(0))))
            compile_s = time.perf_counter() - t0
            report("compiled", compile_s=compile_s)
            args = (hparams, as_data(datasets[group, repeats].result(), cfg, seed_of))
            _train_chunk(cfg, chunk, programs[program_key], args, store, report, compile_s)
            trained += 1
    finally:
        drawing.shutdown(wait=False, cancel_futures=True)
    return trained


def draw_data(cfg: SweepConfig, lengths: tuple[int, ...], repeats: tuple[int, ...] | None) -> Dataset:
    """The data of a bucket: :func:`~latchjax.core.data.make_dataset` (per repeat with ``repeats``), or online
    data's fixed test set (:func:`~latchjax.core.data.make_test_set`)."""
    if cfg.online:
        return make_test_set(cfg.resolved.task, lengths, cfg.n_val, cfg.data_seed)
    dataset = make_dataset(cfg.resolved.task, lengths, cfg.samples, cfg.val_fraction, cfg.split, cfg.data_seed, repeats)
    if cfg.labels == "shuffled":  # the random-label control: training labels apart from their inputs
        dataset = dataclasses.replace(dataset, y_train=shuffle_labels(dataset.y_train, cfg.data_seed, lengths, repeats))
    return dataset


def as_data(dataset: Dataset, cfg: SweepConfig, seeds: tuple[int, ...]) -> Data:
    """A bucket's :class:`~latchjax.sweep.trainer.Data` (device arrays) from its :class:`Dataset`; online data gets
    its streams (:func:`~latchjax.core.data.stream_keys`: one per length, or per length and seed)."""
    arrays = {name: None if getattr(dataset, name) is None else jnp.asarray(getattr(dataset, name))
              for name in ARRAYS}
    stream = None
    if cfg.online:
        lengths = tuple(int(n) for n in dataset.lengths)
        stream = stream_keys(cfg.data_seed, lengths, seeds if cfg.data == "online-per-seed" else None)
    return Data(jnp.asarray(dataset.lengths), **arrays, stream=stream)


def data_shapes(cfg: SweepConfig, lengths: tuple[int, ...], n_in: int, repeats: tuple[int, ...] | None,
                models: int = 1) -> Data:
    """The shapes and dtypes of the :class:`~latchjax.sweep.trainer.Data` that :func:`draw_data` draws for
    ``lengths`` (so that programs compile while it draws), for a task whose rows all have their length."""
    lead = (len(lengths),) if repeats is None else (len(lengths), len(repeats))
    t_max = max(lengths)
    f32, i32 = jnp.float32, jnp.int32
    shape = jax.ShapeDtypeStruct
    output = cfg.output  # class labels int32, other targets float32

    def part(n: int) -> tuple:
        y_dtype = i32 if output.kind == "class" else f32
        mask = shape((*lead, n, t_max), f32) if output.every else None
        return shape((*lead, n, t_max, n_in), f32), shape((*lead, *output.target_shape(n, t_max)), y_dtype), mask

    x_val, y_val, mask_val = part(cfg.n_val)
    if cfg.online:
        streams = (len(lengths), models) if cfg.data == "online-per-seed" else (len(lengths),)
        stream = jax.eval_shape(lambda: jnp.stack([jax.random.key(0)] * int(np.prod(streams))).reshape(streams))
        return Data(shape((len(lengths),), i32), None, None, x_val, y_val, mask_val=mask_val, stream=stream)
    x_train, y_train, mask_train = part(cfg.n_train)
    return Data(shape((len(lengths),), i32), x_train, y_train, x_val, y_val, mask_train=mask_train,
                mask_val=mask_val)


def _train_chunk(cfg: SweepConfig, chunk: Chunk, program: Program, args: tuple, store: Any,
                 report: Callable[..., None], compile_s: float) -> None:
    """Train one chunk with its compiled ``program`` and save its outputs (with ``compile_s`` and the run time)."""
    t1 = time.perf_counter()
    state, history, snapshots = program.init(*args), [], []
    for e in range(cfg.rounds):
        state, metrics = program.epoch(state, *args, np.int32(e))
        history.append(jax.block_until_ready(metrics))
        if cfg.snapshots:  # every model's parameters after this round: (length, model, ...)
            snapshots.append(jax.device_get(state[0]))
        report("epoch", epoch=e + 1)
    metrics = jax.tree.map(lambda *a: np.stack(a, axis=-1), *history)
    out = finish(state, metrics)
    if cfg.snapshots:  # (length, model, round, ...)
        out["snapshots"] = jax.tree.map(lambda *a: np.stack(a, axis=2), *snapshots)
    out = jax.tree.map(lambda a: np.asarray(a)[:, : chunk.stop - chunk.start], out)
    run_s = time.perf_counter() - t1
    report("done", compile_s=compile_s, run_s=run_s)
    out["timing"] = {"compile_s": np.float64(compile_s), "run_s": np.float64(run_s)}
    store.save(chunk, out)


def _chunk_info(cfg: SweepConfig, chunk: Chunk) -> dict:
    """What progress reports say about a chunk."""
    cell = cfg.resolved.cells[chunk.cell_index]
    return {"cell": cell.name, "lengths": chunk.lengths, "max_length": max(chunk.lengths), "models": chunk.models,
            "epochs": cfg.rounds, "chunk": chunk.index}


def collect(cfg: SweepConfig, plan: list[Chunk], store: Any,
            on_cell: Callable[[SweepResult], None] | None = None) -> SweepResult:
    """Assemble the :class:`SweepResult` of a sweep from the stored outputs of all its chunks."""
    parts = []
    for ci, cell in enumerate(cfg.resolved.cells):
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
        fbs = forget_bias_values(cfg, cell)
        shape = (len(cfg.lrs), len(fbs), cfg.seeds)
        metrics = {}
        for name in (*metric_names(cfg), "diverged"):  # (length, model[, epoch]) -> (length, lr, fb, seed[, epoch])
            arr = np.stack([per_length[n][name] for n in cfg.lengths])
            arr = arr.reshape(len(cfg.lengths), *shape, *arr.shape[2:])
            if len(fbs) < len(cfg.forget_biases):  # the bias has no effect on this cell: same model for every value
                arr = np.repeat(arr, len(cfg.forget_biases), axis=2)
            metrics[name] = arr
        params = [per_length[n]["params"] for n in cfg.lengths]
        part = SweepResult.from_cell(cell, cfg, metrics, params, compile_s=compile_s, run_s=run_s)
        if cfg.snapshots:
            part.snapshots = {cell.name: [per_length[n]["snapshots"] for n in cfg.lengths]}
        parts.append(part)
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
    repeats = (seed,) if cfg.data == "per-seed" else None
    d = draw_data(cfg, (length,), repeats)
    data = as_data(d, cfg, (seed,))
    axes = data_axes(cfg, data)  # the leaves with a model axis after the length axis: this model's own
    data = Data(*(None if a is None else a[0, 0] if axes is not None and getattr(axes, name) == 0 else a[0]
                  for name, a in data._asdict().items()))._replace(length=length)
    hparams = Hparams(model_keys(cfg.seed, [seed])[0], jnp.float32(cfg.lrs[0] if lr is None else lr),
                      jnp.float32(cfg.forget_biases[0] if forget_bias is None else forget_bias),
                      None if cfg.shuffle_seed is None else model_keys(cfg.shuffle_seed, [seed])[0])
    return jax.tree.map(np.asarray, jax.jit(make_train(cell, cfg, length if cfg.online else None))(hparams, data))
