"""Running a sweep: length buckets, a plan of chunks that fit in memory, training them, assembling results.

This is the side-effecting layer over the pure trainer (:mod:`latchjax.trainer`): it draws the datasets,
compiles one program per cell and length bucket, calls it once per chunk, hands finished chunks to a
store (in memory, or :class:`latchjax.store.ChunkStore` on disk, so an interrupted sweep loses nothing)
and assembles a :class:`~latchjax.results.SweepResult`.

``length_buckets`` splits the lengths into at most that many groups, each padded only to its own longest
length (one compile per group, however many lengths and seeds). With one bucket the whole sweep of a cell
is a single program. The default is 3 on CPU (padding to 200 steps would do 2.3x the work on the
question's lengths) and 1 on accelerators.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from latchjax.cells import Cell, make_cell
from latchjax.config import SweepConfig
from latchjax.data import Dataset, make_dataset
from latchjax.kinds import DOT_ROWS
from latchjax.results import SweepResult
from latchjax.tasks import make_task
from latchjax.trainer import (
    METRICS,
    Data,
    Hparams,
    Program,
    compile_lowered,
    finish,
    forward_mode,
    make_program,
    make_train,
)


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

    The backward pass keeps, per sample and time step, the state each step starts from and the step's
    matrix products (only of cells wider than :data:`~latchjax.kinds.DOT_ROWS` units or inputs: smaller
    ones are unrolled, see ``kinds._dot``); it recomputes the rest (:data:`latchjax.model.RECOMPUTE_POLICY`). About
    ``1.25 (state + products) + 3 + n_in`` floats per sample and step, fitted to XLA's own
    ``memory_analysis()`` (tests/test_chunks.py::test_memory_estimate_bounds_what_xla_allocates), which it
    overestimates by 20-60%.
    """
    carry = jax.eval_shape(lambda: cell.initial_carry(1, n_in))
    state = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(carry))
    products = getattr(cell, "gate_blocks", 4) * cell.units * ((cell.units > DOT_ROWS) + (n_in > DOT_ROWS))
    floats = 1.25 * (state + products) + 3 + n_in
    return int(4 * n_lengths * cfg.batch_size * max_length * floats)


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
    return host_memory() // 4


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


def n_inputs(cfg: SweepConfig) -> int:
    task = make_task(cfg.task, **cfg.task_kwargs)
    x, _ = jax.eval_shape(lambda: task(jax.random.key(0), 2, max(cfg.lengths)))
    return int(x.shape[-1])


def forget_bias_values(cfg: SweepConfig, cell: Cell) -> tuple[float, ...]:
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
    n_in = n_inputs(cfg)
    budget = memory or default_memory_budget()
    check_fits(cfg, budget, n_in)
    chunks: list[Chunk] = []
    # bucket-major, so that consecutive chunks share a dataset (one is held at a time)
    for bi, group in enumerate(bucket_lengths(cfg.lengths, cfg.length_buckets)):
        for ci, cell in enumerate(cfg.cells):
            cell = make_cell(cell, cfg.units, cfg.flavor)
            n_models = len(cfg.lrs) * len(forget_bias_values(cfg, cell)) * cfg.seeds
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
            if len(chunks) + n_models / size > MAX_CHUNKS:
                raise ValueError(f"chunk_models: the plan would have more than {MAX_CHUNKS:,} chunks (one program "
                                 f"call each); allow more models per chunk")
            for start in range(0, n_models, size):
                chunks.append(Chunk(len(chunks), ci, bi, group, start, min(start + size, n_models), size))
    return chunks


MAX_CHUNKS = 100_000


