"""SweepProgress: the ETA weighs work and leaves compile time out of the rate; logs stay short."""

import io
from types import SimpleNamespace

import pytest

from latchjax.rundir.progress import SweepProgress, chunk_work, clock_text


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def info(cell="lstm", lengths=(2, 5, 10), models=30, epochs=4, devices=1, chunk=0, epoch=1):
    return {"cell": cell, "lengths": lengths, "max_length": max(lengths), "models": models, "epochs": epochs,
            "devices": devices, "chunk": chunk, "epoch": epoch}


# two buckets of very different cost; each model-step of work takes SPEED seconds
SPEED = 1e-3
CHUNKS = [info(lengths=(2, 5, 10), models=30, chunk=0), info(lengths=(2, 5, 10), models=30, chunk=1),
          info(lengths=(50, 100), models=20, chunk=2)]
COMPILE_S = {0: 7.0, 2: 11.0}  # chunk 1 reuses chunk 0's program


def run_events(bar, clock, stop_after=None):
    """Feed ``bar`` the events of CHUNKS; returns the clock time at which each epoch event happened."""
    times = []
    for chunk in CHUNKS:
        if chunk["chunk"] in COMPILE_S:
            bar("start", chunk)
            clock.t += COMPILE_S[chunk["chunk"]]
        bar("compiled", chunk)
        for e in range(1, chunk["epochs"] + 1):
            for _ in range(chunk["devices"]):
                clock.t += chunk["models"] * chunk["max_length"] / chunk["devices"] * SPEED
                bar("epoch", chunk | {"epoch": e})
            times.append(clock.t)
            if stop_after is not None and len(times) == stop_after:
                return times
        bar("done", chunk)
    return times


def total_work():
    return sum(chunk_work(c["models"], c["max_length"], c["epochs"]) for c in CHUNKS)


