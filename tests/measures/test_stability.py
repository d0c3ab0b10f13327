"""softmax_collapse and nlm_alignment: closed forms, the measure contract, bad inputs."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grokkit import ModularMLPClassifier
from grokkit.datasets import make_modular
from grokkit.measures import MeasureContext, capture, get_measure, nlm_alignment, softmax_collapse
from grokkit.models import MLP

EPS64 = torch.finfo(torch.float64).eps


def _hand_s(x: float) -> float:
    """StableMax's s(x), written out branch by branch (Prieto et al. 2025, Eq. 5)."""
    return x + 1.0 if x >= 0 else 1.0 / (1.0 - x)


def _hand_stablemax_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-log(s(x_y) / sum_j s(x_j)) per row, every operation in the logits' dtype."""
    rows = []
    for row, label in zip(logits, y.tolist(), strict=True):
        s = torch.tensor([_hand_s(float(v)) for v in row], dtype=logits.dtype)
        total = torch.zeros((), dtype=logits.dtype)
        for k in [label] + [j for j in range(len(s)) if j != label]:
            total = total + s[k]                  # the label's term first, then the others
        rows.append(-torch.log(s[label] / total))
    return torch.stack(rows)


class Scale(nn.Module):
    """One parameter w: logits w * (x @ directions). Homogeneous of degree 1 in w."""

    def __init__(self, w: float, directions: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=directions.dtype))
        self.register_buffer("directions", directions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w * (x @ self.directions)


def _data(n=40, d=6, c=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=generator), torch.randint(0, c, (n,), generator=generator)


def test_softmax_collapse_is_one_when_float32_loss_is_exactly_zero():
    X, _ = _data()
    net = nn.Linear(6, 4, bias=False)
    y = net(X).argmax(1).detach()
    with torch.no_grad():
        net.weight.mul_(1e4)                       # margins of thousands: exp(-margin) is absorbed
    with torch.no_grad():
        losses = F.cross_entropy(net(X), y, reduction="none")
    assert (losses == 0).all()
    assert softmax_collapse(net, X, y) == 1.0


def test_softmax_collapse_is_zero_for_small_logits():
    X, y = _data()
    net = nn.Linear(6, 4, bias=False)
    with torch.no_grad():
        net.weight.mul_(1e-2)
    assert softmax_collapse(net, X, y) == 0.0


def test_softmax_collapse_counts_only_samples_with_the_label_at_the_max():
    logits = torch.tensor([[200.0, 0.0, 0.0], [200.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 300.0, 0.0]])
    y = torch.tensor([0, 1, 0, 1])
    # rows: collapsed and correct; absorbed but wrong label; not absorbed; collapsed and correct
    assert softmax_collapse(nn.Identity(), logits, y) == 0.5
    assert softmax_collapse(nn.Identity(), logits, y, logits=logits) == 0.5


def test_softmax_collapse_depends_on_the_working_dtype():
    # a margin of 20: exp(-20) = 2.1e-9 is absorbed by 1 in float32 (below 2^-24 = 6e-8), not in float64
    logits = torch.tensor([[20.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0])
    identity = nn.Identity()
    assert softmax_collapse(identity, logits, y, logits=logits) == 0.0
    assert softmax_collapse(identity, logits, y, logits=logits, dtype="float32") == 1.0
    assert softmax_collapse(identity, logits, y, logits=logits, dtype=torch.float32) == 1.0


def test_stablemax_collapse_matches_the_hand_computed_absorbed_loss():
    # float32: margin 30 absorbs softmax CE (e^-30 = 9e-14 < 2^-24) but not StableMax CE
    # (31 + 1 + 1 = 33); the logits 1e5 against -1e5 absorb StableMax CE too
    # (r / s_y = 2e-5 / 1e5 = 2e-10 < 2^-24); a sample with the wrong label absorbs neither
    logits = torch.tensor([[30.0, 0.0, 0.0], [1e5, -1e5, -1e5], [0.0, 1e5, -1e5], [1.0, 0.0, 0.0]])
    y = torch.tensor([0, 0, 0, 0])
    softmax_losses = F.cross_entropy(logits, y, reduction="none")
    stablemax_losses = _hand_stablemax_losses(logits, y)
    assert softmax_losses.tolist()[:2] == [0.0, 0.0] and (softmax_losses[2:] > 0).all()
    assert stablemax_losses[1] == 0 and (stablemax_losses[[0, 2, 3]] > 0).all()
    identity = nn.Identity()
    expected_softmax = float((softmax_losses == 0).double().mean())
    expected_stablemax = float((stablemax_losses == 0).double().mean())
    assert (expected_softmax, expected_stablemax) == (0.5, 0.25)
    assert softmax_collapse(identity, logits, y, logits=logits) == expected_softmax
    assert softmax_collapse(identity, logits, y, logits=logits, loss="cross_entropy") == expected_softmax
    assert softmax_collapse(identity, logits, y, logits=logits, loss="stablemax") == expected_stablemax


def test_stablemax_collapse_depends_on_the_working_dtype():
    # s_y = 1e5 + 1, r = 2 / (1 + 1e5): r / s_y = 2e-10 is absorbed in float32, not in float64
    logits = torch.tensor([[1e5, -1e5, -1e5]], dtype=torch.float64)
    y = torch.tensor([0])
    assert _hand_stablemax_losses(logits, y)[0] > 0
    assert _hand_stablemax_losses(logits.float(), y)[0] == 0
    identity = nn.Identity()
    assert softmax_collapse(identity, logits, y, logits=logits, loss="stablemax") == 0.0
    assert softmax_collapse(identity, logits, y, logits=logits, loss="stablemax", dtype="float32") == 1.0


def test_softmax_collapse_takes_the_loss_from_the_task_and_params_override_it():
    logits = torch.tensor([[30.0, 0.0, 0.0], [40.0, 0.0, 0.0]])
    y = torch.tensor([0, 0])
    context = lambda loss: MeasureContext(module=nn.Identity(), X=logits, y=y, logits=logits,  # noqa: E731
                                          task={"loss": loss, "n_outputs": 3})
    measure = get_measure("softmax_collapse")
    assert measure(context("cross_entropy")) == {"softmax_collapse": 1.0}
    assert measure(context("stablemax")) == {"softmax_collapse": 0.0}
    readout = get_measure(("softmax_collapse", {"loss": "cross_entropy"}))
    assert readout(context("stablemax")) == {"softmax_collapse": 1.0}


def test_a_recorded_stablemax_run_records_the_stablemax_definition():
    X, y, _, _ = make_modular(p=11, train_fraction=0.5, random_state=0)
    clf = ModularMLPClassifier(p=11, hidden_layer_sizes=(16,), max_epochs=300, loss="stablemax", lr=0.01,
                               weight_decay=0.0, measures=("softmax_collapse",), measure_every=1,
                               random_state=0).fit(X, y)
    # scale the read-out so every correctly classified sample has a margin of at least 40:
    # softmax CE absorbs there, StableMax CE (logits of a few hundred) does not
    with torch.no_grad():
        z = clf.module_(torch.as_tensor(X))
        labels = torch.as_tensor(y)
        rivals = z.scatter(1, labels[:, None], -torch.inf).max(1).values
        margins = z.gather(1, labels[:, None]).squeeze(1) - rivals
        clf.module_.fc2.weight.mul_(40 / float(margins[margins > 0].min()))
    clf.set_params(max_epochs=1)
    clf.partial_fit(X, y)                      # one more step, recorded
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(X))
    stablemax_absorbed = float((_hand_stablemax_losses(logits, labels) == 0).double().mean())
    softmax_absorbed = float((F.cross_entropy(logits, labels, reduction="none") == 0).double().mean())
    assert softmax_absorbed > 0.5 and stablemax_absorbed == 0.0
    assert clf.progress_["softmax_collapse"].iloc[-1] == stablemax_absorbed


@pytest.mark.parametrize("label, sign", [(0, 1.0), (1, -1.0)])
def test_nlm_alignment_of_a_one_parameter_model_is_plus_or_minus_one(label, sign):
    # logits w * [x, -x]: scaling w up lowers the loss of label 0 and raises that of label 1
    net = Scale(1.0, torch.tensor([[1.0, -1.0]], dtype=torch.float64))
    X = torch.ones(5, 1, dtype=torch.float64)
    y = torch.full((5,), label)
    value = nlm_alignment(net, X, y, "cross_entropy")
    assert abs(value - sign) <= 4 * EPS64


def test_nlm_alignment_equals_eulers_identity_for_a_homogeneous_linear_model():
    # f(x; W) = W x is 1-homogeneous: <grad_W L, W> = sum_i <dL/dlogits_i, logits_i>
    X, y = _data()
    X = X.double()
    net = nn.Linear(6, 4, bias=False).double()
    logits = net(X)
    d_logits = torch.autograd.grad(F.cross_entropy(logits, y), logits)[0]
    euler = float((d_logits * logits.detach()).sum())
    grad = torch.autograd.grad(F.cross_entropy(net(X), y), net.weight)[0]
    expected = -euler / float(grad.norm() * net.weight.detach().norm())
    assert nlm_alignment(net, X, y, "cross_entropy") == pytest.approx(expected, abs=64 * EPS64)


def test_nlm_alignment_per_parameter_and_stablemax_loss():
    torch.manual_seed(0)
    net = MLP(6, 4, (8,))
    X, y = _data()
    result = nlm_alignment(net, X, y, "stablemax", per_parameter=True)
    names = {name for name, _ in net.named_parameters()}
    assert set(result) == {"total"} | names
    assert all(-1.0 <= v <= 1.0 for v in result.values())


def test_zero_gradient_is_nan():
    net = Scale(0.0, torch.tensor([[1.0, -1.0]]))
    assert torch.isnan(torch.tensor(nlm_alignment(net, torch.ones(2, 1), torch.zeros(2, dtype=torch.long))))


@pytest.mark.parametrize("name", ["softmax_collapse", "nlm_alignment"])
def test_measure_contract_module_unchanged_and_repeatable(name):
    torch.manual_seed(0)
    net = MLP(6, 3, (8, 8), dropout=0.2)
    net.train()
    X, y = torch.randn(20, 6), torch.randint(0, 3, (20,))
    F.cross_entropy(net(X), y).backward()         # a .grad left by training must survive
    grads = {k: p.grad.clone() for k, p in net.named_parameters()}
    state = {k: v.clone() for k, v in net.state_dict().items()}
    logits, activations = capture(net, X)
    context = MeasureContext(module=net, X=X, y=y, activations=activations, logits=logits,
                             task={"loss": "cross_entropy", "n_outputs": 3})
    measure = get_measure(name)
    first, second = measure(context), measure(context)
    assert first == second and first and all(isinstance(v, float) for v in first.values())
    assert net.training
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())
    assert all(torch.equal(p.grad, grads[k]) for k, p in net.named_parameters())
    assert not any(m._forward_hooks for m in net.modules())


