"""``latchjax sweep``: resolve the settings once, plan, open the run directory, train its chunks, write its files.

A new sweep's settings are resolved into one :class:`~latchjax.sweep.config.SweepConfig` and one plan before
anything is written; ``config.json`` is written from them (:func:`~latchjax.sweep.settings.to_settings`) and the
same ``(run, cfg, plan)`` are used to the end. ``--resume DIR`` rebuilds them from ``DIR/config.json``, read once.
"""

from __future__ import annotations

import argparse
import datetime
import math
import platform
import signal
import sys
from pathlib import Path
from typing import Any

import jax
from jax.experimental import multihost_utils

from latchjax.core.vocabulary import SettingsError
from latchjax.rundir import plots
from latchjax.rundir.lock import RunDirError
from latchjax.rundir.meta import versions
from latchjax.rundir.progress import SweepProgress
from latchjax.rundir.sweepdir import SweepDir
from latchjax.rundir.tables import summary_text
from latchjax.sweep import plan as planning
from latchjax.sweep.compiler import enable_compilation_cache
from latchjax.sweep.config import SweepConfig
from latchjax.sweep.plan import Chunk
from latchjax.sweep.runner import collect, train_chunks
from latchjax.sweep.settings import META_KEYS, SETTINGS, from_settings, load_preset, read_toml, resolve, to_settings


def _size(text: str | None, flag: str) -> int | None:
    """``2G``, ``512M``, ``1.5GB`` or a number of bytes."""
    if text is None:
        return None
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    body = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (body[:-1], body[-1]) if body and body[-1] in units else (body, "")
    try:
        value = int(float(number) * units[unit])
    except (ValueError, OverflowError):  # not a number, or inf / 1e400
        raise SettingsError(f"{flag}: expected a size such as 2G, 512M or 1000000, got {text!r}") from None
    if value <= 0:
        raise SettingsError(f"{flag}: must be > 0, got {text!r}")
    return value


# seconds a process waits for the others to join a multi-process sweep before giving up with one line
DISTRIBUTED_TIMEOUT = 300


def _init_distributed(args: argparse.Namespace) -> tuple[int, int]:
    """Join JAX's multi-process runtime when asked; returns (process index, process count)."""
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if not args.distributed and all(v is None for v in explicit):
        return 0, 1
    if any(v is None for v in explicit) and not all(v is None for v in explicit):
        raise SettingsError("--coordinator, --num-processes and --process-id go together (or use --distributed "
                            "alone on a cluster JAX detects, such as SLURM)")
    if args.resume is None and args.out is None:
        raise SettingsError("--out: a multi-process sweep needs an explicit --out shared by every process")

    kwargs: dict[str, Any] = {"initialization_timeout": DISTRIBUTED_TIMEOUT}
    if args.coordinator is not None:
        host, _, port = args.coordinator.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"--coordinator: expected HOST:PORT with a port in 1-65535, got {args.coordinator!r}")
        if args.num_processes < 1 or not 0 <= args.process_id < args.num_processes:
            raise SettingsError(f"--process-id: must be in [0, {args.num_processes - 1}] for --num-processes "
                                f"{args.num_processes}, got {args.process_id}")
        kwargs |= {"coordinator_address": args.coordinator, "num_processes": args.num_processes,
                   "process_id": args.process_id}
        if not args.quiet:
            print(f"latchjax: process {args.process_id} waiting for {args.num_processes} processes at "
                  f"{args.coordinator} (gives up after {DISTRIBUTED_TIMEOUT} s)", file=sys.stderr)
    try:
        jax.distributed.initialize(**kwargs)
    except (RuntimeError, ValueError) as err:
        flag = "--coordinator" if args.coordinator is not None else "--distributed"
        raise SettingsError(f"{flag}: {str(err).strip().splitlines()[0]}") from None
    return jax.process_index(), jax.process_count()


def _barrier(name: str, processes: int) -> None:
    """Wait until every process gets here."""
    if processes > 1:
        multihost_utils.sync_global_devices(f"latchjax-{name}")


def _plan_devices(plan, local: list) -> list:
    """The most local devices (<= all) whose count divides every chunk: a resumed run keeps its chunks."""
    size = math.gcd(*(c.size for c in plan))
    count = max(d for d in range(1, len(local) + 1) if size % d == 0)
    return local[:count]


