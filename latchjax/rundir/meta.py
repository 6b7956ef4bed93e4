"""What a run records of the software it ran with (``meta.json``, ``summary.json``)."""

from __future__ import annotations

import platform
from importlib import metadata


def versions() -> dict[str, str]:
    """Python's version and those of latchjax and the packages its numbers depend on."""
    out = {"python": platform.python_version()}
    for package in ("latchjax", "jax", "jaxlib", "optax", "flax", "numpy", "matplotlib"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out
