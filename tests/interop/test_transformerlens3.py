"""Against a real TransformerLens 3.x: HookedTransformer checkpoints in and out, with equal logits.

Skipped unless ``from transformer_lens import HookedTransformer`` works
(TransformerLens < 4). Run it in its own venv::

    python -m venv /tmp/venv-tl3
    /tmp/venv-tl3/bin/pip install torch==2.13.0 "transformer_lens<4" -e . pytest hypothesis
    /tmp/venv-tl3/bin/python -m pytest -q tests/interop

``python tests/interop/test_transformerlens3.py`` prints the figures for Nanda
et al.'s full configuration (p = 113, d_model 128, 4 heads of 32, d_mlp 512).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from transformer_lens import HookedTransformer, HookedTransformerConfig
except ImportError as exc:
    pytest.skip(f"needs TransformerLens 3.x (HookedTransformer): {exc}", allow_module_level=True)

from grokkit import ModularTransformer  # noqa: E402
from grokkit.datasets import make_modular  # noqa: E402

NANDA = dict(n_layers=1, d_model=128, d_head=32, n_heads=4, d_mlp=512, n_ctx=3, act_fn="relu",
             normalization_type=None)


def hooked_transformer(config: dict) -> HookedTransformer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return HookedTransformer(HookedTransformerConfig(**config)).eval()


def all_tokens(p: int) -> torch.Tensor:
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    return torch.cat([pairs, torch.full((len(pairs), 1), p)], dim=1)


def tolerance(reference: torch.Tensor, d_model: int, d_mlp: int) -> float:
    return (d_model + d_mlp) * torch.finfo(reference.dtype).eps * max(1.0, float(reference.abs().max()))


def round_trip_figures(p: int, seed: int = 0, **shape: object) -> dict[str, float]:
    """TL model (random float64 weights) -> grokkit -> TL: the largest logit differences over all p² pairs."""
    config = {**NANDA, **shape, "d_vocab": p + 1, "d_vocab_out": p, "dtype": torch.float64, "device": "cpu",
              "seed": seed}
    model = hooked_transformer(config)
    tokens = all_tokens(p)
    with torch.no_grad():
        reference = model(tokens)[:, -1]
    est = ModularTransformer.from_hooked_transformer(model.state_dict(), model.cfg)
    ours = torch.as_tensor(est._predict_outputs(tokens[:, :2].numpy()))
    state, out_config = est.to_hooked_transformer()
    back = hooked_transformer(out_config)
    back.load_state_dict(state)  # strict
    with torch.no_grad():
        again = back(tokens)[:, -1]
    return {"from_hooked_transformer": float((ours - reference).abs().max()),
            "to_hooked_transformer": float((again - reference).abs().max()),
            "tolerance": tolerance(reference, config["d_model"], config["d_mlp"]),
            "argmax_agree": float((ours.argmax(1) == reference.argmax(1)).float().mean())}


@pytest.mark.parametrize("shape", [{}, {"normalization_type": "LN", "act_fn": "gelu", "n_layers": 2}])
def test_round_trip_through_transformer_lens_3(shape):
    figures = round_trip_figures(11, d_model=32, d_head=8, d_mlp=64, **shape)
    assert figures["from_hooked_transformer"] <= figures["tolerance"]
    assert figures["to_hooked_transformer"] <= figures["tolerance"]
    assert figures["argmax_agree"] == 1.0


def test_a_grokkit_run_loads_into_transformer_lens_3_strictly():
    X, y, _, _ = make_modular(p=11, train_fraction=0.5, random_state=0)
    est = ModularTransformer(p=11, d_model=16, n_heads=2, d_mlp=32, max_epochs=5, random_state=0).fit(X, y)
    state, config = est.to_hooked_transformer()
    model = hooked_transformer(config)
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    tokens = all_tokens(11)
    with torch.no_grad():
        theirs = model(tokens)[:, -1]
    ours = torch.as_tensor(est._predict_outputs(tokens[:, :2].numpy()))
    assert theirs.dtype == torch.float32
    assert float((theirs - ours).abs().max()) <= tolerance(ours, 16, 32)
    np.testing.assert_array_equal(theirs.argmax(1).numpy(), est.predict(tokens[:, :2].numpy()))


def test_refusals_name_what_differs():
    for change in ({"normalization_type": "LN"}, {"n_layers": 2}):
        model = hooked_transformer({**NANDA, "d_model": 16, "d_head": 4, "d_mlp": 16, "d_vocab": 8,
                                    "d_vocab_out": 7, "dtype": torch.float64, **change})
        ModularTransformer.from_hooked_transformer(model.state_dict(), model.cfg)  # held, no error
    model = hooked_transformer({**NANDA, "d_model": 16, "d_head": 4, "d_mlp": 16, "d_vocab": 8,
                                "d_vocab_out": 7, "normalization_type": "LNPre", "act_fn": "gelu_new"})
    with pytest.raises(ValueError, match="normalization_type is 'LNPre'.*act_fn is 'gelu_new'"):
        ModularTransformer.from_hooked_transformer(model.state_dict(), model.cfg)


if __name__ == "__main__":
    print(f"Nanda et al.'s configuration, p = 113, float64, random weights (TransformerLens "
          f"{__import__('importlib.metadata').metadata.version('transformer_lens')}):")
    for key, value in round_trip_figures(113).items():
        print(f"  {key}: {value:.3g}")
