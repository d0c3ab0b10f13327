"""The start-here experiment: its verdict read by hand, and (slow) that its quick size really groks."""

import pytest

from grokkit.experiments import SIZES, get_experiment, reproduce
from grokkit.experiments.modular_addition_groks_in_a_minute import DELAY_FACTOR, TEST_LEVEL, verdict

NAME = "modular_addition_groks_in_a_minute"


def test_describes_itself_at_every_size():
    experiment = get_experiment(NAME)
    assert experiment.paper and experiment.figure and experiment.reference and experiment.verdict
    assert set(experiment.settings) == set(SIZES)


@pytest.mark.parametrize(("headline", "label"), [
    ({"memorization_step": 32, "generalization_step": 316, "generalization_over_memorization": 9.9,
      "final_test_acc": 1.0}, "reproduced"),
    # generalised, but as soon as it memorised: no delay, no grokking
    ({"memorization_step": 100, "generalization_step": 120, "generalization_over_memorization": 1.2,
      "final_test_acc": 0.99}, "partly"),
    ({"memorization_step": 32, "generalization_step": None,
      "generalization_over_memorization": None, "final_test_acc": 0.2}, "not reproduced"),
])
def test_verdict(headline, label):
    assert verdict(headline).label == label


@pytest.mark.slow
def test_quick_size_memorises_long_before_it_generalises(tmp_path):
    """The README's first example: train ≥ 0.99 early, test ≥ 0.95 several times later, within 400 steps."""
    headline = reproduce(NAME, size="quick", out=tmp_path, verbose=0)["headline"]
    memorised, generalised = headline["memorization_step"], headline["generalization_step"]
    assert memorised is not None and generalised is not None
    assert generalised >= DELAY_FACTOR * memorised and headline["grokked"]
    assert headline["final_test_acc"] >= TEST_LEVEL
