"""latchjax 0.1's import paths (:mod:`latchjax.compat`): every public name each 0.1 module had still imports from
its old module, with a DeprecationWarning naming the new home, until 0.3. The only test that uses the old paths."""

import importlib
import json
import sys
import warnings
from pathlib import Path

import pytest

from latchjax.compat import MOVED

# every public name of every module of latchjax 0.1.0, as `dir()` listed them then
NAMES = json.loads((Path(__file__).with_name("data") / "names_at_0.1.0.json").read_text())
STILL_THERE = ("latchjax", "latchjax.cli")  # modules of 0.1 that exist under the same path today


def test_old_import_paths_keep_working_for_one_release(monkeypatch):
    assert set(NAMES) == set(MOVED) | set(STILL_THERE)  # no 0.1 module is left out, and none is invented
    checked, missing = [], []
    for old, names in NAMES.items():
        if old in MOVED:
            monkeypatch.delitem(sys.modules, old, raising=False)  # import it afresh: the warning comes on import
            with pytest.warns(DeprecationWarning, match=rf"^{old} moved to latchjax\.[a-z_.]+; the old path works"):
                module = importlib.import_module(old)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)
                module = importlib.import_module(old)
        missing += [f"{old}.{name}" for name in names if not hasattr(module, name)]
        checked += [(old, name) for name in names]
    assert not missing, f"0.1 names that no longer import from their old path: {missing}"
    assert len(checked) == sum(len(names) for names in NAMES.values())  # every (module, name), none skipped
