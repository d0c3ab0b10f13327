"""Grokfast: the filters' formulas, λ = 0 is plain training bit for bit, state survives pickles."""

import copy
import pickle

import pytest
import torch
from torch import nn

from grokkit.callbacks.grokfast import Grokfast, grokfast_ema_


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))


def _train(net: nn.Module, callback: Grokfast | None, steps: int = 15) -> nn.Module:
    """A hand loop: backward, the callback's on_grad_computed, AdamW step."""
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1)
    generator = torch.Generator().manual_seed(1)
    if callback is not None:
        callback.initialize()
    for _ in range(steps):
        X, y = torch.randn(8, 4, generator=generator), torch.randint(0, 3, (8,), generator=generator)
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(net(X), y).backward()
        if callback is not None:
            callback.on_grad_computed(None, named_parameters=list(net.named_parameters()))
        optimizer.step()
    return net


@pytest.mark.parametrize("callback", [Grokfast("ema", alpha=0.98, lamb=0.0),
                                      Grokfast("ma", window=4, lamb=0.0)])
def test_lambda_zero_is_plain_training_bit_for_bit(callback):
    plain = _train(_net(), None)
    filtered = _train(_net(), callback)
    assert all(torch.equal(a, b) for a, b in zip(plain.parameters(), filtered.parameters(), strict=True))


def test_lambda_nonzero_changes_training():
    plain = _train(_net(), None)
    filtered = _train(_net(), Grokfast("ema", alpha=0.98, lamb=2.0))
    assert not all(torch.equal(a, b) for a, b in zip(plain.parameters(), filtered.parameters(), strict=True))


