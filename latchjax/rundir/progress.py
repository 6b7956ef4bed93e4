"""Progress of a sweep with an honest ETA: one live ``rich`` bar in a terminal (or Jupyter), a few plain
lines in a log file.

:class:`SweepProgress` is a ``progress(event, info)`` callback for :func:`latchjax.sweep.runner.train_chunks`,
which reports ``"start"`` (before compiling a program), ``"compiled"``, ``"epoch"`` (after every epoch,
from every device) and ``"done"`` (a chunk ended). Its ETA:

* weighs **work** = models x padded length (the bucket's ``max_length``) x epochs, not chunks: a chunk of
  200-step sequences costs ten times one of 20-step sequences;
* measures the training rate as work done / training seconds so far, compile time excluded;
* adds the compiles still to come (``compiles`` given) at the mean compile time seen so far: on CPU a
  sweep's compiles can take as long as its training (the ``question`` preset: 6 compiles), and an ETA
  that leaves them out shows about half the time really left.

A compile is shown as its own status (``compiling lstm lengths 2-30 (60 models)``). Where the output
is not a terminal (a log file, a pipe, Jupyter without ``ipywidgets``) it writes plain lines: one per
compile, one each time another 10% of the work is done, and at most one a minute in between.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

__all__ = ["SweepProgress", "chunk_work"]


def chunk_work(models: int, max_length: int, epochs: int) -> float:
    """The work of training ``models`` models (all lengths of a bucket counted) padded to ``max_length``
    steps for ``epochs`` epochs: the unit of ``SweepProgress``'s ``total_work``."""
    return float(models) * max_length * epochs


