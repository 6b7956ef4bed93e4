"""latchjax: long-term memory experiments on recurrent networks, vmapped over whole sweeps."""

from latchjax.cells import FlaxCell, KerasCell, RNNCell, make_cell
from latchjax.config import QUESTION_LENGTHS, SweepConfig
from latchjax.optim import keras_adam, torch_adam
from latchjax.results import SweepResult, wilson_interval
from latchjax.runner import run_sweep, train_cell, train_one
from latchjax.store import load, load_dataset
from latchjax.tasks import TASKS, bit_relay, latch, make_task

__version__ = "0.1.0"

__all__ = [
    "FlaxCell", "KerasCell", "RNNCell", "make_cell", "keras_adam", "torch_adam", "SweepResult", "wilson_interval",
    "TASKS", "bit_relay", "latch", "make_task", "QUESTION_LENGTHS", "SweepConfig",
    "run_sweep", "train_cell", "train_one", "load", "load_dataset",
]
