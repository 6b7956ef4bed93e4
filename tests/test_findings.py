"""The findings presets (docs/FINDINGS.md) parse, and a tiny version of each runs end to end."""

import csv
import json
import re

import pytest

from latchjax.cli import run
from latchjax.sweep.settings import from_settings, presets, resolve

pytestmark = pytest.mark.integration  # the presets, each run end to end

FINDINGS = sorted(name for name in presets() if name.startswith("findings/"))


def test_findings_presets_exist():
    assert {"findings/srnn-init", "findings/lstm-forget", "findings/gates", "findings/budget",
            "findings/capacity-latch", "findings/capacity-bit-relay", "findings/head-sigmoid"} <= set(FINDINGS)


@pytest.mark.parametrize("name", FINDINGS)
def test_findings_preset_runs_tiny(name, tmp_path):
    preset = presets()[name]
    full = from_settings(resolve(preset, {}))
    assert full.seeds >= 30  # enough seeds for the intervals to separate claims
    assert preset["reproduces"].startswith("docs/FINDINGS.md")
    out = tmp_path / "run"
    assert run(["sweep", "--preset", name, "--lengths", "4", "--seeds", "2", "--epochs", "1", "--samples", "48",
                "--quiet", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["cells"] == preset["cells"]
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    n_values = len(preset.get("lr", [1])) * len(preset.get("forget_bias", [1]))
    assert len(rows) == len(preset["cells"]) * 2 * n_values
    assert {r["cell"] for r in rows} == set(preset["cells"])
    for r in rows:  # a spec's own units land in the table
        spec_units = re.search(r":units=(\d+)", r["cell"])
        assert r["units"] == (spec_units.group(1) if spec_units else str(preset["units"]))
