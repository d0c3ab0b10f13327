"""Every parameter of every stackable estimator, and every AdamW option: stacked equals alone, or falls back.

For each constructor parameter (and each ``optimizer__`` option of
``torch.optim.AdamW``) a Sweep of two runs is trained with
``vectorize="auto"`` at a value other than the default. Either the runs
trained stacked, and each equals the same run fitted alone (to a tolerance of
10³ ulps of the dtype, as in test_sweep.py), or they went to joblib and
``results_["note"]`` names the parameter. The two random parameters (dropout,
input noise) stack with per-run draws that differ from a fit's own draws:
they are proved honoured (the stacked runs differ from the same runs without
the noise, step for step on the same schedule), not equal.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from grokkit import GrokMLPClassifier, GrokMLPRegressor, ModularMLPClassifier, ModularTransformer, Sweep
from grokkit.callbacks import StopWhenConverged
from grokkit.datasets import load_digits_split, make_modular
from grokkit.estimators.params import VARY
from grokkit.estimators.penalties import penalties
from grokkit.estimators.stacked import why_not_stackable

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RTOL = {"float32": 1e3 * float(torch.finfo(torch.float32).eps),
        "float64": 1e3 * float(torch.finfo(torch.float64).eps)}

#: Parameters whose stacked runs draw their randomness per run (vmap's "different"),
#: so that they equal a fit alone in distribution, not draw for draw.
RANDOM = {"dropout", "input_noise"}


class HalveLR(Callback):
    """An epoch-level callback that changes the optimizer: the stacked loop does not honour it."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            for group in net.optimizer_.param_groups:
                group["lr"] /= 2


def _digits():
    X, y, Xt, yt = load_digits_split(n_train=60, random_state=0)
    return X, y, Xt[:40], yt[:40]


def _teacher():
    rng = np.random.default_rng(0)
    X, Xt = rng.normal(size=(40, 6)), rng.normal(size=(20, 6))
    W = rng.normal(size=(6, 2))
    return X, np.tanh(X @ W), Xt, np.tanh(Xt @ W)


def _pairs():
    return make_modular(p=7, train_fraction=0.6, random_state=0)


COMMON = dict(max_epochs=2, dtype="float64", measures=("weight_norm",), measure_every=1)
ESTIMATORS = {
    "GrokMLPClassifier": (GrokMLPClassifier(hidden_layer_sizes=(8,), batch_size=20, **COMMON), _digits),
    "GrokMLPRegressor": (GrokMLPRegressor(hidden_layer_sizes=(8,), batch_size=20, **COMMON), _teacher),
    "ModularMLPClassifier": (ModularMLPClassifier(p=7, hidden_layer_sizes=(8,), **COMMON), _pairs),
    "ModularTransformer": (ModularTransformer(p=7, d_model=8, n_heads=2, d_mlp=16, **COMMON), _pairs),
}

#: A value other than the template's for every parameter (a new parameter needs one here).
PROBES = {
    "alpha": 2.0, "weight_decay": 0.5, "lr": 3e-3, "optimizer": "adam", "betas": (0.8, 0.99),
    "loss": "mse", "max_epochs": 3, "batch_size": 9, "constrain_norm": True, "input_noise": (0.5, 0.1),
    "grokfast": ("ema", 0.9, 1.0), "measures": ("weight_norm", "weight_entropy"), "measure_every": 2,
    "keep_checkpoints": True, "checkpoint_dir": "CHECKPOINT_DIR", "device": "auto", "dtype": "float32",
    "flush_denormal": True, "compile": True, "random_state": None, "verbose": 1, "on_divergence": "warn",
    "callbacks": [StopWhenConverged(rtol=0.5, window=2)], "norm_penalty": 1e-3, "mi_penalty": 0.1,
    "abelian_penalty": 0.1, "barlow_penalty": 0.1, "barlow_off_diagonal": 0.01,
    "hidden_layer_sizes": (6, 5), "activation": "tanh", "dropout": 0.2, "zero_last": True,
    "accuracy_threshold": 0.01, "p": 11, "operation": "multiply", "bias": True, "d_model": 12, "n_heads": 4,
    "d_mlp": 12, "n_layers": 2, "act": "gelu", "use_layernorm": True, "checkpoint_every": 5,
}
#: What a probe value needs beside it to be a valid setting (checkpoint_every writes into checkpoint_dir).
COMPANIONS = {"checkpoint_every": {"checkpoint_dir": "CHECKPOINT_DIR"}}
#: Values probed besides PROBES (``name[label]``): a callback the stacked loop does not honour.
EXTRA = {"callbacks[HalveLR]": ("callbacks", [HalveLR()])}

#: Every ``optimizer__`` option of AdamW with a non-default value.
ADAMW_PROBES = {"lr": 1e-2, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.3, "amsgrad": True,
                "maximize": True, "foreach": True, "capturable": True, "differentiable": True, "fused": True,
                "decoupled_weight_decay": False}


def _cases():
    cases = []
    for est_name, (template, _) in ESTIMATORS.items():
        for name in template.declared_params():
            cases.append((est_name, name, name))
        if est_name == "GrokMLPClassifier":
            cases += [(est_name, label, name) for label, (name, _) in EXTRA.items()]
    return cases


def _probe(label, tmp_path):
    if label in EXTRA:
        value = EXTRA[label][1]
    elif label in PROBES:
        value = PROBES[label]
    else:  # a penalty's weight: any small positive value switches it on
        assert label in {p.name for p in penalties()}, f"add a probe value of {label} to PROBES"
        value = 0.05
    return str(tmp_path / "ckpt") if value == "CHECKPOINT_DIR" else value


