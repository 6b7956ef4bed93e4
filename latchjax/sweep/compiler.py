"""How programs are compiled: XLA's CPU options and the persistent compilation cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax

# XLA's CPU backend hands some small reductions inside the time loop to YNNPACK, which costs a
# library call per time step: 5.5x slower for 120 one-unit LSTMs (benchmarks/RESULTS.md). LLVM's
# optimisation level 1 instead of XLA's default 2 runs the loops of tiny cells faster (LSTM(1) 1.4x,
# SimpleRNN(1) 1.2x) and compiles faster; it rounds some values differently in the last bit.
CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": "", "xla_backend_optimization_level": 1}


def compile_lowered(lowered: Any) -> Any:
    """Compile with :data:`CPU_COMPILER_OPTIONS` on CPU; without them where XLA does not know them."""
    if jax.default_backend() == "cpu":
        try:
            return lowered.compile(compiler_options=CPU_COMPILER_OPTIONS)
        except jax.errors.JaxRuntimeError as err:
            if "compile option" not in str(err):
                raise
    return lowered.compile()


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
