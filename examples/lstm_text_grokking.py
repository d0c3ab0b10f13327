"""Weak grokking of an LSTM on text, offline: Omnigrok Fig. 4d on a synthetic review corpus.

Two runs of the same 2-layer LSTM on 1 000 generated reviews (750 train /
250 test, Omnigrok holds back 25 %): α = 6 with weight decay 1 (the grokking
run) and α = 1 without weight decay (the control), AdamW lr 3e-4, batch 50,
gradient clipping 5 (Omnigrok's public notebook). The corpus
(``make_sentiment_corpus``) has 20 positive and 20 negative cue words among
Zipf-distributed filler, documents of 20–60 words; ``TextSequencer`` keeps
the top 999 words and pads to 64. The hidden size is 64 (Omnigrok: 256) so
that a run takes minutes on one CPU core.

    OMP_NUM_THREADS=1 python examples/lstm_text_grokking.py                 # 300 epochs per run
    OMP_NUM_THREADS=1 python examples/lstm_text_grokking.py --epochs 100    # quick look

On a shared CPU, ``OMP_NUM_THREADS=1`` matters: the LSTM's backward pass is
~100× slower when two OpenMP threads fight for busy cores.
Writes OUT/progress_alpha{6,1}.csv and OUT/summary.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sklearn.pipeline import Pipeline

from grokkit.datasets.imdb import make_sentiment_corpus
from grokkit.estimators.lstm import GrokLSTMClassifier
from grokkit.text import TextSequencer

RUNS = {"alpha6_wd1": dict(alpha=6.0, weight_decay=1.0), "alpha1_wd0": dict(alpha=1.0, weight_decay=0.0)}


def describe(progress, name: str) -> dict:
    """Epochs at which training fits and test accuracy peaks."""
    fit = progress.index[progress.train_acc >= 0.999]
    peak = progress.test_acc.idxmax()
    near_peak = progress.index[progress.test_acc >= progress.test_acc.max() - 0.01][0]
    out = {
        "run": name,
        "train_100_epoch": int(progress.epoch[fit[0]]) if len(fit) else None,
        "test_peak_epoch": int(progress.epoch[peak]),
        "test_within_1pt_of_peak_epoch": int(progress.epoch[near_peak]),
        "test_peak_acc": float(progress.test_acc.max()),
        "test_acc_at_train_100": float(progress.test_acc[fit[0]]) if len(fit) else None,
        "final_train_acc": float(progress.train_acc.iloc[-1]),
        "final_test_acc": float(progress.test_acc.iloc[-1]),
        "weight_norm_start_end": [float(progress.weight_norm.iloc[0]), float(progress.weight_norm.iloc[-1])],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=25, help="epochs per partial_fit call")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--out", default="runs/lstm_text")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    docs, y = make_sentiment_corpus(n_documents=1000, random_state=args.seed)
    docs_train, y_train, docs_test, y_test = docs[:750], y[:750], docs[750:], y[750:]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summaries = []
    for name in args.runs:
        pipe = Pipeline([
            ("seq", TextSequencer(vocab_size=1000, maxlen=64, pad_to="maxlen")),
            ("lstm", GrokLSTMClassifier(vocab_size=1000, embedding_dim=64, hidden_size=args.hidden_size,
                                        max_epochs=args.epochs, random_state=args.seed,
                                        device=args.device, **RUNS[name])),
        ])
        # eval_set goes through the fitted sequencer: fit it first on the training text only.
        sequencer = pipe[0].fit(docs_train)
        X_train, X_test = sequencer.transform(docs_train), sequencer.transform(docs_test)
        # Train in chunks with partial_fit (progress_ continues) to print the curve as it grows.
        lstm = pipe[1].set_params(max_epochs=args.chunk)
        for _ in range(0, args.epochs, args.chunk):
            lstm.partial_fit(X_train, y_train, eval_set=(X_test, y_test))
            last = lstm.progress_.iloc[-1]
            print(f"{name} epoch {last.epoch}: train {last.train_acc:.3f} test {last.test_acc:.3f} "
                  f"test loss {last.test_loss:.3f} weight norm {last.weight_norm:.1f}", flush=True)
        progress = lstm.progress_
        progress.to_csv(out / f"progress_{name}.csv", index=False)
        shown = progress.iloc[:: max(1, len(progress) // 20)]
        print(f"== {name}")
        print(shown[["epoch", "step", "train_acc", "test_acc", "test_loss", "weight_norm",
                     "weight_entropy", "activation_sparsity"]].to_string(index=False,
                                                                          float_format=lambda v: f"{v:.4g}"))
        summaries.append(describe(progress, name))
        print(json.dumps(summaries[-1], indent=2), flush=True)
    (out / "summary.json").write_text(json.dumps(summaries, indent=2))


if __name__ == "__main__":
    main()