def test_lambda_zero_through_an_estimator_matches_plain_fit():
    from grokkit import ModularMLPClassifier
    from grokkit.datasets import make_modular

    X, y, _, _ = make_modular(p=7, train_fraction=0.5, random_state=0)
    kwargs = {"p": 7, "hidden_layer_sizes": (8,), "max_epochs": 6, "measures": (), "random_state": 0}
    plain = ModularMLPClassifier(**kwargs).fit(X, y)
    filtered = ModularMLPClassifier(callbacks=[Grokfast(lamb=0.0)], **kwargs).fit(X, y)
    amplified = ModularMLPClassifier(callbacks=[Grokfast(lamb=2.0)], **kwargs).fit(X, y)
    pairs = list(zip(plain.module_.parameters(), filtered.module_.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in pairs)
    assert not all(torch.equal(a, b) for a, b in zip(plain.module_.parameters(),
                                                      amplified.module_.parameters(), strict=True))


def _gradient_sequence(n: int, shape=(3,)) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    return [torch.randn(shape, generator=generator, dtype=torch.float64) for _ in range(n)]


def _apply(callback: Grokfast, grads: list[torch.Tensor]) -> list[torch.Tensor]:
    parameter = nn.Parameter(torch.zeros(grads[0].shape, dtype=torch.float64))
    out = []
    for g in grads:
        parameter.grad = g.clone()
        callback.on_grad_computed(None, named_parameters=[("w", parameter)])
        out.append(parameter.grad.clone())
    return out


def test_ema_follows_the_recursion_from_the_first_gradient():
    alpha, lamb = 0.9, 2.0
    grads = _gradient_sequence(6)
    filtered = _apply(Grokfast("ema", alpha=alpha, lamb=lamb).initialize(), grads)
    h = grads[0].clone()
    for g, got in zip(grads, filtered, strict=True):
        h = alpha * h + (1 - alpha) * g
        # absolute tolerance from the magnitudes summed (the sum itself may cancel)
        scale = float(g.abs().max() + lamb * h.abs().max())
        assert torch.allclose(got, g + lamb * h, rtol=0, atol=16 * torch.finfo(torch.float64).eps * scale)


@pytest.mark.parametrize("warmup", [False, True])
def test_moving_average_of_the_last_window_gradients(warmup):
    window, lamb = 3, 5.0
    grads = _gradient_sequence(7, shape=(2, 2))
    callback = Grokfast("ma", window=window, lamb=lamb, warmup=warmup).initialize()
    filtered = _apply(callback, grads)
    for t, (g, got) in enumerate(zip(grads, filtered, strict=True)):
        recent = grads[max(0, t - window + 1): t + 1]
        if warmup and len(recent) < window:
            assert torch.equal(got, g)
        else:
            expected = g + lamb * torch.stack(recent).mean(0)
            scale = float(g.abs().max() + lamb * torch.stack(recent).abs().max())
            assert torch.allclose(got, expected, rtol=0, atol=16 * torch.finfo(torch.float64).eps * scale)
    assert int(callback.seen_["w"]) == len(grads)
    assert callback.window_["w"].shape == (window, 2, 2)


def test_pure_function_matches_the_callback():
    grads = _gradient_sequence(4)
    by_callback = _apply(Grokfast("ema", alpha=0.5, lamb=1.5).initialize(), grads)
    state = None
    for g, expected in zip(grads, by_callback, strict=True):
        work = [g.clone()]
        state = grokfast_ema_(work, state, alpha=0.5, lamb=1.5)
        assert torch.equal(work[0], expected)


@pytest.mark.parametrize("callback", [Grokfast("ema"), Grokfast("ma", window=5, lamb=5.0)])
def test_state_is_plain_tensors_and_survives_pickle_and_attribute_copy(callback):
    grads = _gradient_sequence(8)
    callback.initialize()
    _apply(callback, grads[:5])
    state = {k: v for k, v in vars(callback).items() if k.endswith("_")}
    assert state and all(isinstance(v, dict) and all(torch.is_tensor(t) for t in v.values())
                         for v in state.values())
    assert set(callback.get_params()) == {"filter", "alpha", "lamb", "window", "warmup"}
    pickled = pickle.loads(pickle.dumps(callback))
    # a checkpointer that saves and restores the `_` attributes onto a fresh callback
    restored = type(callback)(**callback.get_params()).initialize()
    for key, value in state.items():
        setattr(restored, key, copy.deepcopy(value))
    expected = _apply(callback, grads[5:])
    assert all(torch.equal(a, b) for a, b in zip(_apply(pickled, grads[5:]), expected, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(_apply(restored, grads[5:]), expected, strict=True))


def test_initialize_resets_and_parameters_without_grad_are_skipped():
    callback = Grokfast("ema").initialize()
    used, unused = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    used.grad = torch.ones(2)
    callback.on_grad_computed(None, named_parameters=[("used", used), ("unused", unused)])
    assert set(callback.ema_) == {"used"} and unused.grad is None
    callback.initialize()
    assert callback.ema_ == {} and callback.seen_ == {}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("filter_", ["ema", "ma"])
def test_state_lives_on_the_gradients_device(filter_):
    callback = Grokfast(filter_, window=3).initialize()
    parameter = nn.Parameter(torch.zeros(4, device="cuda"))
    cpu_grads = _gradient_sequence(4, shape=(4,))
    for g in cpu_grads:
        parameter.grad = g.float().cuda()
        callback.on_grad_computed(None, named_parameters=[("w", parameter)])
    state = callback.ema_ if filter_ == "ema" else callback.window_
    assert state["w"].device.type == "cuda"
    cpu = _apply(Grokfast(filter_, window=3).initialize(), [g.float() for g in cpu_grads])
    assert torch.allclose(parameter.grad.cpu(), cpu[-1].float(), rtol=1e-6)


@pytest.mark.parametrize("params, error, match", [
    ({"filter": "kalman"}, ValueError, "filter"),
    ({"alpha": 1.0}, ValueError, "alpha"),
    ({"alpha": "0.9"}, TypeError, "alpha"),
    ({"lamb": float("inf")}, ValueError, "lamb"),
    ({"filter": "ma", "window": 0}, ValueError, "window"),
    ({"filter": "ma", "window": 2.5}, TypeError, "window"),
    ({"filter": "ma", "warmup": "no"}, TypeError, "warmup"),
])
def test_bad_parameters_raise_at_initialize(params, error, match):
    callback = Grokfast(**params)           # the constructor validates nothing (sklearn style)
    with pytest.raises(error, match=match):
        callback.initialize()


def test_pure_function_bad_state():
    with pytest.raises(ValueError, match="state"):
        grokfast_ema_([torch.ones(2)], [torch.ones(3)], alpha=0.5, lamb=1.0)
    with pytest.raises(ValueError, match="state"):
        grokfast_ema_([torch.ones(2)], [], alpha=0.5, lamb=1.0)
    assert grokfast_ema_([], None, 0.5, 1.0) == []
