"""latchjax: long-term memory experiments on recurrent networks, vmapped over whole sweeps.

The package is its layers, lowest first (each imports only from those before it):

* :mod:`latchjax.core` -- pure building blocks: the one time loop (:mod:`~latchjax.core.scan`), cells
  (:mod:`~latchjax.core.cells`, one module per family), tasks (:mod:`~latchjax.core.tasks`), the model and its
  loss, optimizers, forward-mode gradients, shuffles, data splits, statistics and the settings vocabulary;
* :mod:`latchjax.sweep` -- a sweep: its config, the pure trainer, the plan, the runner, the results;
* :mod:`latchjax.rundir` -- the results directory: files, chunks, lock, tables, figures, progress, old runs;
* :mod:`latchjax.analysis` -- what is read off runs: explain, diagnostics, landscapes, compare, fidelity;
* :mod:`latchjax.studies` -- the literature's own experiments: Bengio 1994's latch, random weight guessing;
* :mod:`latchjax.cli` -- the ``latchjax`` command.

This face holds what a study needs; everything else is one import deeper.
"""

from latchjax import compat
from latchjax.core.cells import Cell, EquinoxCell, FlaxCell, Recurrence, RNNCell, make_cell
from latchjax.core.optim import keras_adam, torch_adam
from latchjax.core.scan import masked_scan
from latchjax.core.stats import km_median, wilson_interval
from latchjax.core.tasks import TASKS, Task, bit_relay, latch, make_task
from latchjax.core.tasks.output import AbsError, Accuracy, LossRatio, NoErrors, Output, Sequences, TaskSpec
from latchjax.rundir.load import load, load_dataset
from latchjax.sweep.config import QUESTION_LENGTHS, SweepConfig
from latchjax.sweep.results import SweepResult
from latchjax.sweep.runner import run_sweep, train_cell, train_one
from latchjax.sweep.trainer import Data, Hparams, make_train

KerasCell = RNNCell  # the name before the torch flavour existed (0.1); not used inside latchjax

__version__ = "0.2.0"

__all__ = [
    "Cell", "FlaxCell", "EquinoxCell", "Recurrence", "RNNCell", "KerasCell", "make_cell", "keras_adam", "torch_adam",
    "masked_scan",
    "wilson_interval", "TASKS", "Task", "bit_relay", "latch", "make_task", "load", "load_dataset", "QUESTION_LENGTHS",
    "SweepConfig", "SweepResult", "run_sweep", "train_cell", "train_one", "Data", "Hparams", "make_train",
    "TaskSpec", "Output", "Sequences", "Accuracy", "AbsError", "NoErrors", "LossRatio", "km_median",
]

compat.install()