def sequential_steps(cfg: SweepConfig, plan: list[Chunk]) -> int:
    """The critical path of a sweep in sequential loop iterations: what bounds its time where every iteration
    costs a kernel launch whatever its width (a GPU running many tiny cells). Chunks run one after another;
    per chunk and epoch, every minibatch runs the time loop forward and, with reverse-mode gradients, back
    (``ceil(T / unroll)`` iterations each), then one validation pass."""
    n_in = n_inputs(cfg)
    n_batches = -(-cfg.n_train // cfg.batch_size)
    total = 0
    for chunk in plan:
        cell = make_cell(cfg.cells[chunk.cell_index], cfg.units, cfg.flavor)
        loop = -(-max(chunk.lengths) // cfg.unroll)
        passes = 1 if forward_mode(cell, cfg, n_in) else 2
        total += cfg.epochs * (n_batches * passes * loop + loop)
    return total


def compilation_cache_dir() -> Path:
    """Where compiled programs are kept between runs: ``$XDG_CACHE_HOME/latchjax/xla`` (``~/.cache/...``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "latchjax" / "xla"


def enable_compilation_cache(directory: Path | None = None) -> Path:
    """Turn on JAX's persistent compilation cache in ``directory`` (default :func:`compilation_cache_dir`), so a
    second run of the same sweep loads its programs instead of compiling them; results do not change
    (tests/test_chunks.py). ``latchjax sweep`` does this unless ``--no-cache``."""
    directory = Path(directory or compilation_cache_dir())
    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # the many small data-generation programs too
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory


def _gb(n: float) -> str:
    return f"{n / 2**30:.3g} GB"


def host_memory() -> int:
    """This machine's RAM in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def result_bytes(cfg: SweepConfig, n_in: int) -> int:
    """Host memory to hold and assemble every model's metrics and final parameters (about 3 copies)."""
    total = 0
    for spec in cfg.cells:
        cell = make_cell(spec, cfg.units, cfg.flavor)
        n_params = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(
            jax.eval_shape(lambda cell=cell: cell.init(jax.random.key(0), n_in, 1.0))))
        per_model = 4 * (len(METRICS) * cfg.epochs + 1 + n_params + 3 * cell.units)
        total += len(cfg.lengths) * len(cfg.lrs) * len(forget_bias_values(cfg, cell)) * cfg.seeds * per_model
    return 3 * total


def check_fits(cfg: SweepConfig, budget: int, n_in: int) -> None:
    """Refuse, with the estimate and the limit, a sweep whose dataset cannot fit a device's ``budget`` or
    whose results cannot fit half the host's memory: in seconds, before anything is allocated."""
    results, host = result_bytes(cfg, n_in), host_memory() // 2
    if results > host:
        raise ValueError(f"seeds: the results of this sweep need about {_gb(results)} of host memory, more than "
                         f"{_gb(host)} (half this machine's RAM); use fewer seeds, lengths or grid values")
    for group in bucket_lengths(cfg.lengths, cfg.length_buckets):
        data = data_bytes(cfg, len(group), max(group), n_in) * (2 if cfg.data == "per-seed" else 1)
        if data > budget:
            raise ValueError(f"samples: the dataset of lengths {group[0]}-{group[-1]} needs {_gb(data)}, more than "
                             f"the {_gb(budget)} a device may use (--max-memory); use fewer samples or lengths")


def plan_memory(cfg: SweepConfig, plan: list[Chunk], devices: int = 1) -> int:
    """Estimated peak bytes per device of the largest chunk in ``plan``."""
    n_in = n_inputs(cfg)
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


def model_grid(cfg: SweepConfig, cell: Cell) -> Hparams:
    """Keys, learning rates and forget biases of every model of a cell, flattened (lr, forget_bias, seed)."""
    fbs = forget_bias_values(cfg, cell)
    grid = np.meshgrid(np.arange(len(cfg.lrs)), np.arange(len(fbs)), np.arange(cfg.seeds), indexing="ij")
    lr_idx, fb_idx, seed_idx = (g.ravel() for g in grid)
    base = jax.random.key(cfg.seed)
    keys = jax.vmap(lambda s: jax.random.fold_in(base, s))(jnp.asarray(seed_idx))
    return Hparams(keys, np.asarray(cfg.lrs, np.float32)[lr_idx], np.asarray(fbs, np.float32)[fb_idx])


def train_chunks(cfg: SweepConfig, plan: list[Chunk], store: Any, owns: Callable[[Chunk], bool] = lambda c: True,
                 progress: Progress | None = None, devices: list | None = None) -> int:
    """Train every chunk of ``plan`` that ``owns`` and ``store`` does not have yet; save each as it ends.

    ``progress(event, info)`` hears ``"start"`` before compiling a program, ``"compiled"``, ``"epoch"``
    after every epoch and ``"done"`` with the chunk's compile and run seconds. Returns the number of
    chunks trained.
    """
    devices = devices if devices is not None else jax.local_devices()
    task = make_task(cfg.task, **cfg.task_kwargs)
    n_in = n_inputs(cfg)
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
            cell = make_cell(cfg.cells[chunk.cell_index], cfg.units, cfg.flavor)
            group = chunk.lengths
            pick = np.minimum(np.arange(chunk.start, chunk.start + chunk.size), chunk.stop - 1)  # pad with the last
            repeats = tuple(int(i) for i in pick % cfg.seeds) if cfg.data == "per-seed" else None  # seed fastest
            if (group, repeats) not in datasets:  # one dataset held at a time
                datasets = {(group, repeats): drawing.submit(make_dataset, task, group, cfg.samples,
                                                             cfg.val_fraction, cfg.split, cfg.data_seed, repeats)}
            if chunk.cell_index not in grids:
                grids[chunk.cell_index] = model_grid(cfg, cell)
            hparams = jax.tree.map(lambda a: a[pick], grids[chunk.cell_index])
            info = infos[chunk.index]
            report = (lambda event, **extra: progress(event, info | extra)) if progress else (lambda *a, **k: None)
            t0 = time.perf_counter()
            program_key = (chunk.cell_index, chunk.bucket)
            if program_key not in programs:
                report("start")
                program = make_program(cell, cfg, devices)
                shapes = (hparams, data_shapes(cfg, group, n_in, repeats))
                state = jax.eval_shape(program.init, *shapes)
                programs[program_key] = Program(compile_lowered(program.init.lower(*shapes)),
                                                compile_lowered(program.epoch.lower(state, *shapes, np.int32(0))))
            compile_s = time.perf_counter() - t0
            report("compiled", compile_s=compile_s)
            data = datasets[group, repeats].result()
            args = (hparams, Data(jnp.asarray(data.lengths), *map(jnp.asarray, (data.x_train, data.y_train,
                                                                                  data.x_val, data.y_val))))
            _train_chunk(cfg, chunk, programs[program_key], args, store, report, compile_s)
            trained += 1
    finally:
        drawing.shutdown(wait=False, cancel_futures=True)
    return trained


def data_shapes(cfg: SweepConfig, lengths: tuple[int, ...], n_in: int, repeats: tuple[int, ...] | None) -> Data:
    """The shapes and dtypes of the :class:`~latchjax.trainer.Data` that :func:`~latchjax.data.make_dataset`
    draws for ``lengths`` (so that programs compile while it draws)."""
    lead = (len(lengths),) if repeats is None else (len(lengths), len(repeats))
    n_val, t_max = cfg.samples - cfg.n_train, max(lengths)
    f32, i32 = jnp.float32, jnp.int32
    shape = jax.ShapeDtypeStruct
    return Data(shape((len(lengths),), i32), shape((*lead, cfg.n_train, t_max, n_in), f32),
                shape((*lead, cfg.n_train), i32), shape((*lead, n_val, t_max, n_in), f32), shape((*lead, n_val), i32))


def _train_chunk(cfg: SweepConfig, chunk: Chunk, program: Program, args: tuple, store: Any,
                 report: Callable[..., None], compile_s: float) -> None:
    """Train one chunk with its compiled ``program`` and save its outputs (with ``compile_s`` and the run time)."""
    t1 = time.perf_counter()
    state, history = program.init(*args), []
    for e in range(cfg.epochs):
        state, metrics = program.epoch(state, *args, np.int32(e))
        history.append(jax.block_until_ready(metrics))
        report("epoch", epoch=e + 1)
    metrics = jax.tree.map(lambda *a: np.stack(a, axis=-1), *history)
    out = jax.tree.map(lambda a: np.asarray(a)[:, : chunk.stop - chunk.start], finish(state, metrics))
    run_s = time.perf_counter() - t1
    report("done", compile_s=compile_s, run_s=run_s)
    out["timing"] = {"compile_s": np.float64(compile_s), "run_s": np.float64(run_s)}
    store.save(chunk, out)


def _chunk_info(cfg: SweepConfig, chunk: Chunk) -> dict:
    """What progress reports say about a chunk."""
    cell = make_cell(cfg.cells[chunk.cell_index], cfg.units, cfg.flavor)
    return {"cell": cell.name, "lengths": chunk.lengths, "max_length": max(chunk.lengths), "models": chunk.models,
            "epochs": cfg.epochs, "chunk": chunk.index}


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
        fbs = forget_bias_values(cfg, cell)
        shape = (len(cfg.lrs), len(fbs), cfg.seeds)
        metrics = {}
        for name in (*METRICS, "diverged"):  # (length, model[, epoch]) -> (length, lr, fb, seed[, epoch])
            arr = np.stack([per_length[n][name] for n in cfg.lengths])
            arr = arr.reshape(len(cfg.lengths), *shape, *arr.shape[2:])
            if len(fbs) < len(cfg.forget_biases):  # the bias has no effect on this cell: same model for every value
                arr = np.repeat(arr, len(cfg.forget_biases), axis=2)
            metrics[name] = arr
        params = [per_length[n]["params"] for n in cfg.lengths]
        parts.append(SweepResult.from_cell(cell, cfg, metrics, params, compile_s=compile_s, run_s=run_s))
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
    d = make_dataset(task, (length,), cfg.samples, cfg.val_fraction, cfg.split, cfg.data_seed, repeats)
    first = (0, 0) if repeats else 0  # per-seed data: this model's own dataset
    data = Data(length, d.x_train[first], d.y_train[first], d.x_val[first], d.y_val[first])
    hparams = Hparams(jax.random.fold_in(jax.random.key(cfg.seed), seed),
                      jnp.float32(cfg.lrs[0] if lr is None else lr),
                      jnp.float32(cfg.forget_biases[0] if forget_bias is None else forget_bias))
    return jax.tree.map(np.asarray, jax.jit(make_train(cell, cfg))(hparams, data))