def _open_sweep(args: argparse.Namespace, process: int) -> tuple[SweepDir, SweepConfig, list[Chunk]]:
    """The run of ``args``: its directory (locked by process 0, checked, holding ``config.json``), its config and
    its plan, each made once. A new sweep's settings are resolved and validated, and its plan checked to fit,
    before anything is written; a resumed one is rebuilt from its ``config.json``."""
    memory, chunk_models = _size(args.max_memory, "--max-memory"), args.chunk_models
    if chunk_models is not None and chunk_models < 1:
        raise SettingsError(f"must be >= 1, got {chunk_models}", "chunk_models")
    if args.resume is not None:
        given = [f"--{k.replace('_', '-')}" for k in SETTINGS if getattr(args, k) is not None]
        given += [flag for flag, value in (("--preset", args.preset), ("--config", args.config), ("--out", args.out),
                                           ("--max-memory", memory), ("--chunk-models", chunk_models)) if value]
        if given:
            raise SettingsError(f"--resume: takes its settings from {args.resume}/config.json; drop {', '.join(given)}")
        run = SweepDir.resume(args.resume) if process == 0 else SweepDir.attach(args.resume)
        try:
            cfg = from_settings(run.config)
            plan = planning.plan_sweep(cfg, **run.config["plan"])  # the plan it started with, whatever this machine has
        except SettingsError as err:
            run.close()
            raise RunDirError(f"--resume: {args.resume / 'config.json'} is damaged: {err}") from None
        except BaseException:
            run.close()
            raise
        return run, cfg, plan
    if args.preset:
        base, name = load_preset(args.preset), args.preset
    elif args.config:
        base, name = read_toml(args.config), args.config.stem
    else:
        base, name = {}, "custom"
    overrides = {k: s.parse(getattr(args, k)) for k, s in SETTINGS.items() if getattr(args, k) is not None}
    cfg = from_settings(resolve(base, overrides))
    plan_args = {"memory": memory or planning.default_memory_budget(), "chunk_models": chunk_models,
                 "devices": len(jax.local_devices())}
    plan = planning.plan_sweep(cfg, **plan_args)  # refuses, with its estimate, what cannot fit
    out = args.out or Path("runs") / f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    config = {"preset": name, **{k: base[k] for k in META_KEYS if k in base}, **to_settings(cfg), "plan": plan_args}
    run = SweepDir.create(out, config, args.force) if process == 0 else SweepDir.attach(out, config)
    return run, cfg, plan


def cmd_sweep(args: argparse.Namespace) -> int:
    process, processes = _init_distributed(args)
    if not args.no_cache:
        enable_compilation_cache()
    run, cfg, plan = _open_sweep(args, process)
    with run:
        _barrier("config", processes)
        devices = _plan_devices(plan, jax.local_devices())
        chunks = run.chunk_store()
        meta: dict[str, Any] = {"versions": versions(), "backend": jax.default_backend(),
                                "devices": [str(d) for d in devices], "processes": processes,
                                "machine": platform.platform(), "chunks": len(plan),
                                "chunk_models": sorted({c.size for c in plan}),
                                "memory_estimate": planning.plan_memory(cfg, plan, run.config["plan"]["devices"]),
                                "start": datetime.datetime.now().isoformat(timespec="seconds")}

        def owns(chunk) -> bool:
            return chunk.index % processes == process

        todo = [c for c in plan if owns(c) and not chunks.path(c).is_file()]
        done_before = chunks.finished(plan)
        if done_before and process == 0 and not args.quiet:
            print(f"resuming {run.path}: {done_before} of {len(plan)} chunks already done", file=sys.stderr)
        with SweepProgress.for_plan(todo, cfg.epochs, args.quiet or process != 0) as bar:
            try:
                train_chunks(cfg, plan, chunks, owns, progress=bar, devices=devices)
            except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM (cli.Terminated)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up
                bar.close()
                print(f"latchjax: interrupted; {chunks.finished(plan)} of {len(plan)} chunks are saved in "
                      f"{run.path / 'chunks'}. Resume with: latchjax sweep --resume {run.path}", file=sys.stderr)
                return getattr(err, "exit_code", 130)
        _barrier("trained", processes)
        if process != 0:
            print(f"process {process}: trained its {len(todo)} chunks of {run.path}")
            return 0
        result = collect(cfg, plan, chunks)
        meta |= {"end": datetime.datetime.now().isoformat(timespec="seconds"), "timing": result.timing,
                 "compile_s": round(sum(t["compile_s"] for t in result.timing.values()), 2),
                 "run_s": round(sum(t["run_s"] for t in result.timing.values()), 2)}
        title = plots.run_title(run.config)
        run.finish(result, meta, cfg.threshold,
                   draw=lambda figures: plots.draw_all(result, figures, cfg.threshold, title, args.format))
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run is complete: a Ctrl-C now must not make it a failure
    if not args.quiet:
        print(summary_text(result, run.config))
    print(f"results in {run.path}  (compile {meta['compile_s']:.1f} s, training {meta['run_s']:.1f} s)")
    return 0
