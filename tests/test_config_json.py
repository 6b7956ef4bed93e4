"""config.json, the record of a run: config -> config.json -> config is the identity (so a new and a resumed sweep
are one path), it holds every value a run used, and runs written by older versions are still read."""

import dataclasses
import inspect
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import latchjax.cli.sweep
from latchjax.cli import run
from latchjax.core.tasks import TASK_OPTIONS, TASKS
from latchjax.rundir.load import load_dataset, load_result
from latchjax.rundir.sweepdir import read_config
from latchjax.rundir.tables import table_texts
from latchjax.sweep.config import ONLINE_ONLY, SweepConfig, default_length_buckets, default_unroll
from latchjax.sweep.runner import run_sweep
from latchjax.sweep.settings import SETTINGS, from_settings, to_settings


def assert_same_config(a: SweepConfig, b: SweepConfig) -> None:
    """``a == b`` field by field, NaN equal to NaN (the torch flavour's forget bias: PyTorch's own draw)."""
    for f in dataclasses.fields(SweepConfig):
        if f.compare:
            x, y = getattr(a, f.name), getattr(b, f.name)
            if f.name == "forget_biases":
                assert np.array_equal(x, y, equal_nan=True), (f.name, x, y)
            else:
                assert x == y, (f.name, x, y)


def as_json(settings: dict) -> str:
    return json.dumps(settings, sort_keys=True)  # NaN is written NaN: equal texts, where NaN != NaN


def test_every_setting_is_defined_once_with_the_tasks_own_defaults():
    """The flags, TOML keys and SweepConfig agree: settings left unset give SweepConfig's defaults, and a task
    option left unset is the task's own default (two_sequence: H&S's variance 0.2, not latch's 0.1)."""
    assert from_settings({}) == SweepConfig()
    assert from_settings({"task": "two_sequence"}) == SweepConfig(task="two_sequence")
    assert from_settings({"task": "two_sequence"}).task_kwargs == {"noise": 0.2**0.5, "informative": 1}
    fields = {f.name for f in dataclasses.fields(SweepConfig)}
    assert all(set(s.fields) <= fields for s in SETTINGS.values())
    assert {"lr", "forget_bias", "buckets", "noise", "middle", "informative", "threshold"} <= set(SETTINGS)


