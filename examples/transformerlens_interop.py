"""grokkit and TransformerLens: hooks, activation patching, checkpoints in and out, progress over checkpoints.

Trains Nanda et al.'s transformer (d_model 128, 4 heads of 32, d_mlp 512) on
``a + b mod 59`` for a few hundred epochs, then prints:

1. through ``est.hooked()`` (TransformerLens >= 4: ``pip install "grokkit[interp]"``):
   the largest difference between the cached ``blocks.0.mlp.hook_post`` at ``=``
   and the activations grokkit's measures read, and between the logits; then an
   activation-patching experiment with ``transformer_lens.patching``;
2. ``progress_`` rebuilt from the run's own checkpoints (``checkpoints_`` and
   ``checkpoint_dir``) against the recorded one: the largest difference per column;
3. ``to_hooked_transformer`` then ``from_hooked_transformer``: the largest logit difference;
4. the refusal messages for models grokkit cannot hold.

    python examples/transformerlens_interop.py [--epochs 300]
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch

from grokkit import ModularTransformer
from grokkit.analysis import progress_from_checkpoints
from grokkit.datasets import make_modular
from grokkit.experiments.fourier_progress_measures import MEASURES
from grokkit.measures import capture
from grokkit.models.hooked_format import net_params_from_hooked, state_dict_from_hooked

P = 59


def main(epochs: int) -> None:
    X, y, X_test, y_test = make_modular(p=P, train_fraction=0.3, random_state=0)
    directory = tempfile.mkdtemp()
    est = ModularTransformer(p=P, max_epochs=epochs, measures=MEASURES + ("activation_sparsity",),
                             keep_checkpoints=True, checkpoint_dir=directory, random_state=0)
    est.fit(X, y, eval_set=(X_test, y_test))
    last = est.progress_.iloc[-1]
    print(f"trained {epochs} epochs: train acc {last['train_acc']:.3f}, test acc {last['test_acc']:.3f}")

    print("\n1. est.hooked()")
    from transformer_lens import patching

    model = est.hooked()
    logits, cache = model.run_with_cache(X)
    logits = logits.detach()
    grokkit_logits, activations = capture(est.module_, X)
    post = cache["blocks.0.mlp.hook_post"][:, -1]
    print(f"  max |hook_post[:, -1] - measures' blocks.0.mlp.act| = "
          f"{float((post - activations['blocks.0.mlp.act']).abs().max()):.3g} ({est.dtype})")
    logit_diff = float((logits[:, -1] - grokkit_logits).abs().max())
    print(f"  max |logits[:, -1] - grokkit logits| = {logit_diff:.3g}")
    clean = model.tokens([(a, 1) for a in range(P)])
    corrupted = model.tokens([(a, 4) for a in range(P)])
    answers = (torch.arange(P) + 1) % P
    clean_logits, clean_cache = model.run_with_cache(clean)
    clean_logits = clean_logits.detach()

    def metric(out: torch.Tensor) -> torch.Tensor:
        return out[:, -1].gather(1, answers[:, None]).mean()

    effect = patching.get_act_patch_attn_head_out_by_pos(model, corrupted, clean_cache, metric)
    effect = torch.as_tensor(effect)
    print("  patching each head's output (hook_z) from 'a + 1' into 'a + 4', metric = mean logit of a + 1:")
    print(f"    clean {float(metric(clean_logits)):.4f}, "
          f"corrupted {float(metric(model(corrupted).detach())):.4f}")
    for position in range(3):
        print(f"    position {position}: " + ", ".join(f"head {h} {float(effect[0, position, h]):.4f}"
                                                  for h in range(effect.shape[2])))

    def patch_last(z: torch.Tensor, hook: object) -> torch.Tensor:
        z[:, -1] = clean_cache["blocks.0.attn.hook_z"][:, -1]
        return z

    patched = model.run_with_hooks(corrupted, fwd_hooks=[("blocks.0.attn.hook_z", patch_last)]).detach()
    print(f"    all heads at '=' patched: max |logits - clean logits| = "
          f"{float((patched[:, -1] - clean_logits[:, -1]).abs().max()):.3g}")

    print("\n2. progress_ rebuilt from the run's checkpoints vs the recorded progress_")
    for source, checkpoints in (("checkpoints_", est.checkpoints_), ("checkpoint_dir", directory)):
        rebuilt = progress_from_checkpoints(est, checkpoints, X, y, eval_set=(X_test, y_test))
        assert list(rebuilt.columns) == list(est.progress_.columns)
        diff = (rebuilt - est.progress_).abs().max()
        print(f"  from {source}: {len(rebuilt)} rows x {rebuilt.shape[1]} columns, largest difference "
              f"{diff.max():.3g}; per column: " + ", ".join(f"{k} {v:.3g}" for k, v in diff.items()
                                                         if not k.startswith("embedding_fourier_norms/")))

    print("\n3. to_hooked_transformer, then from_hooked_transformer")
    state, config = est.to_hooked_transformer()
    again = ModularTransformer.from_hooked_transformer(state, config)
    pairs = np.array([(a, b) for a in range(P) for b in range(P)])
    print(f"  max |logit difference| over all p² = {P * P} pairs: "
          f"{np.abs(again._predict_outputs(pairs).numpy() - est._predict_outputs(pairs).numpy()).max():.3g}")

    print("\n4. refusals")
    for change in ({"normalization_type": "LNPre"}, {"normalization_type": "RMS"}, {"act_fn": "gelu_new"},
                   {"n_ctx": 4}, {"d_vocab_out": P + 1}):
        try:
            net_params_from_hooked({**config, **change})
        except ValueError as exc:
            print(f"  {change}: {exc}")
    try:
        state_dict_from_hooked({**state, "blocks.1.attn.W_Q": state["blocks.0.attn.W_Q"]}, config)
    except ValueError as exc:
        print(f"  a second layer's tensors under n_layers=1: {exc}")
    for change in ({"normalization_type": "LN"}, {"n_layers": 2}):
        held = net_params_from_hooked({**config, **change})
        print(f"  {change}: held, as ModularTransformer(n_layers={held['n_layers']}, "
              f"use_layernorm={held['use_layernorm']})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    main(parser.parse_args().epochs)
