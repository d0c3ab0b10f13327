"""A tqdm bar over epochs showing the latest recorded accuracies."""

from __future__ import annotations

from typing import Any

from skorch.callbacks import Callback

from grokkit.progress import is_recorded


class EpochProgressBar(Callback):
    """One tqdm bar per ``fit``, advanced every epoch.

    The postfix shows ``train_acc`` and ``test_acc`` of the latest recorded
    epoch. tqdm redraws at most every ``mininterval`` seconds, so the bar
    costs about a microsecond per epoch.
    """

    def __init__(self, mininterval: float = 0.5) -> None:
        self.mininterval = mininterval

    def on_train_begin(self, net: Any, epochs: int = 0, **kwargs: Any) -> None:
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=epochs, desc=type(net).__name__, unit="epoch",
                         mininterval=self.mininterval, leave=True)

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        row = net.history[-1]
        if is_recorded(row):
            postfix = {"train_acc": f"{row['train_acc']:.3f}"}
            if "test_acc" in row:
                postfix["test_acc"] = f"{row['test_acc']:.3f}"
            self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        bar = getattr(self, "bar_", None)
        if bar is not None:
            bar.close()
            del self.bar_
