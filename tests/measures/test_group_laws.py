import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grokkit.measures.group_laws import (
    associativity,
    commutativity,
    commutativity_distance,
    doubling,
    identity_law,
)
from grokkit.models.onehot_mlp import OneHotPairMLP
from grokkit.models.transformer import ModularTransformerNet

MEASURES = [commutativity, commutativity_distance, identity_law, doubling, associativity]


class TableModule(nn.Module):
    """Logits ``scale · onehot(f(a, b) mod p)``: a model with a known answer for every pair.

    In training mode it answers ``f(a, b) + 1`` instead, so a measure that forgot
    to switch to evaluation mode gets the wrong numbers.
    """

    def __init__(self, p: int, f: Callable, scale: float = 5.0) -> None:
        super().__init__()
        self.p, self.f = p, f
        self.scale = nn.Parameter(torch.tensor(scale))
        self.rows_seen: list[int] = []

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.rows_seen.append(len(X))
        value = self.f(X[:, 0], X[:, 1]) + (1 if self.training else 0)
        return self.scale * F.one_hot(value % self.p, self.p).to(self.scale.dtype)


def exact(operation: str, p: int) -> TableModule:
    functions = {
        "add": lambda a, b: a + b,
        "subtract": lambda a, b: a - b,
        "multiply": lambda a, b: a * b,
        "divide": lambda a, b: a * torch.tensor([pow(int(v), -1, p) if v else 0 for v in b]),
        "x^2+y^2": lambda a, b: a * a + b * b,
    }
    return TableModule(p, functions[operation])


def weighted_sum(p: int, k: int) -> TableModule:
    return TableModule(p, lambda a, b: a + k * b)


@pytest.mark.parametrize("operation", ["add", "multiply"])
def test_an_exact_model_satisfies_every_law(operation):
    p = 7
    model = exact(operation, p)
    assert commutativity(model, p, operation) == 1.0
    assert commutativity_distance(model, p, operation) == 0.0
    assert identity_law(model, p, operation) == 1.0
    assert doubling(model, p, operation) == 1.0
    assert associativity(model, p, operation) == 1.0


def test_commutativity_of_a_plus_k_b():
    # a + 4b ≡ b + 4a (mod 12)  <=>  3(b − a) ≡ 0 (mod 12)  <=>  b − a ∈ {4, 8}
    p, k = 12, 4
    model = weighted_sum(p, k)
    upper = [(a, b) for a in range(p) for b in range(a + 1, p)]
    agree = sum((a + k * b) % p == (b + k * a) % p for a, b in upper)
    assert agree == 12 and len(upper) == 66
    assert commutativity(model, p) == pytest.approx(agree / len(upper))
    # Logits 5·onehot: two different classes are 5·√2 apart, equal ones 0.
    expected = 5 * math.sqrt(2) * (1 - agree / len(upper))
    assert commutativity_distance(model, p) == pytest.approx(expected)


def test_commutativity_on_given_pairs():
    p, k = 12, 4
    model = weighted_sum(p, k)
    assert commutativity(model, p, pairs=[[0, 4], [1, 9], [3, 11]]) == 1.0
    assert commutativity(model, p, pairs=np.array([[0, 1], [0, 4]])) == 0.5
    assert commutativity(model, p, pairs=torch.tensor([[0, 1]])) == 0.0
    assert commutativity_distance(model, p, pairs=[[0, 4]]) == 0.0


def test_identity_law_closed_forms():
    p = 7
    first = TableModule(p, lambda a, b: a)  # x ∘ e = x always; e ∘ x = x only for x = e
    assert identity_law(first, p, "add") == pytest.approx((p + 1) / (2 * p))
    assert identity_law(first, p, "multiply") == pytest.approx((p + 1) / (2 * p))
    assert identity_law(first, p, "subtract") == 1.0  # right identity only
    assert identity_law(first, p, "divide") == 1.0
    assert identity_law(exact("subtract", p), p, "subtract") == 1.0
    assert identity_law(exact("divide", p), p, "divide") == 1.0
    assert identity_law(TableModule(p, lambda a, b: a + b + 1), p, "add") == 0.0


