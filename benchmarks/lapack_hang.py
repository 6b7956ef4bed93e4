"""Does a batched CPU QR hang when two devices run it at once? (jaxlib 0.10's LAPACK kernels split a batch across
the intra-op thread pool; two device executions doing so together can deadlock.)

Each trial is a fresh process with two XLA CPU devices that runs a ``shard_map`` of a vmapped QR of ``--models``
(``--size`` x ``--size``) matrices ``--calls`` times, with a NumPy matrix product keeping the cores busy beside it,
as other jobs do on a shared machine. A trial that has not finished after ``--timeout`` seconds is counted as hung
(it needs about 5 s when it runs). ``batched``: ``jnp.linalg.qr`` under vmap; ``latchjax``:
``latchjax.core.cells.common.qr`` (one matrix per LAPACK call on CPU).

    python benchmarks/lapack_hang.py --trials 6
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

TRIAL = """
import sys
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, PartitionSpec as P
from latchjax.core.cells.common import qr
which, models, size, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
factor = jnp.linalg.qr if which == "batched" else qr
mesh = Mesh(np.asarray(jax.devices()), ("m",))
one = lambda key: factor(jax.random.normal(key, (size, size)))[0].sum()
f = jax.jit(jax.shard_map(jax.vmap(one), mesh=mesh, in_specs=P("m"), out_specs=P("m")))
keys = jax.random.split(jax.random.key(0), models)
for _ in range(calls):
    f(keys).block_until_ready()
"""
LOAD = "import numpy as np\na = np.random.rand(600, 600)\nwhile True:\n    a @ a\n"


def trial(which: str, args: argparse.Namespace) -> tuple[bool, float]:
    env = os.environ | {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    start = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", TRIAL, which, str(args.models), str(args.size), str(args.calls)],
                       env=env, timeout=args.timeout, check=True, capture_output=True)
        return False, time.perf_counter() - start
    except subprocess.TimeoutExpired:
        return True, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--models", type=int, default=90)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    load = subprocess.Popen([sys.executable, "-c", LOAD])
    try:
        for which in ("batched", "latchjax"):
            results = [trial(which, args) for _ in range(args.trials)]
            hung = sum(h for h, _ in results)
            done = [t for h, t in results if not h]
            median = sorted(done)[len(done) // 2] if done else float("nan")
            print(f"{which:9s} hung {hung}/{args.trials}  (finished trials: median {median:.1f} s)")
    finally:
        load.kill()


if __name__ == "__main__":
    main()
