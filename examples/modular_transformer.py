"""Grokking modular addition with Nanda et al.'s one-layer transformer (Omnigrok §5, Fig. 7).

By default p = 113, 30 % of the pairs for training (--p, --train-fraction), full-batch
AdamW lr 1e-3, betas (0.9, 0.98), weight decay 1. The network memorises within a few
hundred epochs and generalises thousands of epochs later. With ``--constrained`` it runs
Omnigrok's Fig. 7b instead: α = 0.8 at a fixed weight norm, weight decay 0, where train and
test rise together.

    python examples/modular_transformer.py [--epochs 15000] [--device cuda] [--constrained]

On 2 CPU cores a full-batch step takes about 0.03-0.04 s (15 000 epochs: ~10 min);
on a GPU use --device cuda. Writes OUT/progress.csv, OUT/summary.json, OUT/grokking.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from grokkit import ModularTransformer
from grokkit.datasets import make_modular
from grokkit.plotting import plot_progress


def run_title(model: ModularTransformer, X) -> str:
    """The plot's title, read from the fitted model and its training data (not from defaults)."""
    p = model.p_
    fraction = len(X) / p**2
    setting = (f"α = {model.alpha:g}, constrained norm" if model.constrain_norm is not False else "")
    decay = f"wd {model.weight_decay:g}"
    return (f"modular {model.operation}, p = {p}, {fraction:.0%} of the pairs ({len(X)}), "
            + ", ".join(part for part in (setting, decay) if part))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15000)
    parser.add_argument("--p", type=int, default=113)
    parser.add_argument("--train-fraction", type=float, default=0.3)
    parser.add_argument("--constrained", action="store_true",
                        help="alpha=0.8 at constant weight norm, weight decay 0 (Omnigrok Fig. 7b)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="float64 as Nanda/Omnigrok (no late loss spikes, ~2x slower on CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    # Late in the run Adam's state fills with subnormal floats, which x86 CPUs process many times
    # slower. Flushing them must be switched on before torch starts its worker threads (the mode is
    # per thread), so here, before any torch work; flush_denormal=True below covers the main thread.
    torch.set_flush_denormal(True)
    out = Path(args.out or ("runs/transformer_constrained" if args.constrained else "runs/transformer"))

    X, y, X_test, y_test = make_modular(p=args.p, operation="add",
                                        train_fraction=args.train_fraction, random_state=args.seed)
    extra = dict(alpha=0.8, constrain_norm=True, weight_decay=0.0) if args.constrained else {}
    model = ModularTransformer(p=args.p, max_epochs=args.epochs, device=args.device, dtype=args.dtype,
                               flush_denormal=True, random_state=args.seed, verbose=1, **extra)
    start = time.perf_counter()
    model.fit(X, y, eval_set=(X_test, y_test))
    seconds = time.perf_counter() - start

    progress = model.progress_
    shown = progress.iloc[:: max(1, len(progress) // 20)]
    print(shown[["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "weight_norm",
                 "commutativity"]].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    summary = model.grokking_summary()
    summary.update(seconds=seconds, seconds_per_step=seconds / model.n_steps_, device=args.device,
                   constrained=args.constrained)
    print(json.dumps(summary, indent=2))
    out.mkdir(parents=True, exist_ok=True)
    progress.to_csv(out / "progress.csv", index=False)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    title = run_title(model, X)
    fig = plot_progress(progress, measures=["weight_norm", "weight_entropy", "commutativity"],
                        x="epoch", title=title)
    fig.savefig(out / "grokking.png", dpi=110)
    print(f"wrote {out}/progress.csv, summary.json, grokking.png")


if __name__ == "__main__":
    main()
