"""skorch's own LRScheduler on grokkit estimators: schedules start at 0 on fit and continue on partial_fit."""

import pytest
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import LambdaLR, StepLR

from grokkit import GrokMLPClassifier


def _clf(callback, **params):
    return GrokMLPClassifier(hidden_layer_sizes=(8,), lr=0.1, measures=None, random_state=0,
                             callbacks=[callback], **params)


def test_step_decay_per_epoch_and_resumed_by_partial_fit(blobs):
    X, y = blobs
    clf = _clf(LRScheduler(StepLR, step_size=2, gamma=0.5), max_epochs=5, batch_size=-1).fit(X, y)
    # the lr used in epochs 1..5: 0.1, 0.1, 0.05, 0.05, 0.025; stepped after epoch 5 -> 0.025
    assert clf.history[:, "event_lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(0.025)
    clf.partial_fit(X, y)  # epochs 6..10 continue the schedule instead of restarting it
    assert clf.history[5:, "event_lr"] == pytest.approx([0.025, 0.0125, 0.0125, 0.00625, 0.00625])
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(0.003125)


def test_linear_warmup_per_optimizer_step(blobs):
    X, y = blobs
    warmup = LRScheduler(LambdaLR, lr_lambda=lambda step: min((step + 1) / 10, 1.0), step_every="batch")
    clf = _clf(warmup, max_epochs=2, batch_size=30).fit(X, y)  # 90 samples: 3 steps per epoch
    assert clf.n_steps_ == 6
    # a per-batch callback gets skorch's per-batch history rows: the lr of each of the 6 steps
    assert clf.history[:, "batches", :, "event_lr"] == [pytest.approx([0.01, 0.02, 0.03]),
                                                          pytest.approx([0.04, 0.05, 0.06])]
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(0.1 * 7 / 10)
