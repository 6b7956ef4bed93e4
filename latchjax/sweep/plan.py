"""The plan of a sweep, before anything is compiled: length buckets, chunks that fit a device's memory, the
memory model behind them, the refusals of what cannot fit, and the critical path in sequential steps.

Pure functions of a :class:`~latchjax.sweep.config.SweepConfig` (and the machine's memory); the runner
(:mod:`latchjax.sweep.runner`) trains the chunks a plan lists.

``length_buckets`` splits the lengths into at most that many groups, each padded only to its own longest
length (one compile per group, however many lengths and seeds). With one bucket the whole sweep of a cell
is a single program. The default is 3 on CPU (padding to 200 steps would do 2.3x the work on the
question's lengths) and 1 on accelerators.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from latchjax.core.cells import Cell
from latchjax.core.cells.common import DOT_ROWS
from latchjax.core.model import resolve_scan
from latchjax.core.vocabulary import SettingsError
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.trainer import forget_bias_values, forward_mode, metric_names


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


def model_bytes(cell: Cell, cfg: SweepConfig, n_lengths: int, max_length: int, n_in: int) -> int:
    """Estimated device memory of one model (all ``n_lengths`` lengths of a bucket) while training.

    The backward pass keeps, per sample and time step, the state each step starts from and the step's
    matrix products (only of cells wider than :data:`~latchjax.core.cells.common.DOT_ROWS` units or inputs: smaller
    ones are unrolled, see ``kinds._dot``); it recomputes the rest (:data:`latchjax.core.model.RECOMPUTE_POLICY`). About
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
    n_in = cfg.resolved.n_in
    budget = memory or default_memory_budget()
    check_fits(cfg, budget, n_in)
    chunks: list[Chunk] = []
    # bucket-major, so that consecutive chunks share a dataset (one is held at a time)
    for bi, group in enumerate(bucket_lengths(cfg.lengths, cfg.length_buckets)):
        for ci, cell in enumerate(cfg.resolved.cells):
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
                raise SettingsError(f"the plan would have more than {MAX_CHUNKS:,} chunks (one program call each); "
                                    "allow more models per chunk", "chunk_models")
            for start in range(0, n_models, size):
                chunks.append(Chunk(len(chunks), ci, bi, group, start, min(start + size, n_models), size))
    return chunks


MAX_CHUNKS = 100_000


def sequential_steps(cfg: SweepConfig, plan: list[Chunk]) -> int:
    """The critical path of a sweep in sequential loop iterations: what bounds its time where every iteration
    costs a kernel launch whatever its width (a GPU running many tiny cells). Chunks run one after another;
    per chunk and round (an epoch, or ``eval_every`` steps of online data), every minibatch runs the time loop
    forward and, with reverse-mode gradients, back (``ceil(T / unroll)`` iterations each; the parallel scan of a
    linear cell ``2 ceil(log2 T)`` dependent combines, :func:`scan_depth`), then one validation pass."""
    n_in = cfg.resolved.n_in
    total = 0
    for chunk in plan:
        cell = cfg.resolved.cells[chunk.cell_index]
        loop = scan_depth(max(chunk.lengths), cfg.unroll, resolve_scan(cell, cfg.scan))
        passes = 1 if forward_mode(cell, cfg, n_in) else 2
        total += cfg.rounds * (cfg.steps_per_round * passes * loop + loop)
    return total


def scan_depth(length: int, unroll: int = 1, scan: str = "sequential") -> int:
    """Dependent steps of one pass over ``length`` time steps: ``ceil(T / unroll)`` loop iterations, or for the
    parallel scan ``2 ceil(log2 T)`` (``jax.lax.associative_scan`` combines odd pairs on the way down and even ones
    on the way up, one level per halving)."""
    if scan == "parallel":
        return 2 * math.ceil(math.log2(length)) if length > 1 else 1
    return -(-length // unroll)


def _gb(n: float) -> str:
    return f"{n / 2**30:.3g} GB"


def host_memory() -> int:
    """This machine's RAM in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def result_bytes(cfg: SweepConfig, n_in: int) -> int:
    """Host memory to hold and assemble every model's metrics and final parameters (about 3 copies)."""
    total = 0
    for cell in cfg.resolved.cells:
        n_params = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(
            jax.eval_shape(lambda cell=cell: cell.init(jax.random.key(0), n_in, 1.0))))
        per_model = 4 * (len(metric_names(cfg)) * cfg.rounds + 1 + n_params * (1 + cfg.snapshots * cfg.rounds)
                         + 3 * cell.units)
        total += len(cfg.lengths) * len(cfg.lrs) * len(forget_bias_values(cfg, cell)) * cfg.seeds * per_model
    return 3 * total


def check_fits(cfg: SweepConfig, budget: int, n_in: int) -> None:
    """Refuse, with the estimate and the limit, a sweep whose dataset cannot fit a device's ``budget`` or
    whose results cannot fit half the host's memory: in seconds, before anything is allocated."""
    results, host = result_bytes(cfg, n_in), host_memory() // 2
    if results > host:
        raise SettingsError(f"the results of this sweep need about {_gb(results)} of host memory, more than "
                            f"{_gb(host)} (half this machine's RAM); use fewer seeds, lengths or grid values", "seeds")
    for group in bucket_lengths(cfg.lengths, cfg.length_buckets):
        data = data_bytes(cfg, len(group), max(group), n_in) * (2 if cfg.data == "per-seed" else 1)
        if data > budget:
            raise SettingsError(f"the dataset of lengths {group[0]}-{group[-1]} needs {_gb(data)}, more than the "
                                f"{_gb(budget)} a device may use (--max-memory); use fewer samples or lengths", "samples")


def plan_memory(cfg: SweepConfig, plan: list[Chunk], devices: int = 1) -> int:
    """Estimated peak bytes per device of the largest chunk in ``plan``."""
    n_in = cfg.resolved.n_in
    peak = 0
    for chunk in plan:
        cell = cfg.resolved.cells[chunk.cell_index]
        n_len, t_max = len(chunk.lengths), max(chunk.lengths)
        data = data_bytes(cfg, n_len, t_max, n_in)
        per_model = model_bytes(cell, cfg, n_len, t_max, n_in) + (data if cfg.data == "per-seed" else 0)
        need = (0 if cfg.data == "per-seed" else data) + chunk.size // devices * per_model
        peak = max(peak, need)
    return peak
