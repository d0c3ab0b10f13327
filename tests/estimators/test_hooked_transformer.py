"""ModularTransformer.from_hooked_transformer / to_hooked_transformer / hooked(): the estimator side.

No TransformerLens is needed here except by ``hooked()``, whose tests live in
``tests/interp/test_hooked.py``; the ImportError without it is checked here.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

from grokkit import ModularTransformer
from grokkit.analysis import OInformationAnalyzer, progress_from_checkpoints
from grokkit.measures import capture
from grokkit.measures.registry import available_measures

FIXTURE = Path(__file__).parents[1] / "fixtures" / "hooked_p7.pt"
#: Measures that perturb the inputs with Gaussian noise: they refuse token inputs for any
#: transformer, grokkit-trained or not.
PERTURBING = {"entropy_difference", "mutual_information_difference", "perturb_entropy",
              "perturb_mutual_information"}


@pytest.fixture(scope="module")
def hooked(one_torch_thread) -> dict:
    return torch.load(FIXTURE, weights_only=True)


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([(a, b) for a in range(7) for b in range(7)])
    return X, X.sum(1) % 7


def tolerance(reference: torch.Tensor, config: dict) -> float:
    terms = config["d_model"] + config["d_mlp"]
    return terms * torch.finfo(reference.dtype).eps * max(1.0, float(reference.abs().max()))


@pytest.mark.parametrize("name", ["nanda", "layernorm_gelu_2layers"])
def test_from_hooked_transformer_gives_transformer_lens_logits(hooked, pairs, name):
    entry = hooked[name]
    est = ModularTransformer.from_hooked_transformer(entry["state_dict"], entry["config"])
    X, _ = pairs
    assert est.dtype == "float64" and est.p == 7 and est.classes_.tolist() == list(range(7))
    assert est.n_layers == entry["config"]["n_layers"] and est.use_layernorm == (name != "nanda")
    proba = est.predict_proba(X)
    expected = torch.softmax(entry["logits"], dim=1).numpy()
    assert np.abs(proba - expected).max() <= tolerance(entry["logits"], entry["config"])
    np.testing.assert_array_equal(est.predict(X), entry["logits"].argmax(1).numpy())
    assert est.progress_.empty and est.n_steps_ == 0


def test_imported_estimator_is_an_estimator(hooked, pairs):
    entry = hooked["nanda"]
    est = ModularTransformer.from_hooked_transformer(entry["state_dict"], entry["config"], lr=0.01)
    assert est.get_params()["d_mlp"] == 64 and est.lr == 0.01
    assert clone(est).get_params() == est.get_params()
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(pairs[0]), est.predict_proba(pairs[0]))
    # and it trains on from where the checkpoint was: epoch 0 of progress_ is the imported model
    X, y = pairs
    before = est.score(X, y)
    est.set_params(max_epochs=2, lr=1e-3).partial_fit(X, y)
    assert est.n_steps_ == 2 and est.progress_["epoch"].tolist() == [0, 1, 2]
    # the recorder averages in float32
    assert abs(est.progress_["train_acc"].iloc[0] - before) <= torch.finfo(torch.float32).eps


def test_every_measure_reads_the_imported_model_as_its_native_twin(hooked, pairs):
    """An imported checkpoint measures as the grokkit estimator holding the same weights does."""
    entry = hooked["nanda"]
    X, y = pairs
    measures = [m for m in available_measures() if m not in PERTURBING]
    imported = ModularTransformer.from_hooked_transformer(entry["state_dict"], entry["config"],
                                                          measures=measures)
    native = ModularTransformer(p=7, d_model=32, n_heads=4, d_mlp=64, dtype="float64", max_epochs=1,
                                measures=measures, random_state=0).fit(X, y)
    native.module_.load_state_dict(imported.module_.state_dict())
    checkpoint = {0: imported.module_.state_dict()}
    split = (X[:25], y[:25]), (X[25:], y[25:])
    got = progress_from_checkpoints(imported, checkpoint, *split[0], eval_set=split[1])
    want = progress_from_checkpoints(native, checkpoint, *split[0], eval_set=split[1])
    assert list(got.columns) == list(want.columns)
    assert {"restricted_loss", "excluded_loss", "n_key_frequencies", "fourier_gini"} <= set(got.columns)
    assert not got.isna().any().any()
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    for name in PERTURBING:
        with pytest.raises(TypeError, match="cannot be perturbed"):
            progress_from_checkpoints(imported, checkpoint, X, y, measures=[name])


def test_oinformation_analyzer_runs_on_an_imported_model(hooked, pairs):
    entry = hooked["nanda"]
    est = ModularTransformer.from_hooked_transformer(entry["state_dict"], entry["config"])
    _, activations = capture(est.module_, pairs[0])
    assert activations["blocks.0.mlp.act"].shape == (49, 64)
    analyzer = OInformationAnalyzer(n_bins=4, max_order=4).fit(activations)
    row = analyzer.transform(activations)
    assert row.shape == (1, 10) and np.isfinite(row).all()


def test_params_that_contradict_the_config_are_refused(hooked):
    entry = hooked["nanda"]
    with pytest.raises(ValueError, match=r"p=11 \(the config says 7\)"):
        ModularTransformer.from_hooked_transformer(entry["state_dict"], entry["config"], p=11)


def test_layernorm_and_two_layer_models_are_held_and_others_refused(hooked):
    two = hooked["layernorm_gelu_2layers"]
    est = ModularTransformer.from_hooked_transformer(two["state_dict"], two["config"])
    assert (est.n_layers, est.act, est.use_layernorm) == (2, "gelu", True)
    with pytest.raises(ValueError, match="normalization_type is 'LNPre'"):
        ModularTransformer.from_hooked_transformer(two["state_dict"], {**two["config"],
                                                                       "normalization_type": "LNPre"})


def test_to_hooked_transformer_round_trip(hooked, pairs):
    entry = hooked["nanda"]
    est = ModularTransformer.from_hooked_transformer(entry["state_dict"], entry["config"])
    state, config = est.to_hooked_transformer()
    again = ModularTransformer.from_hooked_transformer(state, config)
    np.testing.assert_array_equal(again.predict_proba(pairs[0]), est.predict_proba(pairs[0]))
    assert config["dtype"] == torch.float64 and config["d_vocab"] == 8 and config["d_vocab_out"] == 7


def test_a_float32_run_exports_float32(pairs):
    X, y = pairs
    est = ModularTransformer(p=7, d_model=8, n_heads=2, d_mlp=16, max_epochs=1, random_state=0).fit(X, y)
    state, config = est.to_hooked_transformer()
    assert config["dtype"] == torch.float32 and state["embed.W_E"].dtype == torch.float32
    again = ModularTransformer.from_hooked_transformer(state, config)
    assert again.dtype == "float32"
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


def test_unfitted_estimator_has_nothing_to_export():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ModularTransformer().to_hooked_transformer()
    with pytest.raises(NotFittedError):
        ModularTransformer().hooked()


def test_hooked_without_transformer_lens_names_the_extra(hooked, monkeypatch):
    entry = hooked["nanda"]
    est = ModularTransformer.from_hooked_transformer(entry["state_dict"], entry["config"])
    monkeypatch.setitem(sys.modules, "transformer_lens", None)  # import of it raises ImportError
    monkeypatch.delitem(sys.modules, "grokkit.interp.hooked", raising=False)
    with pytest.raises(ImportError, match=r'pip install "grokkit\[interp\]"'):
        est.hooked()
