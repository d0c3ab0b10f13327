"""The experiment registry: discovery, look-up errors and the Experiment contract."""

import pytest

from grokkit.experiments import SIZES, Experiment, available_experiments, get_experiment, reproduce

EXPECTED = {"mnist_alpha_grokking", "progress_measures_norm_increasing", "dropout_removes_grokking",
            "norm_constraint_removes_grokking", "input_noise_degrokking", "abelian_test",
            "synergy_redundancy_phases"}


def test_every_module_is_discovered():
    assert EXPECTED <= set(available_experiments())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_experiment_describes_itself(name):
    experiment = get_experiment(name)
    assert isinstance(experiment, Experiment)
    assert experiment.name == name and experiment.paper and experiment.figure and experiment.reference
    assert set(experiment.settings) == set(SIZES)


def test_unknown_name_raises_with_valid_names():
    with pytest.raises(ValueError, match=r"Unknown experiment 'nope'\. Valid names: .*abelian_test"):
        get_experiment("nope")


def test_bad_size_names_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="size must be one of"):
        reproduce("abelian_test", size="tiny", out=tmp_path)


def test_an_experiment_that_sweeps_its_seeds_says_so_and_its_run_takes_them():
    """``--seeds N`` is chosen by the declared ``sweeps_seeds``, never by reading ``run``'s signature."""
    import dataclasses
    import inspect

    from grokkit.experiments import available_experiments, get_experiment

    sweeping = []
    for name in available_experiments():
        experiment = get_experiment(name)
        parameters = inspect.signature(experiment.run).parameters
        assert experiment.sweeps_seeds == ("seeds" in parameters), name
        if experiment.sweeps_seeds:
            assert "vectorize" in parameters, name
            sweeping.append(name)
    assert sweeping == ["degrokking_benchmark", "teacher_student_weight_decay", "time_to_generalize"]
    with pytest.raises((TypeError, ValueError), match="sweeps_seeds"):
        dataclasses.replace(get_experiment("abelian_test"), sweeps_seeds="yes")
