"""Benchmark: chunked sweeps. Peak memory against the number of models, and 1 -> N local devices.

    python benchmarks/bench_scale.py memory     # 10x more seeds at a fixed chunk size: same peak memory?
    python benchmarks/bench_scale.py devices    # the same sweep on 1, 2 and 4 (fake, on CPU) devices
    python benchmarks/bench_scale.py largest    # Q1 with 3 cells and 100 seeds: 7,500 models

Every measurement is a fresh process running ``latchjax sweep`` (so peak RSS is its own); prints a
table and appends one JSON line per measurement to ``benchmarks/results.jsonl``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from latchjax.cli.commands import run
t0 = time.perf_counter()
code = run(sys.argv[1:])
wall = time.perf_counter() - t0
meta = json.load(open(sys.argv[sys.argv.index("--out") + 1] + "/meta.json"))
print(json.dumps({"code": code, "wall_s": round(wall, 2), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "compile_s": meta["compile_s"], "run_s": meta["run_s"], "chunks": meta["chunks"],
                  "chunk_models": meta["chunk_models"], "devices": len(meta["devices"]),
                  "memory_estimate_mb": meta["memory_estimate"] / 2**20}))
"""

BASE = ["--cells", "lstm", "--units", "8", "--lengths", "200", "--batch-size", "64", "--epochs", "1", "--samples", "2000",
        "--quiet"]


def measure(argv: list[str], devices: int = 1) -> dict:
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, "sweep", *argv, "--out", f"{tmp}/run"], env=env,
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("memory", "devices", "largest"))
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.jsonl")))
    args = parser.parse_args()
    runs = []
    if args.what == "memory":
        for seeds, chunk in ((16, "16"), (160, "16"), (160, None)):
            argv = [*BASE, "--seeds", str(seeds)] + (["--chunk-models", chunk] if chunk else [])
            r = measure(argv)
            r.update(models=seeds, chunk_flag=chunk)
            runs.append(r)
            print(f"{seeds:5d} models, --chunk-models {chunk or '(none)':6s}: {r['chunks']:3d} chunks of "
                  f"{r['chunk_models']}, wall {r['wall_s']:7.1f} s (compile {r['compile_s']:.1f}, run "
                  f"{r['run_s']:.1f}), peak RSS {r['peak_rss_mb']:7.0f} MB, estimate {r['memory_estimate_mb']:.0f} MB")
    elif args.what == "largest":
        r = measure(["--preset", "question-fixed", "--cells", "srnn,lstm,gru", "--seeds", "100", "--quiet"])
        r.update(models=3 * 25 * 100)
        runs.append(r)
        print(f"{r['models']} models ({r['chunks']} chunks of {r['chunk_models']}): wall {r['wall_s']:.1f} s (compile "
              f"{r['compile_s']:.1f}, run {r['run_s']:.1f}), peak RSS {r['peak_rss_mb']:.0f} MB, "
              f"{r['devices']} device(s)")
    else:
        for devices in (1, 2, 4):
            r = measure([*BASE, "--seeds", "32"], devices)
            r.update(models=32)
            runs.append(r)
            print(f"{devices} device(s): {r['chunks']} chunk(s) of {r['chunk_models']}, wall {r['wall_s']:.1f} s "
                  f"(compile {r['compile_s']:.1f}, run {r['run_s']:.1f}), peak RSS {r['peak_rss_mb']:.0f} MB")
    record = {"date": datetime.date.today().isoformat(), "bench": f"scale-{args.what}",
              "machine": f"{platform.node() or 'host'} {platform.machine()} {os.cpu_count()} cores",
              "settings": BASE, "runs": runs}
    with open(args.out, "a") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
