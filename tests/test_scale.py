"""Scaling out, in real processes: 4 (fake) devices == 1 device, kill -9 then --resume == an
uninterrupted run, and two processes on localhost (jax.distributed) == one process."""

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from latchjax.cli import run

pytestmark = pytest.mark.integration  # real processes: devices, kill -9, jax.distributed

SWEEP = ["--cells", "srnn", "--lengths", "10,20", "--seeds", "8", "--lr", "0.01,0.001", "--epochs", "2",
         "--samples", "1000", "--buckets", "1", "--chunk-models", "2", "--quiet"]  # 8 chunks
CLI = [sys.executable, "-m", "latchjax.cli", "sweep"]


def tables(path):
    return {name: (path / name).read_text() for name in ("results.csv", "history.csv", "summary.csv")}


def env(**extra):
    """One CPU device unless told otherwise (the CLI would give one per core), so the chunk counts below hold."""
    return {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=1", **extra}


@pytest.mark.parametrize("data", ["shared", "per-seed"])
def test_four_devices_give_the_one_device_results(data):
    script = textwrap.dedent("""
        import jax, numpy as np
        from latchjax import SweepConfig, run_sweep
        from latchjax.sweep.runner import plan_sweep
        from latchjax.sweep.trainer import METRICS
        assert len(jax.local_devices()) == 4
        cfg = SweepConfig(cells=("srnn", "gru"), lengths=(3, 6, 11), seeds=5, epochs=2, samples=96,
                          lrs=(1e-2, 1e-3), length_buckets=2, data=DATA)
        epochs = []
        four = run_sweep(cfg, progress=lambda event, info: epochs.append(1) if event == "epoch" else None)
        one = run_sweep(cfg, devices=jax.local_devices()[:1])
        plan = plan_sweep(cfg)
        assert all(c.size % 4 == 0 for c in plan)
        assert len(epochs) == len(plan) * cfg.epochs, len(epochs)  # one report per epoch of each chunk
        for name in (*METRICS, "diverged"):
            assert np.array_equal(four.metrics[name], one.metrics[name]), name
        print("identical")
    """).replace("DATA", repr(data))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env=env(XLA_FLAGS="--xla_force_host_platform_device_count=4"))
    assert proc.returncode == 0 and "identical" in proc.stdout, proc.stderr[-2000:]


def test_kill_9_then_resume_gives_the_uninterrupted_tables(tmp_path):
    """kill -9 once at least k chunks are saved, k drawn from a seed (LATCHJAX_KILL_SEED to try another; every
    failure names the seed and k so it can be replayed)."""
    seed = int(os.environ.get("LATCHJAX_KILL_SEED", "0"))
    k = random.Random(seed).randint(1, 6)
    assert run(["sweep", *SWEEP, "--out", str(tmp_path / "straight")]) == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen([*CLI, *SWEEP, "--out", str(out)], env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while proc.poll() is None and time.time() < deadline:
        chunks = out / "chunks"
        if chunks.is_dir() and len(list(chunks.glob("*.npz"))) >= k:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    code = proc.wait()
    done = len(list((out / "chunks").glob("*.npz"))) if (out / "chunks").is_dir() else 0
    replay = f"killed at {done} of 8 chunks, aiming for >= {k} (replay: LATCHJAX_KILL_SEED={seed})"
    assert code == -signal.SIGKILL, f"the sweep ended before its {k}th chunk; {replay}"
    assert not (out / "results.csv").exists(), replay
    assert k <= done < 8, replay
    assert run(["sweep", "--resume", str(out), "--quiet"]) == 0, replay  # the dead process's lock does not block it
    assert tables(out) == tables(tmp_path / "straight"), replay


def test_two_processes_on_localhost_give_the_one_process_tables(tmp_path):
    assert run(["sweep", *SWEEP, "--out", str(tmp_path / "single")]) == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "multi"
    procs = [subprocess.Popen([*CLI, *SWEEP, "--out", str(out), "--coordinator", f"127.0.0.1:{port}",
                               "--num-processes", "2", "--process-id", str(i)], env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        results = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (_, stderr) in zip(procs, results):
        assert p.returncode == 0, stderr[-2000:]
    assert "process 1: trained its 4 chunks" in results[1][0]
    assert tables(out) == tables(tmp_path / "single")
