"""Random weight guessing: task generators against their definitions, exact variable lengths, and a
search whose success probability per guess is known."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latchjax.cli import build_parser, run
from latchjax.cli.parser import command_parser
from latchjax.core.vocabulary import SettingsError, config_of, settings_of
from latchjax.studies import guess_nets
from latchjax.studies import guessing as guessing_module
from latchjax.studies.guessing import (
    TASKS,
    Arch,
    GuessConfig,
    GuessTask,
    guess,
    make_arch,
    make_batch,
    run_arch,
)


def batch(name, n=200, length=40, length_max=48, seed=0, **options):
    return make_batch(TASKS[name], jax.random.key(seed), n, length, length_max, **options)


def real(b, i):
    """Sequence i without its padding."""
    return b.x[i, b.start[i]:]


@pytest.mark.parametrize("name", list(TASKS))
def test_lengths_padding_and_balance(name):
    b = batch(name)
    assert b.lengths.min() >= 40 and b.lengths.max() <= 48 and len(set(b.lengths)) > 3
    for i in range(len(b.start)):
        assert np.all(b.x[i, : b.start[i]] == 0)  # left padding only
    if name != "adding":
        high = b.target == TASKS[name].targets[1]
        assert high.sum() == len(high) // 2 and np.all(high[:100]) and not np.any(high[100:])


def test_latch_tasks_carry_the_class_only_in_the_first_element():
    b1, b2 = batch("latch1"), batch("latch2")
    sign = np.where(np.arange(200) < 100, 1.0, -1.0)
    for i in range(200):
        s1, s2 = real(b1, i), real(b2, i)
        # latch1: channel 1 says which free first input to add; channel 0 is noise after the first element
        assert s1[0, 1] == sign[i] and np.all(s1[1:, 1] == 0) and s1[0, 0] == 0
        assert s2[0, 0] == sign[i]
    noise = np.concatenate([real(b2, i)[1:, 0] for i in range(200)])
    assert abs(noise.var() - 0.2) < 0.02 and abs(noise.mean()) < 0.02
    np.testing.assert_allclose(b1.target, 0.8 * sign)
    np.testing.assert_allclose(b2.target, sign)


def test_two_sequence_first_n_elements():
    b = batch("two_sequence", N=3, noise_var=0.2)
    for i in range(200):
        s = real(b, i)[:, 0]
        assert np.all(s[:3] == (1.0 if i < 100 else -1.0)) and not np.any(np.isin(s[3:], (1.0, -1.0)))
    np.testing.assert_array_equal(b.target, (np.arange(200) < 100).astype(np.float32))


def test_parity_labels_count_the_plus_ones():
    b = batch("parity")
    for i in range(200):
        s = real(b, i)[:, 0]
        assert set(np.unique(s)) <= {-1.0, 1.0}
        assert b.target[i] == (np.sum(s > 0) % 2)


def test_adding_markers_and_target():
    b = batch("adding", n=300, length=100, length_max=110)
    for i in range(300):
        values, marker = real(b, i).T
        marked = np.flatnonzero(marker == 1.0)
        assert len(marked) == 2 and marked[0] < 10 and marked[1] < 50
        assert np.all(np.abs(values) <= 1)
        ends = [0, len(marker) - 1]
        assert all(marker[e] == -1.0 for e in ends if e not in marked)
        assert np.count_nonzero(marker) == 2 + sum(e not in marked for e in ends)
        np.testing.assert_allclose(b.target[i], 0.5 + values[marked].sum() / 4, rtol=1e-6)


@pytest.mark.parametrize("task, spec", [("parity", "a1:n=2"), ("parity", "a2:n=3"), ("latch2", "unit"),
                                        ("latch1", "latch1"), ("two_sequence", "lstm:units=2"), ("adding", "gru")])
def test_a_padded_sequence_gives_what_it_gives_alone(task, spec):
    """Variable lengths are exact: the state stays at zero through the left padding."""
    arch = make_arch(spec, TASKS[task])
    params = arch.draw(jax.random.key(1), TASKS[task].n_in)
    params = jax.tree.map(lambda w: w / 50.0, params)  # moderate weights, so outputs are not saturated
    b = batch(task, n=6, length=30, length_max=60)
    together = run_arch(arch, params, jnp.asarray(b.x), jnp.asarray(b.start))
    for i in range(6):
        alone = run_arch(arch, params, jnp.asarray(real(b, i))[None], jnp.zeros(1, jnp.int32))
        np.testing.assert_allclose(together[i], alone[0], rtol=1e-5, atol=1e-6)


@dataclasses.dataclass(frozen=True)
class OneWeight(Arch):
    """Output w / 100 for a weight w ~ U[-100, 100], whatever the input."""

    name: str = "one-weight"
    output_range: tuple = (-1.0, 1.0)

    def shapes(self, n_in):
        return {"w": ()}

    def initial_carry(self, batch, n_in):
        return jnp.zeros((batch,))

    def step(self, p, carry, x_t):
        return carry, carry

    def output(self, carry):
        return carry

    def readout(self, p, carry):
        return carry + p["w"] / 100.0


TOY = GuessTask("toy", 1, (-1.0, 1.0), 0.25, 2, lambda T: T,
                lambda key, n, T, j: (jnp.zeros(j.shape + (1,)), jnp.zeros(n)), "target 0 within 0.25")


def test_mean_trials_match_a_known_success_probability():
    """|w/100| < 0.25 has probability p = 1/4 per guess: trials are geometric with mean 1/p = 4."""
    result = guess(GuessConfig(task=TOY, arch=OneWeight(), simulations=400, train=2, test=2, seed=3))
    trials = result.trials
    assert np.all(trials >= 1)
    sd = np.sqrt(1 - 0.25) / 0.25 / np.sqrt(400)
    assert abs(trials.mean() - 4.0) < 4 * sd
    assert abs(np.mean(trials == 1) - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 400)
    assert np.all(result.test_accuracy == 1.0)


def test_trials_do_not_depend_on_the_batch_size():
    cfg = GuessConfig(task="latch1", simulations=4, length=20, length_max=24, train=20, test=20)
    small, large = guess(dataclasses.replace(cfg, batch=1)), guess(cfg)
    np.testing.assert_array_equal(small.trials, large.trials)


def test_latch1_is_solved_quickly_and_generalises():
    result = guess(GuessConfig(task="latch1", simulations=20, length=100))
    assert result.solved.all() and result.trials.mean() < 30  # H&S: 6; about 1 guess in 8 gets the signs right
    assert result.test_accuracy.mean() > 0.95


def test_an_impossible_search_stops_at_max_trials():
    result = guess(GuessConfig(task="adding", simulations=2, length=30, train=20, max_trials=100))
    assert not result.solved.any() and result.guesses == 200 and result.summary()["mean_trials"] is None


@pytest.mark.integration
def test_guess_command_writes_csv_and_summary(tmp_path, capsys):
    out = tmp_path / "g"
    assert run(["guess", "--task", "latch2", "--simulations", "3", "--length", "30", "--train", "20",
                "--out", str(out), "--quiet"]) == 0
    lines = (out / "guess.csv").read_text().splitlines()
    assert lines[0] == "simulation,trials,test_accuracy" and len(lines) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert {"task", "simulations", "mean_trials", "median_trials", "guesses_per_second"} <= set(summary)
    trials = [int(line.split(",")[1]) for line in lines[1:]]
    assert summary["mean_trials"] == pytest.approx(np.mean(trials)) and summary["simulations"] == 3
    assert "latch2 with unit (3 weights)" in capsys.readouterr().out


@pytest.mark.parametrize("task", list(TASKS))
def test_guess_flags_default_to_the_config(task):
    """One default per setting: a flag not given leaves the field's default (the task's own length and
    network), and --help shows that default once."""
    settings = settings_of(GuessConfig)
    args = build_parser().parse_args(["guess", "--task", task, "--out", "x"])
    assert all(getattr(args, name) is None for name in settings if name != "task")
    cfg = config_of(GuessConfig, vars(args))
    assert cfg == GuessConfig(task=task)
    assert (cfg.length, cfg.length_max) == (TASKS[task].length, TASKS[task].length_max(TASKS[task].length))
    assert cfg.arch_spec == guess_nets.DEFAULT_ARCH[task]
    text = " ".join(command_parser("guess").format_help().split())
    shown = [s for s in settings.values() if not s.required]
    assert all(f"(default: {s.shown_default})" in text for s in shown)
    assert text.count("(default:") == len(shown)  # each default shown once
    assert str(TASKS[task].length) in settings["length"].shown_default


def test_guessing_still_exports_what_it_did():
    """The networks moved to guess_nets; latchjax.studies.guessing exports them as before."""
    for name in guessing_module.__all__:
        assert hasattr(guessing_module, name), name
    for name in guess_nets.__all__:
        if name != "WEIGHT_RANGE":
            assert getattr(guessing_module, name) is getattr(guess_nets, name)


@pytest.mark.integration  # the CLI (in-process): the integration tier, as every CLI test
@pytest.mark.parametrize("argv, line", [
    (["--task", "nope"], "--task: unknown task 'nope'; allowed: latch1, latch2, two_sequence, parity, adding"),
    (["--task", "latch2", "--arch", "a1"], "--arch: a1 outputs values in [0, 1]"),
    (["--task", "parity", "--arch", "latch1"], "--arch: latch1 only runs the latch1 task"),
    (["--task", "parity", "--arch", "xyz"], "--arch: bad architecture 'xyz'"),
    (["--task", "parity", "--task-option", "N=2"], "--task-option: N is not an option of parity"),
    (["--task", "two_sequence", "--task-option", "N"], "--task-option: expected KEY=NUMBER, got 'N'"),
    (["--task", "two_sequence", "--task-option", "N=0.5"], "--task-option: N must be an integer in [1, 100]"),
    (["--task", "latch1", "--task-option", "noise_var=-1"], "--task-option: noise_var must be finite and >= 0"),
    (["--task", "latch1", "--simulations", "0"], "--simulations: must be an integer >= 1, got 0"),
    (["--task", "latch1", "--simulations", "two"], "--simulations: expected int, got 'two'"),
    (["--task", "latch1", "--train", "1"], "--train: must be an integer >= 2, got 1"),
    (["--task", "latch1", "--seed", str(2**32)], f"--seed: must be < 2**32 = {2**32}"),
    (["--task", "latch1", "--length", "50", "--length-max", "40"], "--length-max: must be >= --length (50), got 40"),
    (["--task", "adding", "--length", "20"], "--length: the adding problem needs T >= 22, got 20"),
    (["--simulations", "3"], "the following arguments are required: --task"),
])
def test_guess_bad_flag_is_one_line_naming_it(tmp_path, capsys, argv, line):
    out = tmp_path / "x"
    assert run(["guess", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"latchjax: error: {line}") and err.count("\n") == 1
    assert not out.exists()


def test_task_options_are_checked_in_the_config():
    """--task-option's text and (key, value) pairs are one setting, checked in one place."""
    text = GuessConfig(task="two_sequence", options=("N=3", "noise_var=0.1"))
    pairs = GuessConfig(task="two_sequence", options=(("N", 3), ("noise_var", 0.1)))
    assert text == pairs and text.task_options == {"N": 3, "noise_var": 0.1}
    with pytest.raises(SettingsError) as err:
        GuessConfig(task="parity", options=(("N", 2),))
    assert err.value.setting == "task_option"


def test_weight_counts_match_hs_architectures():
    parity = TASKS["parity"]
    assert make_arch("a1", parity).n_weights(1) == 8  # H&S: A1 with one hidden unit
    # A2, 10 hidden units: each sees the input, the output unit, itself and a bias (4 x 10); the output
    # unit sees the 10 hidden units, the input and a bias (12)
    assert make_arch("a2", parity).n_weights(1) == 52
    assert make_arch("unit", TASKS["latch2"]).n_weights(1) == 3 and make_arch("latch1", TASKS["latch1"]).n_weights(2) == 3