def test_eta_is_the_true_remaining_training_time_at_a_constant_rate():
    clock = Clock()
    training = total_work() * SPEED
    for stop in range(1, 13):
        clock.t = 0.0
        bar = SweepProgress(total_work(), quiet=True, clock=clock)
        times = run_events(bar, clock, stop_after=stop)
        compile_done = sum(s for c, s in COMPILE_S.items() if c <= CHUNKS[(stop - 1) // 4]["chunk"])
        trained = times[-1] - compile_done
        assert bar.training_seconds() == pytest.approx(trained)
        assert bar.eta() == pytest.approx(training - trained), stop
    assert bar.eta() == pytest.approx(0.0)


def test_eta_counts_the_compiles_to_come_at_their_mean_time():
    clock = Clock()
    bar = SweepProgress(total_work(), quiet=True, compiles=2, clock=clock)
    assert bar.eta() is None  # nothing measured yet
    run_events(bar, clock, stop_after=4)  # chunk 0 trained: one compile (7 s) to come
    assert bar.eta() == pytest.approx((total_work() - chunk_work(30, 10, 4)) * SPEED + 7.0)
    clock.t = 0.0
    bar = SweepProgress(total_work(), quiet=True, compiles=2, clock=clock)
    times = run_events(bar, clock)
    assert bar.eta() == pytest.approx(0.0)
    assert times[-1] == pytest.approx(total_work() * SPEED + sum(COMPILE_S.values()))


def test_eta_counts_down_between_events_and_during_compiles():
    clock = Clock()
    bar = SweepProgress(total_work(), quiet=True, compiles=2, clock=clock)
    run_events(bar, clock, stop_after=2)
    eta = bar.eta()
    clock.t += 0.5
    assert bar.eta() == pytest.approx(eta - 0.5)


def test_devices_each_report_their_share():
    clock = Clock()
    chunk = info(models=40, devices=4, epochs=2)
    bar = SweepProgress(chunk_work(40, 10, 2), quiet=True, clock=clock)
    bar("compiled", chunk)
    for e in (1, 2):
        for _ in range(4):
            clock.t += 1.0
            bar("epoch", chunk | {"epoch": e})
    assert bar.fraction() == pytest.approx(1.0)


def test_for_plan_counts_work_and_compiles():
    plan = [SimpleNamespace(models=6, lengths=(2, 5), cell_index=0, bucket=0),
            SimpleNamespace(models=6, lengths=(2, 5), cell_index=0, bucket=0),
            SimpleNamespace(models=4, lengths=(30, 40), cell_index=1, bucket=1)]
    bar = SweepProgress.for_plan(plan, epochs=3, quiet=True)
    assert bar.total == (6 * 5 * 2 + 4 * 40) * 3
    assert bar.compiles == 2


def test_a_log_gets_a_few_lines_not_one_per_epoch():
    clock = Clock()
    out = io.StringIO()
    many = [info(models=8, lengths=(10, 20), chunk=i, epochs=500) for i in range(20)]  # 10,000 epoch events
    bar = SweepProgress(sum(chunk_work(8, 20, 500) for _ in many), compiles=1, file=out, clock=clock)
    assert not bar.live
    with bar:
        for chunk in many:
            if chunk["chunk"] == 0:
                bar("start", chunk)
                clock.t += 5
            bar("compiled", chunk)
            for e in range(1, 501):
                clock.t += 0.01
                bar("epoch", chunk | {"epoch": e})
            bar("done", chunk)
    lines = out.getvalue().splitlines()
    assert len(lines) <= 15, lines
    assert lines[0] == "compiling lstm lengths 10-20 (8 models)"
    assert lines[-1].startswith("100% done")
    assert any("ETA" in line and "%" in line for line in lines)


def test_a_long_run_logs_at_most_once_a_minute_between_tenths():
    clock = Clock()
    out = io.StringIO()
    chunk = info(models=1, lengths=(10,), epochs=10_000)
    bar = SweepProgress(chunk_work(1, 10, 10_000), file=out, clock=clock, log_seconds=60)
    bar("compiled", chunk)
    for e in range(1, 1001):  # 10% of the work over 1000 s: 16 lines at most
        clock.t += 1.0
        bar("epoch", chunk | {"epoch": e})
    assert 10 <= len(out.getvalue().splitlines()) <= 18


def test_quiet_prints_nothing(capsys):
    out = io.StringIO()
    clock = Clock()
    with SweepProgress(total_work(), quiet=True, compiles=2, file=out, clock=clock) as bar:
        run_events(bar, clock)
    bar.close()
    assert out.getvalue() == ""
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_live_bar_on_a_terminal_ends_at_100_percent():
    out = io.StringIO()
    clock = Clock()
    with SweepProgress(total_work(), compiles=2, file=out, live=True, clock=clock) as bar:
        run_events(bar, clock)
    text = out.getvalue()
    assert "100%" in text and "ETA 0:00" in text


def test_clock_format():
    assert clock_text(None) == "?"
    assert clock_text(float("nan")) == "?"
    assert clock_text(61) == "1:01"
    assert clock_text(3725) == "1:02:05"


def test_the_time_between_chunks_goes_to_what_follows():
    clock = Clock()
    bar = SweepProgress(chunk_work(10, 10, 1) * 3, quiet=True, compiles=2, clock=clock)
    clock.t = 100.0  # before the first event (planning, JAX's start-up): neither compile nor training
    a, b = info(models=10, lengths=(10,), epochs=1, chunk=0), info(models=10, lengths=(10,), epochs=1, chunk=1)
    bar("start", a)
    clock.t += 4
    bar("compiled", a)
    clock.t += 1
    bar("epoch", a)
    bar("done", a)
    clock.t += 0.5  # the next chunk's hyperparameters: training
    bar("compiled", a | {"chunk": 1})
    clock.t += 1
    bar("epoch", a)
    bar("done", a)
    clock.t += 2  # the next bucket's dataset: part of its compile
    bar("start", b)
    clock.t += 4
    assert bar.compile_times == [4]
    bar("compiled", b)
    assert bar.compile_times == [4, 6]
    assert bar.training_seconds() == pytest.approx(2.5)