def _alone(template, run, data):
    X, y, Xt, yt = data
    return clone(template).set_params(**run).fit(X, y, eval_set=(Xt, yt))


def _prove(template, grid, seeds, data, key):
    """Sweep two runs; return "equal", "fallback" or "random" with the proof asserted."""
    X, y, Xt, yt = data
    varying = ["random_state"] if grid is None else ["random_state", *grid]
    reason = why_not_stackable(template, varying)
    if reason is not None:
        assert key in reason, reason
        with pytest.raises(ValueError, match="cannot be stacked"):
            Sweep(template, grid, seeds=seeds, vectorize=True).fit(X, y, eval_set=(Xt, yt))
        if template.get_params().get("checkpoint_dir") is None:  # two runs cannot share one
            sweep = Sweep(template, grid, seeds=seeds, n_jobs=1).fit(X, y, eval_set=(Xt, yt))
            assert set(sweep.results_["executor"]) == {"joblib"}
            assert (sweep.results_["note"] == f"not stacked: {reason}").all()
        return "fallback"
    sweep = Sweep(template, grid, seeds=seeds, vectorize="auto", n_jobs=1).fit(X, y, eval_set=(Xt, yt))
    executors = set(sweep.results_["executor"])
    assert executors == {"stacked"}
    rtol = RTOL[template.dtype]
    for run, stacked in zip(sweep.runs_, sweep.estimators_, strict=True):
        alone = _alone(template, run, data)
        if key in RANDOM:  # same schedule; the values are proved honoured by the test below
            schedule = ["epoch", "step"]
            pd.testing.assert_frame_equal(alone.progress_[schedule], stacked.progress_[schedule])
            continue
        assert list(alone.progress_.columns) == list(stacked.progress_.columns)
        pd.testing.assert_frame_equal(alone.progress_, stacked.progress_, check_exact=False, rtol=rtol,
                                      atol=rtol)
        for p, q in zip(alone.module_.parameters(), stacked.module_.parameters(), strict=True):
            torch.testing.assert_close(q, p, rtol=rtol, atol=rtol)
    return "random" if key in RANDOM else "equal"


OUTCOMES: dict[str, str] = {}


@pytest.mark.parametrize(("est_name", "label", "name"), _cases(), ids=lambda v: str(v))
def test_each_parameter_stacks_equal_or_falls_back_with_a_reason(est_name, label, name, tmp_path):
    template, load = ESTIMATORS[est_name]
    declared = template.declared_params()
    value = _probe(label, tmp_path)
    data = load()
    if name == "random_state":
        outcome = _prove(clone(template), None, [3, 4], data, name)
    elif declared[name].stacked == VARY:
        outcome = _prove(clone(template), {name: [template.get_params()[name], value]}, [0], data, name)
    else:
        if name == "loss" and est_name == "GrokMLPRegressor":
            value = "mse"  # its only loss: the default is what is proved
        companions = {key: _probe(key, tmp_path) for key in COMPANIONS.get(name, {})}
        outcome = _prove(clone(template).set_params(**{name: value}, **companions), None, [0, 1], data, name)
    if name in RANDOM:
        assert outcome == "random"
    OUTCOMES[f"{est_name}.{label}"] = outcome
    print(f"WALK {est_name}.{label}: {outcome}")


def test_noise_and_dropout_are_honoured_by_the_stacked_runs():
    """The random parameters stack: their runs differ from the same runs without them."""
    template, load = ESTIMATORS["GrokMLPClassifier"]
    X, y, Xt, yt = load()
    for name, value in (("dropout", 0.2), ("input_noise", (0.5, 0.1))):
        noisy = Sweep(clone(template).set_params(**{name: value}), seeds=2).fit(X, y, eval_set=(Xt, yt))
        quiet = Sweep(clone(template), seeds=2).fit(X, y, eval_set=(Xt, yt))
        assert set(noisy.results_["executor"]) == {"stacked"}
        assert not np.allclose(noisy.results_["final_train_loss"], quiet.results_["final_train_loss"])


ADAMW_OPTIONS = [name for name in inspect.signature(torch.optim.AdamW).parameters if name != "params"]


def test_the_walk_covers_every_adamw_option():
    assert set(ADAMW_OPTIONS) <= set(ADAMW_PROBES), sorted(set(ADAMW_OPTIONS) - set(ADAMW_PROBES))


@pytest.mark.parametrize("option", ADAMW_OPTIONS)
def test_each_adamw_option_stacks_equal_or_falls_back_with_a_reason(option):
    template, load = ESTIMATORS["GrokMLPClassifier"]
    key = f"optimizer__{option}"
    template = clone(template).set_params(**{key: ADAMW_PROBES[option]})
    data = load()
    reason = why_not_stackable(template, ["random_state"])
    alone_error = None
    try:
        clone(template).set_params(random_state=0).fit(data[0], data[1])
    except Exception as error:  # lr, weight_decay, betas: set by their own parameters only;
        alone_error = error     # capturable, differentiable: torch's AdamW refuses them on this CPU
    if alone_error is not None:
        assert reason is not None and key in reason
        with pytest.raises(ValueError, match="cannot be stacked"):
            Sweep(template, seeds=2, vectorize=True).fit(data[0], data[1], eval_set=(data[2], data[3]))
        with pytest.raises(type(alone_error)):  # the fallback trains each run as its own fit does
            Sweep(template, seeds=2, n_jobs=1).fit(data[0], data[1], eval_set=(data[2], data[3]))
        outcome = "fallback"
    else:
        outcome = _prove(template, None, [0, 1], data, key)
    OUTCOMES[key] = outcome
    print(f"WALK AdamW.{option}: {outcome}")