def test_softmax_collapse_from_the_recorder_logits_runs_no_forward():
    net = MLP(6, 3, (8,))
    X, y = torch.randn(10, 6), torch.randint(0, 3, (10,))
    calls = []
    handle = net.register_forward_hook(lambda *args: calls.append(1))
    try:
        softmax_collapse(net, X, y, logits=torch.zeros(10, 3))
    finally:
        handle.remove()
    assert calls == []


@pytest.mark.parametrize("kwargs, error, match", [
    ({"y": torch.tensor([0.5, 1.0])}, TypeError, "y must hold integer"),
    ({"y": torch.tensor([0, 1, 2])}, ValueError, "one label per sample"),
    ({"y": torch.tensor([0, 5])}, ValueError, r"class indices in \[0, 3\)"),
    ({"dtype": "float8"}, ValueError, "dtype"),
    ({"logits": torch.zeros(2)}, ValueError, "shape"),
    ({"loss": "hinge"}, ValueError,
     "loss must be one of 'cross_entropy', 'bce', 'mse', 'stablemax'; got 'hinge'"),
])
def test_softmax_collapse_bad_inputs(kwargs, error, match):
    arguments = {"y": torch.tensor([0, 1]), **kwargs}
    with pytest.raises(error, match=match):
        softmax_collapse(nn.Identity(), torch.zeros(2, 3), **arguments)


def test_nlm_alignment_bad_inputs():
    net = nn.Linear(3, 2)
    X, y = torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match="loss must be one of"):
        nlm_alignment(net, X, y, "hinge")
    with pytest.raises(TypeError, match="per_parameter"):
        nlm_alignment(net, X, y, per_parameter="yes")
    with pytest.raises(ValueError, match="one target per sample"):
        nlm_alignment(net, X, y[:2])
    with pytest.raises(ValueError, match="no trainable parameters"):
        nlm_alignment(nn.Identity(), X, y)
