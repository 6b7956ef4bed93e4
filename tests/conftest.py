"""Shared test setup: `latchjax sweep` turns on JAX's persistent compilation cache under the user's cache
directory; the suite keeps its cache in a temporary directory instead, never in the user's home."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_compilation_cache(tmp_path_factory):
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
