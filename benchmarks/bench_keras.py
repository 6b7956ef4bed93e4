"""Benchmark: the question's own program (Q1) on Keras 3, timed on a sample and extrapolated.

What runs. The asker's training loop (seeds/question.txt), on Keras 3 with the JAX backend by
default, one model at a time: for each sampled (cell, length), N latch sequences
x_t = s*[t=0] + N(0, 0.1^2) noise, s = +1 (label 1) for the first N/2 rows and -1 (label 0) for
the rest (positives first, as in the script); then per model
``Input(shape=(None, 1)) -> SimpleRNN(1) or LSTM(1) -> Dense(2, softmax)``, compiled with
``optimizer='adam'`` (Keras defaults, lr 1e-3), ``sparse_categorical_crossentropy``,
``metrics=['accuracy']``, and ``model.fit(epochs=5, shuffle=True, validation_split=0.2,
batch_size=16, verbose=0)``.

What is measured. Wall seconds per model of construction + compile + fit (``time.perf_counter``
around those three steps; the first jitted call of each new model, i.e. its XLA compile, falls
inside fit). Data generation (once per length, as in the script) is not in the per-model time.
One untimed warm-up model (tiny data, 1 epoch) is trained first so that one-off process start-up
costs (backend initialisation, first imports) are not charged to the sample; the asker's
full run pays them once in 1500 models. By default a few lengths spanning the range
(2, 50, 100, 200) are sampled, 1 model each, at full N and epochs.

What is extrapolated. Per cell, a least-squares line time(L) = a + b*L through the sampled
(length, seconds) points; the Q1 total is 30 repeats x sum over the question's 25 distinct
lengths (2, 5, 8, 10, 15, 20, 25, 30, 40, ..., 200) of time(L), summed over both cells
(1500 models). The script's literal length list contains 30 twice (26 entries, 780 models per
cell); that variant is printed as well. The extrapolation assumes the per-model time is linear in
the length and the same for every repeat; the fit's residuals on the samples are printed so the
assumption can be judged. With ``--samples`` or ``--epochs`` below the question's values the
total is for that shrunk sweep, not Q1, and is marked so (smoke tests only).

    python benchmarks/bench_keras.py                                   # the measurement (minutes)
    python benchmarks/bench_keras.py --latchjax-seconds 153            # plus the speed-up
    python benchmarks/bench_keras.py --lengths 2,10 --samples 200 --epochs 1   # smoke test

Appends one JSON line per run to ``benchmarks/keras_results.jsonl`` (date, machine, versions,
settings, samples, fit, extrapolated totals).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

Q1_LENGTHS = (2, 5, 8, 10, 15, 20, 25, 30) + tuple(range(40, 210, 10))  # 25 distinct, as latchjax's Q1
Q1_SCRIPT_LENGTHS = (2, 5, 8, 10, 15, 20, 25, 30) + tuple(range(30, 210, 10))  # the script's list: 30 twice
Q1_REPEATS, Q1_SAMPLES, Q1_EPOCHS = 30, 10_000, 5


def latch_data(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The question's data: positives first, s = +-1 at t = 0, N(0, 0.1^2) noise everywhere."""
    xs = np.zeros((n, length))
    ys = np.zeros(n)
    xs[: n // 2, 0] = 1
    ys[: n // 2] = 1
    xs[n // 2 :, 0] = -1
    noise = rng.normal(loc=0, scale=0.1, size=(n, length))
    return (xs + noise).reshape(n, length, 1), ys


def train_one(keras, cell_cls, xs: np.ndarray, ys: np.ndarray, epochs: int) -> tuple[float, float]:
    """Build, compile and fit one model as the asker did; return (seconds, final val accuracy)."""
    t0 = time.perf_counter()
    inputs = keras.Input(shape=(None, 1), name="input")
    rnn = cell_cls(1, name="rnn")(inputs)
    out = keras.layers.Dense(2, activation="softmax", name="output")(rnn)
    model = keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(xs, ys, epochs=epochs, shuffle=True, validation_split=0.2, batch_size=16, verbose=0)
    seconds = time.perf_counter() - t0
    return seconds, float(hist.history["val_accuracy"][-1])


def fit_line(lengths: list[int], seconds: list[float]) -> tuple[float, float]:
    """Least-squares a, b of seconds = a + b * length."""
    design = np.stack([np.ones(len(lengths)), np.asarray(lengths, dtype=float)], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, np.asarray(seconds, dtype=float), rcond=None)
    return float(a), float(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="srnn,lstm", help="srnn, lstm (comma-separated)")
    parser.add_argument("--lengths", default="2,50,100,200", help="sampled lengths (at least 2 distinct)")
    parser.add_argument("--repeats", type=int, default=1, help="models timed per (cell, length)")
    parser.add_argument("--samples", type=int, default=Q1_SAMPLES, help="N sequences per length")
    parser.add_argument("--epochs", type=int, default=Q1_EPOCHS)
    parser.add_argument("--backend", default="jax", help="KERAS_BACKEND (the question's program on jax by default)")
    parser.add_argument("--seed", type=int, default=0, help="numpy seed for the data")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up model")
    parser.add_argument("--latchjax-seconds", type=float, default=None,
                        help="latchjax's time for the same sweep; prints the speed-up total / S")
    parser.add_argument("--out", default=str(Path(__file__).with_name("keras_results.jsonl")))
    args = parser.parse_args()

    lengths = [int(n) for n in args.lengths.split(",")]
    cells = args.cells.split(",")
    if len(set(lengths)) < 2:
        parser.error("--lengths needs at least 2 distinct lengths to fit a line")
    if any(c not in ("srnn", "lstm") for c in cells):
        parser.error("--cells takes srnn and/or lstm")

    os.environ["KERAS_BACKEND"] = args.backend  # must be set before keras is imported
    import keras

    cell_classes = {"srnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM}
    q1_settings = args.samples == Q1_SAMPLES and args.epochs == Q1_EPOCHS
    rng = np.random.default_rng(args.seed)
    t_start = time.perf_counter()

    if not args.no_warmup:
        wx, wy = latch_data(32, 2, rng)
        for cell in cells:
            train_one(keras, cell_classes[cell], wx, wy, epochs=1)

    samples: list[dict] = []
    fits: dict[str, dict] = {}
    for cell in cells:
        for length in lengths:
            xs, ys = latch_data(args.samples, length, rng)
            for r in range(args.repeats):
                seconds, val_acc = train_one(keras, cell_classes[cell], xs, ys, args.epochs)
                samples.append({"cell": cell, "length": length, "repeat": r, "seconds": round(seconds, 3),
                                "val_accuracy": val_acc})
                print(f"{cell:>4} L={length:<4} repeat {r}: {seconds:8.2f} s  (final val accuracy {val_acc:.3f})",
                      flush=True)
        own = [s for s in samples if s["cell"] == cell]
        a, b = fit_line([s["length"] for s in own], [s["seconds"] for s in own])
        residuals = [s["seconds"] - (a + b * s["length"]) for s in own]
        total = Q1_REPEATS * sum(a + b * n for n in Q1_LENGTHS)
        total_script = Q1_REPEATS * sum(a + b * n for n in Q1_SCRIPT_LENGTHS)
        fits[cell] = {"a_s": a, "b_s_per_step": b, "max_abs_residual_s": max(abs(e) for e in residuals),
                      "models": Q1_REPEATS * len(Q1_LENGTHS), "total_s": total, "script_total_s": total_script}
        print(f"{cell:>4} fit: time(L) = {a:.3f} s + {b * 1000:.3f} ms * L  (max |residual| "
              f"{fits[cell]['max_abs_residual_s']:.3f} s); {fits[cell]['models']} models -> {total:.0f} s")
        if b < 0 or min(a + b * n for n in Q1_LENGTHS) <= 0:
            print(f"WARNING: {cell} fit has a negative slope or a non-positive time inside 2..200; timing noise "
                  "dominates these samples, so the extrapolation is not meaningful (sample longer lengths, "
                  "more repeats, or full N and epochs)")

    total = sum(f["total_s"] for f in fits.values())
    total_script = sum(f["script_total_s"] for f in fits.values())
    wall = time.perf_counter() - t_start
    label = "Q1" if q1_settings else f"SHRUNK sweep (N={args.samples}, epochs={args.epochs}; NOT Q1)"
    print(f"extrapolated {label} total, cells {'+'.join(cells)}, 30 repeats x 25 lengths: "
          f"{total:.0f} s = {total / 3600:.2f} h")
    print(f"  (the script's literal list, 30 run twice, 26 lengths: {total_script:.0f} s = {total_script / 3600:.2f} h)")
    speedup = None
    if args.latchjax_seconds is not None:
        speedup = total / args.latchjax_seconds
        print(f"speed-up of latchjax ({args.latchjax_seconds:.1f} s) over the {label} extrapolation: {speedup:.1f}x")
    print(f"benchmark wall time: {wall:.1f} s")

    import jax

    record = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.processor() or platform.machine()} {os.cpu_count()} cores",
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
        "settings": {"cells": cells, "lengths": lengths, "repeats": args.repeats, "samples": args.samples,
                     "epochs": args.epochs, "batch_size": 16, "validation_split": 0.2, "seed": args.seed,
                     "warmup": not args.no_warmup, "q1_settings": q1_settings},
        "samples": samples,
        "fit": {c: {k: round(v, 6) if isinstance(v, float) else v for k, v in f.items()} for c, f in fits.items()},
        "extrapolated_total_s": round(total, 1),
        "extrapolated_total_h": round(total / 3600, 3),
        "script_literal_total_s": round(total_script, 1),
        "latchjax_seconds": args.latchjax_seconds,
        "speedup": None if speedup is None else round(speedup, 2),
        "wall_s": round(wall, 2),
    }
    with open(args.out, "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