def test_doubling_closed_forms():
    p = 7
    # (x + 2x) = 3x vs 2x: equal only for x = 0
    assert doubling(weighted_sum(p, 2), p) == pytest.approx(1 / p)
    assert doubling(exact("divide", p), p, "divide") == 1.0  # x / x = 1 for x ≠ 0
    assert doubling(TableModule(p, lambda a, b: a), p, "divide") == pytest.approx(1 / (p - 1))
    assert doubling(exact("subtract", p), p, "subtract") == 1.0


@pytest.mark.parametrize("law", [identity_law, doubling])
def test_cross_entropy_score(law):
    # logits s at the target and 0 elsewhere: CE = log(1 + (p − 1) e^{−s})
    p, s = 7, 3.0
    model = TableModule(p, lambda a, b: a + b, scale=s)
    expected = math.log(1 + (p - 1) * math.exp(-s))
    assert law(model, p, "add", score="cross_entropy") == pytest.approx(expected)
    wrong = TableModule(p, lambda a, b: a + b + 1, scale=s)  # target logit 0, one logit s
    expected_wrong = math.log(p - 1 + math.exp(s))
    assert law(wrong, p, "add", score="cross_entropy") == pytest.approx(expected_wrong)


def test_associativity_feeds_back_the_models_own_answer():
    p, k = 11, 2
    model = weighted_sum(p, k)
    consistent = 0
    for x in range(p):
        s = (x + k * x) % p
        consistent += (s + k * x) % p == (x + k * s) % p
    assert associativity(model, p) == pytest.approx(consistent / p)
    assert consistent == 1  # only x = 0: 5x ≡ 7x ⟺ 2x ≡ 0
    constant = TableModule(p, lambda a, b: torch.full_like(a, 3))
    assert associativity(constant, p) == 1.0  # consistent although wrong
    assert doubling(constant, p) == pytest.approx(1 / p)  # hence read it with doubling


def test_measures_use_evaluation_mode_and_restore_training_mode():
    p = 7
    model = exact("add", p).train()  # answers a + b + 1 in training mode
    assert identity_law(model, p) == 1.0
    assert doubling(model, p) == 1.0
    assert model.training


@pytest.mark.parametrize("measure", MEASURES)
def test_chunks_bound_the_batch_and_do_not_change_the_result(measure):
    p = 7
    big, small = weighted_sum(p, 3), weighted_sum(p, 3)
    assert measure(big, p, "add") == pytest.approx(measure(small, p, "add", batch_size=4))
    assert max(small.rows_seen) <= 4
    assert len(small.rows_seen) > len(big.rows_seen)


def real_models(p: int) -> list[nn.Module]:
    transformer = ModularTransformerNet(p=p, d_model=16, n_heads=2, d_mlp=16)
    transformer.embed_noise_std = 0.3  # would make outputs random if left in training mode
    mlp = OneHotPairMLP(p, (16,), dropout=0.5)
    return [transformer, mlp]


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("training", [True, False])
def test_module_is_left_unchanged(measure, training):
    p = 7
    for model in real_models(p):
        model.train(training)
        state = {key: value.clone() for key, value in model.state_dict().items()}
        first = measure(model, p, "add")
        second = measure(model, p, "add")
        assert isinstance(first, float) and math.isfinite(first)
        assert first == second  # evaluation mode: no noise, no dropout
        assert all(m.training == training for m in model.modules())
        assert all(torch.equal(value, state[key]) for key, value in model.state_dict().items())
        assert all(param.grad is None and param.requires_grad for param in model.parameters())
        assert not any(
            m._forward_hooks or m._forward_pre_hooks or m._backward_hooks for m in model.modules()
        )


@pytest.mark.parametrize("measure", [commutativity, identity_law, doubling, associativity])
def test_accuracies_of_real_models_are_fractions(measure):
    p = 7
    for model in real_models(p):
        assert 0.0 <= measure(model, p) <= 1.0


def test_operation_aliases_are_accepted():
    p = 7
    assert commutativity(exact("add", p), p, "+") == 1.0
    assert identity_law(exact("multiply", p), p, "*") == 1.0


@pytest.mark.parametrize("measure", [commutativity, commutativity_distance, associativity])
@pytest.mark.parametrize("operation", ["subtract", "divide", "-"])
def test_laws_refuse_operations_that_do_not_satisfy_them(measure, operation):
    with pytest.raises(ValueError, match=r"operation='(subtract|divide)' does not satisfy"):
        measure(exact("add", 7), 7, operation)


