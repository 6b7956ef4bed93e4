"""Shared test setup. `latchjax sweep` turns on JAX's persistent compilation cache under the user's cache
directory; in the suite's own process it stays off (writing every small program to disk would slow the
suite about 2x on a fresh machine), and anything a subprocess caches goes to a temporary directory, never
the user's home. tests/test_engine.py tests the cache itself, in subprocesses with their own directory."""

import os

import pytest

import latchjax.runner


@pytest.fixture(autouse=True, scope="session")
def _no_compilation_cache_in_the_suite(tmp_path_factory):
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    real = latchjax.runner.enable_compilation_cache
    latchjax.runner.enable_compilation_cache = lambda directory=None: None
    yield
    latchjax.runner.enable_compilation_cache = real
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
