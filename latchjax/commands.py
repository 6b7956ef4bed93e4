"""``latchjax sweep | plot | summary | presets``: the command line over the library.

Errors in user input print one line on stderr and exit with code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from latchjax.settings import (
    SETTINGS,
    SettingsError,
    load_preset,
    parse_flag,
    presets,
    read_toml,
    resolve,
    to_sweep_config,
)

FORMATS = ("png", "svg", "pdf")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage + message)
        raise SettingsError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="latchjax", description="Long-term memory experiments on recurrent networks, "
                     "trained as one vmapped JAX program per cell.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sweep = sub.add_parser("sweep", help="train a sweep and write results, tables and figures",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    source = sweep.add_mutually_exclusive_group()
    source.add_argument("--preset", help="a preset (see `latchjax presets`)")
    source.add_argument("--config", type=Path, help="a TOML file of settings (same keys as the flags)")
    sweep.add_argument("--out", type=Path, help="results directory (default: runs/<preset>-<timestamp>)")
    sweep.add_argument("--force", action="store_true", help="overwrite an existing results directory")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--format", choices=FORMATS, default="png", help="figure format")
    for s in SETTINGS.values():
        default = ",".join(map(str, s.default)) if s.is_list else s.default
        sweep.add_argument(f"--{s.name.replace('_', '-')}", dest=s.name, metavar=s.kind.__name__.upper(),
                           help=f"{s.help} (default unless the preset sets it: {default})")
    sweep.set_defaults(func=cmd_sweep)

    plot = sub.add_parser("plot", help="redraw the figures of a results directory (no training)")
    plot.add_argument("dir", type=Path)
    plot.add_argument("--format", choices=FORMATS, default="png")
    plot.set_defaults(func=cmd_plot)

    summary = sub.add_parser("summary", help="print the success-frequency table of a results directory")
    summary.add_argument("dir", type=Path)
    summary.set_defaults(func=cmd_summary)

    listing = sub.add_parser("presets", help="list the presets")
    listing.set_defaults(func=cmd_presets)
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SettingsError as err:
        print(f"latchjax: error: {err}", file=sys.stderr)
        return 2


# --- sweep -----------------------------------------------------------------------------------

class ProgressBar:
    """Compile and training progress with an ETA, on stderr (one line per event when not a TTY)."""

    def __init__(self, total_work: float, quiet: bool = False) -> None:
        self.total, self.done, self.quiet = total_work, 0.0, quiet
        self.tty = sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.train_s = 0.0
        self.bucket_t = 0.0

    def __call__(self, event: str, info: dict) -> None:
        if self.quiet:
            return
        where = f"{info['cell']} lengths {info['lengths'][0]}-{info['lengths'][-1]} ({info['models']} models)"
        work = info["models"] * info["max_length"] / info["epochs"]
        if event == "start":
            self._show(f"compiling {where}")
        elif event == "compiled":
            self.bucket_t = time.perf_counter()
        elif event == "epoch":
            self.done += work
            elapsed = time.perf_counter() - self.t0
            rate = self.done / (self.train_s + time.perf_counter() - self.bucket_t)
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            filled = int(30 * self.done / self.total)
            self._show(f"[{'#' * filled}{'.' * (30 - filled)}] {100 * self.done / self.total:3.0f}% {where} "
                       f"epoch {info['epoch']}/{info['epochs']} | elapsed {_clock(elapsed)} ETA {_clock(eta)}")
        elif event == "done":
            self.train_s += info["run_s"]

    def _show(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.quiet and self.tty:
            sys.stderr.write("\n")


def _clock(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _total_work(cfg) -> float:
    from latchjax.cells import make_cell
    from latchjax.train import bucket_lengths

    total = 0.0
    for cell in cfg.cells:
        n_fb = len(cfg.forget_biases) if make_cell(cell, cfg.units, cfg.flavor).has_forget_bias else 1
        for group in bucket_lengths(cfg.lengths, cfg.length_buckets):
            total += len(group) * len(cfg.lrs) * n_fb * cfg.seeds * max(group)
    return total


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("latchjax", "jax", "jaxlib", "optax", "flax", "numpy", "matplotlib"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.preset:
        base, name = load_preset(args.preset), args.preset
    elif args.config:
        base, name = read_toml(args.config), args.config.stem
    else:
        base, name = {}, "custom"
    overrides = {k: parse_flag(s, getattr(args, k)) for k, s in SETTINGS.items() if getattr(args, k) is not None}
    settings = resolve(base, overrides)
    cfg = to_sweep_config(settings)  # validates everything before anything is written
    out = args.out or Path("runs") / f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    if out.exists() and any(out.iterdir()):
        if not args.force:
            raise SettingsError(f"--out: {out} exists and is not empty; pass --force to overwrite it")
        if not (out / "config.json").exists():
            raise SettingsError(f"--out: {out} is not a latchjax results directory; refusing to overwrite it")
        shutil.rmtree(out)

    import jax

    from latchjax import plots, store
    from latchjax.train import run_sweep

    out.mkdir(parents=True, exist_ok=True)
    resolved = {"preset": name, **{k: base[k] for k in ("description", "reproduces") if k in base}, **settings,
                "buckets": cfg.length_buckets}
    store.atomic_write(out / "config.json", json.dumps(resolved, indent=2) + "\n")
    meta: dict[str, Any] = {"versions": _versions(), "backend": jax.default_backend(),
                            "devices": [str(d) for d in jax.devices()], "machine": platform.platform(),
                            "start": datetime.datetime.now().isoformat(timespec="seconds")}
    parts = out / "parts"
    parts.mkdir()
    bar = ProgressBar(_total_work(cfg), args.quiet)
    try:
        result = run_sweep(cfg, progress=bar, on_cell=lambda r: store.save_result(r, parts / f"{r.coords['cell'][0]}.npz"))
    except KeyboardInterrupt:
        bar.close()
        print(f"latchjax: interrupted; the cells finished so far are saved in {parts}", file=sys.stderr)
        return 130
    bar.close()
    meta["end"] = datetime.datetime.now().isoformat(timespec="seconds")
    meta["timing"] = result.timing
    meta["compile_s"] = round(sum(t["compile_s"] for t in result.timing.values()), 2)
    meta["run_s"] = round(sum(t["run_s"] for t in result.timing.values()), 2)
    store.save_result(result, out / "results.npz")
    store.write_tables(result, settings, out, settings["threshold"])
    store.atomic_write(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(parts)
    plots.draw_all(result, out / "figures", settings["threshold"], _title(resolved), args.format)
    if not args.quiet:
        print(_summary_text(out))
    print(f"results in {out}  (compile {meta['compile_s']:.1f} s, training {meta['run_s']:.1f} s)")
    return 0


def _title(config: dict) -> str:
    cells = ", ".join(config["cells"])
    return (f"{config['preset']}: {config['task']}, {cells} ({config['flavor']}, {config['units']} unit"
            f"{'s' if config['units'] > 1 else ''}), {config['split']} split, {config['epochs']} epochs")


def _read_run(path: Path):
    from latchjax import store

    if not (path / "results.npz").is_file() or not (path / "config.json").is_file():
        raise SettingsError(f"{path}: not a latchjax results directory (no results.npz / config.json)")
    return store.load_result(path / "results.npz"), json.loads((path / "config.json").read_text())


def cmd_plot(args: argparse.Namespace) -> int:
    from latchjax import plots

    result, config = _read_run(args.dir)
    for path in plots.draw_all(result, args.dir / "figures", config["threshold"], _title(config), args.format):
        print(path)
    return 0


def _summary_text(path: Path) -> str:
    from latchjax import store

    result, config = _read_run(path)
    rows = store.summary_rows(result, config["threshold"])
    varies = [len(result.coords["lr"]) > 1, len(result.coords["forget_bias"]) > 1]
    header = ["cell", "length"] + [n for n, v in zip(("lr", "b_f"), varies) if v] + \
             ["success", "freq", "95% CI", "val acc mean±std"]
    lines = [header]
    for cell, length, lr, fb, n, k, freq, lo, hi, mean, std in rows:
        lines.append([cell, str(length)] + [str(x) for x, v in zip((lr, fb), varies) if v] +
                     [f"{k}/{n}", f"{float(freq):.2f}", f"[{float(lo):.2f}, {float(hi):.2f}]",
                      f"{float(mean):.3f}±{float(std):.3f}"])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    title = f"{config['preset']}: success = final val acc >= {config['threshold']:g}"
    return "\n".join([title] + ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in lines])


def cmd_summary(args: argparse.Namespace) -> int:
    print(_summary_text(args.dir))
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    found = presets()
    width = max(map(len, found))
    for name, preset in found.items():
        print(f"{name.ljust(width)}  {preset.get('description', '')}")
    return 0
