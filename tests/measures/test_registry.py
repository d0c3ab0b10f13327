"""Contract over every registered measure, and the registry's resolution rules."""

import pytest
import torch

from grokkit.measures import MeasureContext, available_measures, capture, get_measure
from grokkit.measures.registry import resolve_measures
from grokkit.models import MLP

SPINE_MEASURES = {"weight_norm", "weight_entropy", "activation_sparsity", "circuit_complexity"}


def _context(net, X, y):
    logits, acts = capture(net, X)
    return MeasureContext(module=net, X=X, y=y, activations=acts, logits=logits,
                          task={"loss": "cross_entropy", "n_outputs": 3, "p": 5, "operation": "add"})


def test_spine_measures_are_registered():
    assert SPINE_MEASURES <= set(available_measures())


@pytest.mark.parametrize("name", sorted(SPINE_MEASURES))
def test_measure_leaves_module_unchanged_and_is_repeatable(name):
    torch.manual_seed(0)
    net = MLP(6, 3, (8, 8), dropout=0.2)
    net.train()
    X, y = torch.randn(20, 6), torch.randint(0, 3, (20,))
    state = {k: v.clone() for k, v in net.state_dict().items()}
    measure = get_measure(name)
    first = measure(_context(net, X, y))
    second = measure(_context(net, X, y))
    assert first == second
    assert net.training
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())
    assert not any(m._forward_hooks for m in net.modules())
    assert first and all(isinstance(v, float) for v in first.values())


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown measure 'weight_entropi'.*weight_entropy"):
        get_measure("weight_entropi")


def test_callable_and_parametrised_measures():
    def mean_output(module, X, y):
        return float(module(X).mean())

    net = MLP(4, 2, (3,))
    X, y = torch.randn(5, 4), torch.zeros(5, dtype=torch.long)
    measures = resolve_measures([mean_output, ("activation_sparsity", {"threshold": 0.5})])
    ctx = _context(net, X, y)
    with torch.no_grad():
        expected = float(net(X).mean())
    assert measures[0](ctx) == {"mean_output": pytest.approx(expected)}
    assert set(measures[1](ctx)) == {"activation_sparsity", "activation_sparsity/act1"}


@pytest.mark.parametrize("spec, error", [
    (["weight_norm", "weight_norm"], ValueError),
    ([42], TypeError),
    ([("weight_norm", 3)], ValueError),
])
def test_bad_specifications(spec, error):
    with pytest.raises(error, match="measure"):
        resolve_measures(spec)


def test_a_measure_returning_garbage_is_a_type_error():
    measure = get_measure(lambda module, X, y: "high")
    with pytest.raises(TypeError, match="float"):
        measure(_context(MLP(4, 2, (3,)), torch.randn(2, 4), None))


def test_registering_a_taken_name_raises():
    from grokkit.measures.registry import measure

    with pytest.raises(ValueError, match="weight_norm.*already registered"):
        @measure(name="weight_norm")
        def another_norm(module):
            return 0.0


def test_the_same_definition_imported_again_replaces_its_entry():
    """A module imported twice (a reload, ``--doctest-modules``) registers its measures again quietly."""
    import types

    from grokkit.measures.registry import _REGISTRY, register

    original = _REGISTRY["softmax_collapse"]
    f = original.func
    again = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    again.__qualname__, again.__module__ = f.__qualname__, f.__module__  # what a second import makes
    try:
        register("softmax_collapse", again, needs=original.needs, task_keys=original.task_keys)
        assert _REGISTRY["softmax_collapse"].func is again
    finally:
        _REGISTRY["softmax_collapse"] = original
    other = types.FunctionType(f.__code__, f.__globals__, f.__name__)  # a different module's function
    other.__module__ = "somewhere_else"
    with pytest.raises(ValueError, match="softmax_collapse.*already registered"):
        register("softmax_collapse", other)
