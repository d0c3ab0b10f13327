"""Ctrl-C in a script of two fits and a Sweep: what stops, what is printed, what resumes.

Session 1 sends SIGINT to this process (``os.kill``, as Ctrl-C does) during
the second fit: that fit returns as in skorch, with ``interrupted_ = True``;
the script sees it and goes on to the Sweep, which is interrupted again
during its second run and stops as a whole, printing how to resume.
Session 2 runs the same script without the signals: the first fit returns
its finished checkpoint, the second continues from its last checkpoint
(``checkpoint_every`` steps, besides the recorded epochs), and the Sweep
trains only the runs missing from ``memory``. Every ``progress_`` is then
compared with an uninterrupted session's.

Run: ``PYTHONPATH=. python examples/interrupt_demo.py`` (about a minute on one CPU core).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from grokkit import GrokMLPClassifier, Sweep
from grokkit.datasets import load_digits_split

EPOCHS = 150
#: The epoch of the second fit at whose end SIGINT is sent (between two recorded epochs).
INTERRUPT_AT = 111


class SendSigint(Callback):
    """Sends SIGINT to this process at the end of epoch ``at`` of the run with seed ``seed``.

    Armed through class attributes, so that the callback's parameters, and
    with them the runs' checkpoint fingerprints, are those of an unarmed run.
    """

    armed: list[tuple[int, int]] = []  # (random_state, epoch)

    def on_epoch_end(self, net, **kwargs):
        key = (net.random_state, net.history[-1, "epoch"])
        if key in SendSigint.armed:
            SendSigint.armed.remove(key)
            print(f"    >>> SIGINT sent at epoch {key[1]} of the run with seed {key[0]}", flush=True)
            os.kill(os.getpid(), signal.SIGINT)


def estimator(seed: int, **params) -> GrokMLPClassifier:
    return GrokMLPClassifier(hidden_layer_sizes=(32,), alpha=4.0, loss="mse", weight_decay=0.1,
                             batch_size=100, lr=3e-3, max_epochs=EPOCHS, measures=("weight_norm",),
                             random_state=seed, callbacks=[SendSigint()], **params)


def session(folder: Path | None, data) -> dict[str, object]:
    """The user's script: two fits and a three-seed Sweep (resumable when ``folder`` is given)."""
    X, y, X_test, y_test = data
    resumable = {} if folder is None else {"checkpoint_dir": folder / "first"}
    first = estimator(11, **resumable).fit(X, y, eval_set=(X_test, y_test))
    print(f"  first fit:  interrupted_={first.interrupted_}, epochs in progress_ up to "
          f"{first.progress_.epoch.iloc[-1]}")
    resumable = {} if folder is None else {"checkpoint_dir": folder / "second", "checkpoint_every": 15}
    second = estimator(12, **resumable).fit(X, y, eval_set=(X_test, y_test))
    print(f"  second fit: interrupted_={second.interrupted_}, epochs in progress_ up to "
          f"{second.progress_.epoch.iloc[-1]}")
    sweep = Sweep(estimator(0), seeds=3, vectorize=False,
                  memory=None if folder is None else folder / "sweep")
    try:
        sweep.fit(X, y, eval_set=(X_test, y_test))
    except KeyboardInterrupt:
        print("  the Sweep raised KeyboardInterrupt: the script stops here", flush=True)
        return {"first": first, "second": second, "sweep": None}
    print(f"  sweep: {sweep.n_trained_} runs trained, executors {sorted(set(sweep.results_.executor))}")
    return {"first": first, "second": second, "sweep": sweep}


def max_abs_diff(a, b) -> float:
    numeric = a.select_dtypes("number").columns
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    return float(np.nanmax(np.abs(a[numeric].to_numpy(float) - b[numeric].to_numpy(float))))


def main() -> int:
    torch.set_num_threads(1)
    data = load_digits_split(n_train=300, random_state=0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("Reference session (no interrupt):")
        start = time.perf_counter()
        reference = session(None, data)
        print(f"  ({time.perf_counter() - start:.1f} s)")

        print(f"\nSession 1: SIGINT at epoch {INTERRUPT_AT} of the second fit, then at epoch 60 of the "
              "sweep's 2nd run")
        SendSigint.armed = [(12, INTERRUPT_AT), (1, 60)]
        one = session(folder, data)
        saved = torch.load(folder / "second" / "checkpoint.pt", weights_only=False)
        recorded = [e for e in one["second"].progress_.epoch if e < INTERRUPT_AT]
        print(f"  the second fit's last checkpoint (checkpoint_every=15 steps = 5 epochs): epoch "
              f"{saved['epoch']} (step {saved['n_steps']}); without checkpoint_every it would be the last "
              f"recorded epoch, {recorded[-1]}")
        print(f"  sweep memory holds {len(list((folder / 'sweep').rglob('*.pkl')))} finished run(s)")

        print("\nSession 2: the same script again, no signal")
        SendSigint.armed = []
        two = session(folder, data)

        print("\nSession 2 against the reference session (max |difference| over every numeric column):")
        for name in ("first", "second"):
            diff = max_abs_diff(two[name].progress_, reference[name].progress_)
            print(f"  {name} fit progress_: {diff:g} ({len(two[name].progress_)} rows)")
        diff = max_abs_diff(two["sweep"].progress_, reference["sweep"].progress_)
        print(f"  sweep progress_: {diff:g} ({len(two['sweep'].progress_)} rows); executors "
              f"{two['sweep'].results_.executor.tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