def clock_text(seconds: float | None) -> str:
    """Seconds as the bar shows them (``1:05``, ``2:03:04``; ``?`` when unknown)."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _where(info: dict) -> str:
    lengths = info["lengths"]
    span = f"length {lengths[0]}" if len(lengths) == 1 else f"lengths {lengths[0]}-{lengths[-1]}"
    return f"{info['cell']} {span} ({info['models']} models)"


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class SweepProgress:
    """``progress(event, info)`` for a sweep: a live bar with an ETA, or a few log lines.

    ``total_work``: the sum of :func:`chunk_work` over the chunks to train (models x max_length x
    epochs each); :meth:`for_plan` computes it from a plan. ``quiet``: print nothing.
    ``compiles``: how many programs the sweep will compile (one per cell and length bucket still to
    train); with it the ETA includes the compiles to come. ``file``: where to write (default
    ``sys.stderr``). ``live``: a live ``rich`` bar (default: when ``file`` is a terminal, or in Jupyter
    with ``ipywidgets``); otherwise plain lines. ``clock``: seconds, monotonic (injectable for tests).
    ``log_every``: in line mode, a line each time this fraction of the work is done (and at most
    every ``log_seconds`` in between).

    Usable as a context manager; :meth:`close` ends the bar (safe to call twice).
    """

    def __init__(self, total_work: float, quiet: bool = False, *, compiles: int | None = None,
                 file: IO[str] | None = None, live: bool | None = None,
                 clock: Callable[[], float] = time.perf_counter, log_every: float = 0.1,
                 log_seconds: float = 60.0) -> None:
        self.total = max(float(total_work), 0.0)
        self.quiet = quiet
        self.compiles = compiles
        self.file = file if file is not None else sys.stderr
        self.clock = clock
        self.log_every, self.log_seconds = log_every, log_seconds
        self._lock = threading.RLock()
        self.t0 = clock()
        self.done = 0.0  # work units
        self.train_s = 0.0  # training seconds of finished phases
        self.compile_times: list[float] = []
        self.status = "starting"
        self._phase: str | None = None  # "compiling" | "training" | "between" (chunks) | None
        self._phase_t = 0.0
        self._rate: float | None = None  # work per training second, at the last epoch event
        self._train_at_event = 0.0  # training seconds at the last epoch event
        self._next_log = log_every
        self._last_log_t = self.t0
        self._closed = False
        self._progress: Any = None
        self._task: Any = None
        self.live = False
        if not quiet:
            self.live = self._want_live() if live is None else live

    @classmethod
    def for_plan(cls, chunks: Iterable[Any], epochs: int, quiet: bool = False, **kwargs) -> SweepProgress:
        """For the chunks still to train (``runner.Chunk``: ``models``, ``lengths``, ``cell_index``,
        ``bucket``): their total work, and one compile per (cell, bucket)."""
        chunks = list(chunks)
        total = sum(chunk_work(c.models, max(c.lengths), epochs) for c in chunks)
        kwargs.setdefault("compiles", len({(c.cell_index, c.bucket) for c in chunks}))
        return cls(total, quiet, **kwargs)

    # --- the numbers ------------------------------------------------------------------------------

    def training_seconds(self, now: float | None = None) -> float:
        """Seconds spent training so far (compiles excluded)."""
        now = self.clock() if now is None else now
        return self.train_s + (now - self._phase_t if self._phase == "training" else 0.0)

    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total > 0 else 1.0

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left: the remaining work at the measured training rate, plus the compiles to come at
        the mean compile time so far (when ``compiles`` was given). None until it can be estimated."""
        # no lock: the live bar's refresh thread calls this while rendering (a torn read costs one frame)
        now = self.clock() if now is None else now
        compile_left = 0.0
        if self.compiles is not None:
            times = list(self.compile_times)
            compiling = self._phase == "compiling"
            to_come = max(self.compiles - len(times) - compiling, 0)
            if times:
                mean = sum(times) / len(times)
                compile_left = to_come * mean
                if compiling:
                    compile_left += max(mean - (now - self._phase_t), 0.0)
            elif to_come or compiling:
                return None
        if self.done >= self.total:
            return compile_left
        if self._rate is None:
            return None
        since = self.training_seconds(now) - self._train_at_event
        return max((self.total - self.done) / self._rate - since, 0.0) + compile_left

    # --- events -----------------------------------------------------------------------------------

    def __call__(self, event: str, info: dict) -> None:
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            begun = self._end_phase(event, now)
            if event == "start":
                self._phase, self._phase_t = "compiling", begun
                self.status = f"compiling {_where(info)}"
                if not self.quiet:
                    self._line(self.status, now) if not self.live else self._refresh()
            elif event == "compiled":
                self._phase, self._phase_t = "training", begun
                self.status = f"training {_where(info)}"
            elif event == "epoch":
                # every device reports each epoch of its share of the chunk's models
                self.done += info["models"] * info["max_length"] / info.get("devices", 1)
                self._train_at_event = self.training_seconds(now)
                if self._train_at_event > 0:
                    self._rate = self.done / self._train_at_event
                self.status = f"{_where(info)} epoch {info['epoch']}/{info['epochs']}"
                if not self.quiet:
                    self._refresh() if self.live else self._maybe_log(now)

    def _end_phase(self, event: str, now: float) -> float:
        """Close the running phase when an event starts another one; returns when the new phase began.

        The time between a chunk's end and the next event (making the next bucket's dataset, slicing
        hyperparameters) goes to what follows: a compile, or the next chunk's training."""
        begun = now
        if self._phase == "compiling" and event in ("compiled", "start", "done"):
            self.compile_times.append(now - self._phase_t)
            self._phase = None
        elif self._phase == "training" and event in ("done", "start", "compiled"):
            self.train_s += now - self._phase_t
            self._phase = None
        elif self._phase == "between":
            begun, self._phase = self._phase_t, None
        if event == "done":
            self._phase, self._phase_t = "between", now
        return begun

    # --- output -----------------------------------------------------------------------------------

    def _want_live(self) -> bool:

        console = Console(file=self.file)
        if console.is_jupyter:
            return _has_ipywidgets()
        return console.is_terminal and not console.is_dumb_terminal

    def _summary(self, now: float) -> str:
        return f"{100 * self.fraction():3.0f}% {self.status} | elapsed {clock_text(now - self.t0)} ETA {clock_text(self.eta(now))}"

    def _maybe_log(self, now: float) -> None:
        fraction = self.fraction()
        if fraction + 1e-9 >= self._next_log or now - self._last_log_t >= self.log_seconds:
            while self._next_log <= fraction + 1e-9:
                self._next_log += self.log_every
            self._line(self._summary(now), now)

    def _line(self, text: str, now: float) -> None:
        self._last_log_t = now
        self.file.write(text + "\n")
        self.file.flush()

    def _refresh(self) -> None:
        if self._progress is None:
            self._start_live()
        self._progress.update(self._task, completed=min(self.done, self.total), description=self.status)

    def _start_live(self) -> None:

        owner = self

        class EtaColumn(ProgressColumn):
            def render(self, task) -> Text:
                return Text(f"ETA {clock_text(owner.eta())}", style="progress.remaining")

        console = Console(file=self.file)
        if not console.is_jupyter and not console.is_terminal:  # live=True asked for a bar on a non-terminal
            console = Console(file=self.file, force_terminal=True)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                  TimeElapsedColumn(), EtaColumn(), console=console, get_time=self.clock,
                                  refresh_per_second=4, redirect_stdout=False, redirect_stderr=False)
        self._task = self._progress.add_task(self.status, total=self.total or 1.0)
        self._progress.start()

    def close(self) -> None:
        """End the display: the bar stays on screen at its last state; a log gets a closing line."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.quiet:
            return
        now = self.clock()
        if self._progress is not None:  # outside the lock: stopping joins the refresh thread
            self._progress.update(self._task, completed=min(self.done, self.total), description=self.status)
            self._progress.stop()
        elif not self.live and self.done > 0:
            compile_s = sum(self.compile_times)
            self._line(f"{100 * self.fraction():3.0f}% done | elapsed {clock_text(now - self.t0)} "
                       f"(compiling {compile_s:.1f} s, training {self.training_seconds(now):.1f} s)", now)

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
