"""The README and notebook stay true: their code runs, their links and commands exist."""

import contextlib
import io
import json
import os
import re
from pathlib import Path

import matplotlib
import pytest

pytestmark = pytest.mark.integration  # the README's example and the notebook, run end to end

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_example_runs_and_prints_what_it_says():
    code = re.search(r"<!-- example:start -->\n```python\n(.*?)```", README, re.S).group(1)
    assert len(code.strip().splitlines()) <= 20
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README example", "exec"), {})
    claimed = re.search(r"<!-- example:end -->\n\nprints `(.*?)`", README).group(1)
    assert out.getvalue().strip() == claimed


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)[:2]
    assert "latchjax sweep --preset question" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    test_part = commands[1].split("&& ", 2)[2]  # after creating and activating the venv
    assert test_part in ci


def test_readme_links_exist():
    for link in re.findall(r"\]\(((?:figures|experiments|benchmarks|docs)/[^)]+)\)", README):
        assert (ROOT / link).exists(), link


def test_replot_notebook_runs_on_a_saved_run(tmp_path, monkeypatch):
    from latchjax.cli import run

    out = tmp_path / "run"
    assert run(["sweep", "--preset", "question", "--lengths", "3,6", "--seeds", "2", "--epochs", "1",
                "--samples", "80", "--quiet", "--out", str(out)]) == 0
    monkeypatch.setenv("LATCHJAX_RUN", str(out))
    matplotlib.use("Agg")
    notebook = json.loads((ROOT / "experiments" / "replot.ipynb").read_text())
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                exec("".join(cell["source"]), scope)
    assert scope["run"].config["preset"] == "question" and os.fspath(scope["run"].path) == str(out)