CONFIGS = {
    "default": SweepConfig(),
    "two_sequence with noise": SweepConfig(task="two_sequence", task_kwargs={"noise": 0.3, "informative": 2},
                                           lengths=(5, 9)),
    "keras3, two lrs, three forget biases": SweepConfig(flavor="keras3", cells=("srnn", "lstm:units=3", "gru:bz=2"),
                                                        lrs=(1e-2, 1e-3), forget_biases=(0.0, 1.0, 2.5)),
    "torch (forget bias NaN)": SweepConfig(flavor="torch", cells=("lstm", "janet", "srnn")),
    "bit_relay with middle": SweepConfig(task="bit_relay", task_kwargs={"middle": 3}, lengths=(5, 9)),
    "bit_relay, middle by rule": SweepConfig(task="bit_relay", lengths=(5, 9)),
    "parity": SweepConfig(task="parity", lengths=(4, 6)),
    "per-seed data, aligned heads": SweepConfig(data="per-seed", head_init="aligned", seeds=5),
    "every other setting moved": SweepConfig(units=2, seeds=7, epochs=3, batch_size=8, samples=300, split="keras",
                                             val_fraction=0.25, head="sigmoid", optimizer="sgd", seed=4, data_seed=4,
                                             length_buckets=2, unroll=3, gradient="forward", threshold=0.75,
                                             lengths=(3, 8, 20)),
    "online copy, per-seed streams, stop at success": SweepConfig(
        task="copy", task_kwargs={"symbols": 3}, data="online-per-seed", budget=640, eval_every=8, test_samples=50,
        stop_at_success=True, lengths=(4, 6)),
    "head-only training": SweepConfig(train="head", cells=("lstm", "gru"), lengths=(5,)),
    "adding with H&S's spread of lengths": SweepConfig(task="adding", task_kwargs={"spread": 0.1}, lengths=(10, 20)),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_config_json_round_trips_to_the_same_config(name):
    cfg = CONFIGS[name]
    written = json.loads(json.dumps(to_settings(cfg)))  # through the JSON text config.json holds
    again = from_settings(written)
    assert_same_config(again, cfg)
    assert as_json(to_settings(again)) == as_json(to_settings(cfg))


TINY = {"cells": "srnn", "lengths": "4", "seeds": "2", "epochs": "1", "samples": "48"}


def sweep(out: Path, **flags: str) -> list[str]:
    """``latchjax sweep`` of a tiny sweep, ``flags`` (a flag each, given once) replacing its settings."""
    merged = TINY | flags
    return ["sweep", *(a for k, v in merged.items() for a in (f"--{k.replace('_', '-')}", v)), "--quiet",
            "--out", str(out)]


def record_configs(monkeypatch, interrupt_first: bool = False) -> list[SweepConfig]:
    """The configs ``latchjax sweep`` trains with, in order; ``interrupt_first``: Ctrl-C the first sweep before it
    trains anything (its config.json is written, its chunks are all to do)."""
    built, real = [], latchjax.cli.sweep.train_chunks

    def train_chunks(cfg, *args, **kwargs):
        built.append(cfg)
        if interrupt_first and len(built) == 1:
            raise KeyboardInterrupt
        return real(cfg, *args, **kwargs)

    monkeypatch.setattr(latchjax.cli.sweep, "train_chunks", train_chunks)
    return built


@pytest.mark.integration
@pytest.mark.parametrize("flags", [
    {},
    {"task": "two_sequence", "noise": "0.3"},
    {"flavor": "torch", "cells": "lstm,srnn"},
    {"task": "bit_relay", "middle": "1", "lengths": "3,5", "lr": "0.01,0.001"},
    {"preset": "question", "data": "per-seed", "head_init": "aligned", "forget_bias": "0,1"},
], ids=["defaults", "two_sequence noise", "torch", "bit_relay middle, two lrs", "question per-seed aligned"])
def test_config_json_round_trips_to_the_same_config_through_the_cli(tmp_path, monkeypatch, flags):
    """A sweep stopped before training, then `--resume`d: the resumed sweep rebuilds, from config.json, the very
    config the new sweep built (and so its plan: the resume trains every chunk and finishes)."""
    built = record_configs(monkeypatch, interrupt_first=True)
    out = tmp_path / "run"
    assert run(sweep(out, **flags)) == 130
    assert run(["sweep", "--resume", str(out), "--quiet"]) == 0
    new, resumed = built
    assert_same_config(resumed, new)
    assert_same_config(from_settings(read_config(out)), new)
    assert (out / "results.csv").is_file()


def takes(task: str) -> set[str]:
    """The options of TASK_OPTIONS that a built-in task takes (its keyword-only parameters)."""
    return {p.name for p in inspect.signature(TASKS[task]).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY} & set(TASK_OPTIONS)


# the shortest length each task takes where 4 is too short: H&S's and Pascanu's windows need T >= 10, an embedded
# Reber string 8 steps, memory capacity its washout of 40 delays, the digits their 64 pixels or 8 rows
SHORTEST = {"adding": 10, "multiplication": 10, "temporal_order": 10, "temporal_order_8": 10,
            "temporal_order_pascanu": 10, "temporal_order_3bit_pascanu": 10, "adding_pascanu": 10,
            "multiplication_pascanu": 10, "reber": 8, "memory_capacity": 64, "digits_pixel": 64, "digits_row": 8,
            "digits_permuted": 64}


@pytest.mark.integration
@pytest.mark.parametrize("task", list(TASKS))
def test_config_json_holds_the_values_a_run_used(tmp_path, monkeypatch, task):
    built = record_configs(monkeypatch)
    out = tmp_path / "run"
    lengths = {"lengths": str(SHORTEST.get(task, 4))}
    assert run(sweep(out, task=task, **lengths)) == 0
    config = json.loads((out / "config.json").read_text())
    cfg = built[0]
    # every setting, as the run used it; a task option only where the task takes it
    assert {k for k in config if k in TASK_OPTIONS} == takes(task)
    for name, setting in SETTINGS.items():
        if name in ONLINE_ONLY or name in ("stop_at_success", "train", "snapshots", "shuffle_seed", "labels"):  # offline, defaults: unwritten
            assert name not in config, name
        elif setting.fields:
            value = getattr(cfg, setting.fields[0])
            assert config[name] == (list(value) if setting.is_list else value), name
    # the task the run trained with was bound with exactly the options config.json holds
    bound = getattr(cfg.resolved.task, "fn", cfg.resolved.task)  # a TaskSpec binds its function
    assert getattr(bound, "keywords", {}) == {k: config[k] for k in takes(task)}
    # no "default" placeholder: the only null is bit_relay's middle, whose default is a rule (length // 2)
    nulls = {k for k, v in config.items() if k in SETTINGS and v is None}
    assert nulls == ({"middle"} if task == "bit_relay" else set())
    assert config["buckets"] == default_length_buckets() and config["unroll"] == default_unroll()
    assert config["forget_bias"] == [1.0]  # keras2's
    if task == "two_sequence":  # H&S's variance 0.2, and one informative element
        assert config["noise"] == math.sqrt(0.2) == pytest.approx(0.4472136) and config["informative"] == 1
    if task in ("latch", "bit_relay"):
        assert config["noise"] == 0.1


# A run written by latchjax 0.1 (commit 1cee8f9), kept as it was written: config.json wrote "the default" as -1
# (middle), [] (forget_bias), and every task option whatever the task (noise 0.1 for parity, which has none);
# results.npz has no coords["cell_info"]. Made with
#   git archive 1cee8f9 latchjax experiments pyproject.toml | tar -x -C /tmp/old && cd /tmp/old &&
#   PYTHONPATH=. XLA_FLAGS=--xla_force_host_platform_device_count=1 python -c "import sys; from latchjax.cli import \
#   main; sys.exit(main())" sweep --task parity --cells srnn,lstm --lengths 3,5 --seeds 3 --epochs 1 --samples 48 \
#   --lr 0.01,0.001 --quiet --out tests/data/run_at_1cee8f9      (then rm -r tests/data/run_at_1cee8f9/figures)
OLD_RUN = Path(__file__).with_name("data") / "run_at_1cee8f9"


@pytest.fixture(params=["as 0.1 wrote it", "defaults as null"])
def old_run(request, tmp_path):
    """The 0.1 run; and the same run with every "default" written as a later version wrote it (null), and the
    buckets as 0 ("the backend's default" in 0.1)."""
    out = tmp_path / "old"
    shutil.copytree(OLD_RUN, out)
    if request.param == "defaults as null":
        config = json.loads((out / "config.json").read_text())
        config |= {"noise": None, "middle": None, "informative": None, "forget_bias": None, "buckets": 0}
        (out / "config.json").write_text(json.dumps(config, indent=2))
    return out


@pytest.mark.integration
def test_a_run_written_by_latchjax_0_1_is_still_read(old_run, capsys):
    written = {name: (OLD_RUN / name).read_text() for name in ("results.csv", "history.csv", "summary.csv")}
    result = load_result(old_run / "results.npz")
    assert [i["kind"] for i in result.cell_info()] == ["srnn", "lstm"]  # from the names, with config.json's units
    assert [i["has_forget_bias"] for i in result.cell_info()] == [False, True]
    tables = table_texts(result, 0.9)  # the tables it wrote, from its results.npz alone; summary.csv has since
    summary = [line.rsplit(",", 2) for line in tables.pop("summary.csv").splitlines()]  # gained cp_low, cp_high
    assert tables == {k: v for k, v in written.items() if k != "summary.csv"}
    assert "\n".join(line[0] for line in summary) + "\n" == written["summary.csv"] and summary[0][1:] == ["cp_low",
                                                                                                       "cp_high"]
    ds = load_dataset(old_run)
    assert list(ds.kind.values) == ["srnn", "lstm"] and ds.attrs["threshold"] == 0.9
    np.testing.assert_array_equal(ds.success.values, result.success(0.9))
    assert run(["summary", str(old_run)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("custom: success = final val acc >= 0.9; data shared")
    for row in written["summary.csv"].splitlines()[1:]:  # every row of its summary.csv, in the printed table
        cell, length, lr, _, n, k, *_ = row.split(",")
        assert any(line.split()[:4] == [cell, length, lr, f"{k}/{n}"] for line in printed.splitlines()), row


@pytest.mark.integration
def test_the_config_of_a_0_1_run_upgrades_to_the_config_it_ran(old_run):
    """Trained again from its upgraded config.json, the 0.1 run gives the results it saved: the same success
    table, metrics within 1e-4 (the tolerance of tests/test_explain.py's golden file: other XLA versions round
    differently)."""
    cfg = from_settings(read_config(old_run))
    assert (cfg.task, cfg.task_kwargs, cfg.forget_biases, cfg.length_buckets) == ("parity", {}, (1.0,),
                                                                                 default_length_buckets())
    again = run_sweep(cfg)
    saved = load_result(old_run / "results.npz")
    assert again.coords["cell"] == saved.coords["cell"] and again.coords["lr"] == saved.coords["lr"]
    np.testing.assert_array_equal(again.success(0.9), saved.success(0.9))
    for name, array in saved.metrics.items():
        np.testing.assert_allclose(again.metrics[name], array, rtol=0, atol=1e-4, err_msg=name)