@pytest.mark.parametrize("operation", ["x^2+y^2", "x^2+xy+y^2"])
def test_identity_law_needs_an_identity(operation):
    with pytest.raises(ValueError, match="operation=.* has no identity element"):
        identity_law(exact("add", 7), 7, operation)


@pytest.mark.parametrize("measure", MEASURES)
def test_bad_task_arguments(measure):
    model = exact("add", 7)
    with pytest.raises(ValueError, match="operation must be one of"):
        measure(model, 7, "power")
    with pytest.raises(ValueError, match="p must be in"):
        measure(model, 1)
    with pytest.raises(TypeError, match="p must be an int"):
        measure(model, 7.0)
    with pytest.raises(ValueError, match="batch_size must be in"):
        measure(model, 7, batch_size=0)
    with pytest.raises(ValueError, match=r"logits of shape \(n, p\) = \(n, 9\).*Check p"):
        measure(model, 9)  # the module has 7 classes


def test_divide_needs_a_prime_modulus():
    with pytest.raises(ValueError, match="p must be prime"):
        doubling(TableModule(8, lambda a, b: a), 8, "divide")


@pytest.mark.parametrize("law", [identity_law, doubling])
def test_bad_score(law):
    with pytest.raises(ValueError, match="score must be one of"):
        law(exact("add", 7), 7, score="loss")


@pytest.mark.parametrize(
    ("pairs", "error", "message"),
    [
        ([[0, 7]], ValueError, r"pairs must hold integers in \[0, p\)"),
        ([[0, 1, 2]], ValueError, "pairs must have shape"),
        ([[0.5, 1.0]], TypeError, "pairs must hold integers"),
        (np.zeros((0, 2), dtype=np.int64), ValueError, "pairs must hold at least one pair"),
    ],
)
@pytest.mark.parametrize("measure", [commutativity, commutativity_distance])
def test_bad_pairs(measure, pairs, error, message):
    model = exact("add", 7).train()
    with pytest.raises(error, match=message):
        measure(model, 7, pairs=pairs)
    assert model.training


def _all_pairs_split(p: int, n_first: int, seed: int = 0):
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(seed))
    return pairs[order[:n_first]], pairs[order[n_first:]]


@pytest.mark.parametrize("law", [commutativity, commutativity_distance])
def test_known_logits_of_every_pair_replace_the_forward_pass(law):
    p = 13
    torch.manual_seed(0)
    model = OneHotPairMLP(p=p, hidden_layer_sizes=(32,)).eval()
    first, rest = _all_pairs_split(p, 60)
    with torch.no_grad():
        evaluated = [(first, model(first)), (rest, model(rest))]
    calls = []
    handle = model.register_forward_hook(lambda *args: calls.append(1))
    looked_up = law(model, p=p, evaluated=evaluated)
    assert calls == []  # no forward pass: every pair and its swap was known
    computed = law(model, p=p)
    assert len(calls) > 0
    handle.remove()
    assert looked_up == pytest.approx(computed, rel=1e-6)


def test_partial_known_logits_fall_back_to_the_forward_pass():
    p = 11
    torch.manual_seed(1)
    model = OneHotPairMLP(p=p, hidden_layer_sizes=(16,)).eval()
    first, _ = _all_pairs_split(p, 50)
    with torch.no_grad():
        # wrong logits on purpose: if they were used the answer would change
        evaluated = [(first, -model(first)), (torch.ones(3, 4), torch.ones(3, p))]
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    assert commutativity(model, p=p, evaluated=evaluated) == commutativity(model, p=p)
    assert len(calls) > 0


def test_recorder_hands_train_and_test_outputs_to_commutativity():
    from grokkit import ModularMLPClassifier
    from grokkit.datasets import make_modular

    X, y, Xt, yt = make_modular(p=11, train_fraction=0.5, random_state=0)
    clf = ModularMLPClassifier(p=11, hidden_layer_sizes=(16,), max_epochs=3, measure_every=1,
                               measures=["commutativity"], random_state=0)
    clf.fit(X, y, eval_set=(Xt, yt))
    module = clf.module_
    for epoch in clf.progress_.epoch:
        assert 0.0 <= clf.progress_.set_index("epoch").loc[epoch, "commutativity"] <= 1.0
    # the last row equals the measure computed from scratch on the final module
    assert clf.progress_.commutativity.iloc[-1] == pytest.approx(commutativity(module, p=11), abs=1e-12)
