"""Nanda et al.'s Fourier measures: closed forms, the model protocol, recording, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grokkit import ModularMLPClassifier, ModularTransformer
from grokkit.datasets import make_modular
from grokkit.datasets.modular import all_pairs, modular_targets
from grokkit.measures import (
    embedding_fourier_norms,
    excluded_loss,
    fourier_basis,
    fourier_basis_names,
    fourier_gini,
    key_frequencies,
    n_key_frequencies,
    restricted_loss,
)
from grokkit.measures.fourier import basis_frequencies, gini
from grokkit.models import ModularTransformerNet, OneHotPairMLP

P = 31  # prime, not 113
KEYS = (3, 7, 12)
EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)


class TableModel(nn.Module):
    """Logits given as a (p, p, p) table [a, b, c] and an explicit embedding: closed forms by construction."""

    def __init__(self, table: torch.Tensor, embeddings: torch.Tensor | None = None) -> None:
        super().__init__()
        self.table = nn.Parameter(table.clone())
        self.embeddings = nn.Parameter(
            embeddings.clone() if embeddings is not None else torch.zeros(table.shape[0], 1,
                                                                          dtype=table.dtype))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.table[pairs[:, 0], pairs[:, 1]]

    def token_embeddings(self) -> torch.Tensor:
        return self.embeddings


def cos_table(p: int, keys, sign: int = 1, dtype=torch.float64, scale: float = 1.0) -> torch.Tensor:
    """Logits Σ_k scale · cos(w_k(a ± b − c)) for every (a, b, c)."""
    a, b, c = torch.meshgrid(*(torch.arange(p, dtype=torch.float64),) * 3, indexing="ij")
    table = sum(torch.cos(2 * math.pi * k / p * (a + sign * b - c)) for k in keys)
    return (scale * table).to(dtype)


def embedding_from(p: int, keys, d: int = 12, seed: int = 0) -> np.ndarray:
    """A (p, d) embedding whose columns are random mixes of cos/sin of exactly ``keys``, equal power."""
    rng = np.random.default_rng(seed)
    x = np.arange(p)
    columns = []
    for k in keys:
        for trig in (np.cos, np.sin):
            columns.append(trig(2 * np.pi * k * x / p))
    waves = np.stack(columns, axis=1)  # (p, 2 |keys|)
    mix = np.linalg.qr(rng.normal(size=(d, d)))[0][: waves.shape[1]]  # orthonormal rows
    return waves @ mix


def full_loss(table: torch.Tensor, pairs: np.ndarray, p: int, operation: str) -> float:
    targets = torch.as_tensor(modular_targets(pairs, p, operation))
    return float(F.cross_entropy(table[pairs[:, 0], pairs[:, 1]].double(), targets))


# ------------------------------------------------------------------ the basis
@pytest.mark.parametrize("p", [2, 5, 12, 31, 113])
def test_basis_is_orthonormal_with_named_rows(p):
    basis = fourier_basis(p)
    assert basis.shape == (p, p) and basis.dtype == np.float64
    np.testing.assert_allclose(basis @ basis.T, np.eye(p), rtol=0, atol=50 * p * EPS64)
    names = fourier_basis_names(p)
    assert len(names) == p and names[0] == "const"
    assert len(basis_frequencies(p)) == p
    if p >= 5:
        x = np.arange(p)
        assert names[3:5] == ["cos 2", "sin 2"]
        np.testing.assert_allclose(basis[3], np.sqrt(2 / p) * np.cos(4 * np.pi * x / p), atol=1e-13)
        np.testing.assert_allclose(basis[4], np.sqrt(2 / p) * np.sin(4 * np.pi * x / p), atol=1e-13)


# --------------------------------------------------------- closed forms (point 1)
@pytest.mark.parametrize("model_kind", ["transformer", "onehot_mlp"])
def test_embedding_built_from_three_frequencies_has_exactly_that_spectrum(model_kind):
    embedding = embedding_from(P, KEYS)
    if model_kind == "transformer":
        model = ModularTransformerNet(p=P, d_model=12, n_heads=2, d_mlp=16).double()
        with torch.no_grad():
            model.embed.W_E[:P] = torch.as_tensor(embedding)
    else:
        model = OneHotPairMLP(P, (6,)).double()
        with torch.no_grad():  # a block uses the first half of the columns, b the second
            model.fc1.weight[:, :P] = torch.as_tensor(embedding[:, :6]).t()
            model.fc1.weight[:, P:] = torch.as_tensor(embedding[:, 6:]).t()
    norms = embedding_fourier_norms(model, P)
    assert sorted(norms, key=int) == [str(k) for k in range(P // 2 + 1)]
    total = math.sqrt(sum(v * v for v in norms.values()))
    np.testing.assert_allclose(total, np.linalg.norm(embedding), rtol=100 * EPS64)  # Parseval
    outside = [norms[str(k)] for k in range(P // 2 + 1) if k not in KEYS]
    assert max(outside) <= 1e3 * EPS64 * total  # zero to float64 precision
    assert min(norms[str(k)] for k in KEYS) > 0.1 * total
    assert key_frequencies(model, P) == list(KEYS)
    assert n_key_frequencies(model, P) == 3.0
    # With three equal-power frequencies, two hold 2/3 of the norm: fraction 0.6 takes two.
    assert len(key_frequencies(model, P, fraction=0.6)) == 2


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e3 * EPS64), (torch.float32, 300 * EPS32)])
@pytest.mark.parametrize("operation, sign", [("add", 1), ("subtract", -1)])
def test_excluding_the_frequencies_of_pure_cosine_logits_leaves_chance(dtype, tol, operation, sign):
    table = cos_table(P, KEYS, sign=sign, dtype=dtype, scale=5.0)
    model = TableModel(table)
    X, y, _, _ = make_modular(P, operation, train_fraction=0.3, random_state=0)
    value = excluded_loss(model, P, operation, frequencies=KEYS, X=X, y=y)
    assert value == pytest.approx(math.log(P), rel=tol, abs=0)
    # Keeping them instead loses nothing: the logits are all circuit.
    restricted = restricted_loss(model, P, operation, frequencies=KEYS)
    assert restricted == pytest.approx(full_loss(table, all_pairs(P), P, operation), rel=tol)
    # Removing only one key frequency leaves the others' signal: well below chance.
    assert excluded_loss(model, P, operation, frequencies=KEYS[:1], X=X, y=y) < 0.5 * math.log(P)


@pytest.mark.parametrize("operation", ["add", "subtract"])
def test_restricted_loss_with_every_frequency_is_the_full_loss_of_a_function_of_a_plus_b(operation):
    generator = torch.Generator().manual_seed(1)
    per_sum = 3 * torch.randn(P, P, generator=generator, dtype=torch.float64)  # [s, c], arbitrary
    pairs = all_pairs(P)
    sign = 1 if operation == "add" else -1
    s = torch.as_tensor((pairs[:, 0] + sign * pairs[:, 1]) % P)
    table = per_sum[s].reshape(P, P, P)
    model = TableModel(table)
    every = list(range(1, P // 2 + 1))
    expected = full_loss(table, pairs, P, operation)
    assert restricted_loss(model, P, operation, frequencies=every) == pytest.approx(expected, rel=1e-12)
    X, y, _, _ = make_modular(P, operation, train_fraction=0.3, random_state=0)
    assert restricted_loss(model, P, operation, frequencies=every, on="train", X=X, y=y) == \
        pytest.approx(full_loss(table, X, P, operation), rel=1e-12)
    # Excluding every frequency leaves only the per-class mean.
    mean = table.mean(dim=(0, 1)).expand(len(X), P)
    constant = float(F.cross_entropy(mean, torch.as_tensor(y)))
    assert excluded_loss(model, P, operation, frequencies=every, X=X, y=y) == \
        pytest.approx(constant, rel=1e-12)


def test_restricted_loss_of_a_real_model_is_the_loss_of_its_line_averaged_logits():
    """An independent computation: average the logits over each line a + b = s, in numpy."""
    torch.manual_seed(0)
    model = ModularTransformerNet(p=P, d_model=16, n_heads=2, d_mlp=32).double()
    pairs = all_pairs(P)
    with torch.no_grad():
        logits = model(torch.as_tensor(pairs)).numpy()
    s = (pairs[:, 0] + pairs[:, 1]) % P
    line_mean = np.stack([logits[s == v].mean(axis=0) for v in range(P)])
    targets = torch.as_tensor(modular_targets(pairs, P))
    expected = float(F.cross_entropy(torch.as_tensor(line_mean[s]), targets))
    every = list(range(1, P // 2 + 1))
    assert restricted_loss(model, P, frequencies=every) == pytest.approx(expected, rel=1e-12)
    # and the full loss differs: a random model's logits are not functions of a + b.
    full = float(F.cross_entropy(torch.as_tensor(logits), torch.as_tensor(modular_targets(pairs, P))))
    assert abs(full - expected) > 1e-3


def test_excluded_loss_with_no_frequency_is_the_training_loss():
    torch.manual_seed(0)
    model = ModularTransformerNet(p=P, d_model=16, n_heads=2, d_mlp=32).double()
    X, y, _, _ = make_modular(P, "add", train_fraction=0.3, random_state=0)
    with torch.no_grad():
        train = float(F.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y)))
    assert excluded_loss(model, P, frequencies=[], X=X, y=y) == pytest.approx(train, rel=1e-12)


def test_the_test_split_is_the_pairs_outside_X():
    table = cos_table(P, KEYS, scale=2.0) + 0.3 * torch.randn(P, P, P, dtype=torch.float64)
    model = TableModel(table)
    X, y, X_test, _ = make_modular(P, "add", train_fraction=0.3, random_state=0)
    every = list(range(1, P // 2 + 1))
    value = excluded_loss(model, P, frequencies=[], on="test", X=X)
    assert value == pytest.approx(full_loss(table, X_test, P, "add"), rel=1e-12)
    assert restricted_loss(model, P, frequencies=every, on="test", X=X) != \
        pytest.approx(full_loss(table, X_test, P, "add"), rel=1e-6)


def test_gini_closed_forms_and_fourier_gini_of_a_sparse_embedding():
    assert gini(np.ones(8)) == pytest.approx(0.0, abs=1e-15)
    assert gini([0, 0, 0, 5.0]) == pytest.approx(0.75, abs=1e-15)
    assert gini(np.zeros(3)) == 0.0
    model = TableModel(torch.zeros(P, P, P, dtype=torch.float64),
                       torch.as_tensor(fourier_basis(P)[[5]].T.copy()))  # one component: cos 3
    assert fourier_gini(model, P) == pytest.approx(1 - 1 / P, abs=1e-12)
    dense = TableModel(torch.zeros(P, P, P, dtype=torch.float64), torch.eye(P, dtype=torch.float64))
    assert fourier_gini(dense, P) == pytest.approx(0.0, abs=1e-12)  # every component norm 1


# ---------------------------------------------------------- recording, contract
def test_measures_record_by_name_and_match_direct_calls():
    p = 13
    X, y, X_test, y_test = make_modular(p, "add", train_fraction=0.5, random_state=0)
    names = ["embedding_fourier_norms", "n_key_frequencies", "fourier_gini", "restricted_loss",
             "excluded_loss"]
    clf = ModularMLPClassifier(p=p, hidden_layer_sizes=(16,), max_epochs=5, measures=names,
                               measure_every=1, random_state=0, dtype="float64")
    progress = clf.fit(X, y, eval_set=(X_test, y_test)).progress_
    assert {f"embedding_fourier_norms/{k}" for k in range(p // 2 + 1)} <= set(progress)
    last = progress.iloc[-1]
    module = clf.module_
    assert last["excluded_loss"] == pytest.approx(excluded_loss(module, p, X=X, y=y), rel=1e-12)
    assert last["restricted_loss"] == pytest.approx(restricted_loss(module, p), rel=1e-12)
    assert last["fourier_gini"] == pytest.approx(fourier_gini(module, p), rel=1e-12)
    assert last["n_key_frequencies"] == len(key_frequencies(module, p))
    assert last["embedding_fourier_norms/2"] == pytest.approx(embedding_fourier_norms(module, p)["2"])


def test_transformer_estimator_records_fourier_columns():
    p = 11
    X, y, X_test, y_test = make_modular(p, "subtract", train_fraction=0.5, random_state=0)
    clf = ModularTransformer(p=p, d_model=16, n_heads=2, d_mlp=16, operation="subtract", max_epochs=3,
                             measures=["restricted_loss", "excluded_loss", "n_key_frequencies"],
                             random_state=0)
    progress = clf.fit(X, y, eval_set=(X_test, y_test)).progress_
    assert progress[["restricted_loss", "excluded_loss"]].notna().all().all()
    assert (progress["n_key_frequencies"] >= 1).all()


@pytest.mark.parametrize("func", [embedding_fourier_norms, fourier_gini, restricted_loss, excluded_loss])
def test_measures_leave_the_module_unchanged(func):
    torch.manual_seed(0)
    model = ModularTransformerNet(p=P, d_model=16, n_heads=2, d_mlp=32)
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    X, y, _, _ = make_modular(P, "add", train_fraction=0.3, random_state=0)
    kwargs = {"X": X, "y": y} if func is excluded_loss else {}
    first = func(model, P, **kwargs)
    assert func(model, P, **kwargs) == first
    assert model.training
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert not any(m._forward_hooks for m in model.modules())


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    table = cos_table(P, KEYS, scale=4.0) + 0.1 * torch.randn(P, P, P, dtype=torch.float64)
    cpu = TableModel(table, torch.as_tensor(embedding_from(P, KEYS)))
    gpu = TableModel(table, torch.as_tensor(embedding_from(P, KEYS))).cuda()
    X, y, _, _ = make_modular(P, "add", train_fraction=0.3, random_state=0)
    for func, kwargs in ((restricted_loss, {}), (excluded_loss, {"X": X, "y": y}),
                         (fourier_gini, {}), (n_key_frequencies, {})):
        assert func(gpu, P, **kwargs) == pytest.approx(func(cpu, P, **kwargs), rel=1e-10)
    assert embedding_fourier_norms(gpu, P) == pytest.approx(embedding_fourier_norms(cpu, P), rel=1e-10)
    X_gpu, y_gpu = torch.as_tensor(X).cuda(), torch.as_tensor(y).cuda()
    on_gpu = excluded_loss(gpu, P, X=X_gpu, y=y_gpu)
    assert on_gpu == pytest.approx(excluded_loss(cpu, P, X=X, y=y), rel=1e-10)


# ------------------------------------------------------------------ bad input
def _model() -> ModularTransformerNet:
    return ModularTransformerNet(p=P, d_model=8, n_heads=2, d_mlp=8)


@pytest.mark.parametrize("func", [embedding_fourier_norms, key_frequencies, n_key_frequencies, fourier_gini,
                                  restricted_loss, excluded_loss])
@pytest.mark.parametrize("operation", ["multiply", "divide", "x^2+y^2"])
def test_operations_without_a_fourier_circuit_are_refused(func, operation):
    with pytest.raises(ValueError, match="operation"):
        func(_model(), P, operation)


@pytest.mark.parametrize("func", [embedding_fourier_norms, key_frequencies, fourier_gini, restricted_loss])
def test_unknown_operation_and_bad_p(func):
    with pytest.raises(ValueError, match="operation"):
        func(_model(), P, "power")
    with pytest.raises(TypeError, match="p"):
        func(_model(), 31.0)
    with pytest.raises(ValueError, match="p"):
        func(_model(), 1)
    with pytest.raises(ValueError, match="p"):  # the model's embedding has 31 rows, not 29
        func(_model(), 29)


def test_bad_parameters_name_themselves():
    model = _model()
    X, y, _, _ = make_modular(P, "add", train_fraction=0.3, random_state=0)
    with pytest.raises(ValueError, match="fraction"):
        key_frequencies(model, P, fraction=0)
    with pytest.raises(ValueError, match="fraction"):
        restricted_loss(model, P, fraction=1.5)
    with pytest.raises(TypeError, match="fraction"):
        key_frequencies(model, P, fraction="most")
    with pytest.raises(ValueError, match="frequencies"):
        restricted_loss(model, P, frequencies=[0, 3])
    with pytest.raises(ValueError, match="frequencies"):
        excluded_loss(model, P, frequencies=[P // 2 + 1], X=X)
    with pytest.raises(ValueError, match="frequencies"):
        excluded_loss(model, P, frequencies=[3, 3], X=X)
    with pytest.raises(TypeError, match="frequencies"):
        restricted_loss(model, P, frequencies=3)
    with pytest.raises(TypeError, match="frequencies"):
        restricted_loss(model, P, frequencies=[2.0])
    with pytest.raises(ValueError, match="on"):
        restricted_loss(model, P, on="valid")
    with pytest.raises(ValueError, match="X"):
        excluded_loss(model, P)  # on="train" needs the training pairs
    with pytest.raises(ValueError, match="X"):
        excluded_loss(model, P, X=np.array([[0, P]]))
    with pytest.raises(ValueError, match="y"):
        excluded_loss(model, P, X=X, y=y[:-1])
    with pytest.raises(TypeError, match="batch_size"):
        restricted_loss(model, P, batch_size=1.5)
    with pytest.raises(ValueError, match="values"):
        gini([1.0, -1.0])


def test_a_module_without_the_protocol_is_a_type_error():
    with pytest.raises(TypeError, match="token_embeddings"):
        embedding_fourier_norms(nn.Linear(2, P), P)
    with pytest.raises(TypeError, match="token_embeddings"):
        restricted_loss(nn.Linear(2, P), P)  # the key frequencies come from the embedding
