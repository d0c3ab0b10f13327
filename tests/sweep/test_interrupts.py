"""Ctrl-C: a single fit returns (skorch) with ``interrupted_``; every multi-run stops as a whole.

SIGINT is sent to this process from a callback (``os.kill``, as Ctrl-C does).
A callback that raises ``KeyboardInterrupt`` itself (skorch's way for a rule
to stop a fit) is not an interrupt and stops only its own fit.
"""

from __future__ import annotations

import os
import signal
import warnings

import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from grokkit import GrokMLPClassifier, GrokMLPRegressor, Sweep
from grokkit.analysis.landscape import ReducedLandscape
from grokkit.datasets import make_teacher_student
from grokkit.estimators import params


class SendSigint(Callback):
    """SIGINT to this process at the end of epoch ``epoch`` of the run seeded ``seed`` (any run: None).

    Armed through a class attribute, so armed and unarmed runs have the same parameters.
    """

    armed: list[tuple[int | None, int]] = []

    def on_epoch_end(self, net, **kwargs):
        epoch = net.history[-1, "epoch"]
        for key in ((net.random_state, epoch), (None, epoch)):
            if key in SendSigint.armed:
                SendSigint.armed.remove(key)
                os.kill(os.getpid(), signal.SIGINT)
                return


class StopAt(Callback):
    """A stop rule: raises KeyboardInterrupt at epoch ``at`` (skorch's convention)."""

    def __init__(self, at=3):
        self.at = at

    def on_epoch_end(self, net, **kwargs):
        if net.history[-1, "epoch"] == self.at:
            raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def _disarm():
    SendSigint.armed = []
    yield
    SendSigint.armed = []


def _clf(**params):
    base = dict(hidden_layer_sizes=(8,), lr=1e-2, batch_size=30, measures=None, max_epochs=8, measure_every=2,
                callbacks=[SendSigint()])
    return GrokMLPClassifier(**{**base, **params})


def test_a_single_fit_returns_on_ctrl_c_and_records_it(blobs):
    X, y = blobs
    SendSigint.armed = [(0, 5)]
    with pytest.warns(UserWarning, match="Training interrupted"):
        clf = _clf(random_state=0).fit(X, y)
    assert clf.interrupted_ and clf.stopped_by_ is None and len(clf.history) == 5
    stopped = _clf(random_state=0, callbacks=[StopAt(3)]).fit(X, y)
    assert not stopped.interrupted_ and stopped.stopped_by_ == "StopAt" and len(stopped.history) == 3
    assert not _clf(random_state=0).fit(X, y).interrupted_


@pytest.mark.parametrize("vectorize", [False, True])
def test_a_sweep_stops_as_a_whole_says_how_to_resume_and_resumes_from_memory(blobs, tmp_path, capsys,
                                                                             vectorize, monkeypatch):
    X, y = blobs
    # SendSigint only reads the history (as the allow-listed stop rules do): let it stack here
    monkeypatch.setattr(params, "STACKED_CALLBACKS",
                        (*params.STACKED_CALLBACKS, f"{SendSigint.__module__}.{SendSigint.__qualname__}"))
    reference = Sweep(_clf(), seeds=3, vectorize=vectorize, max_stacked=1).fit(X, y)
    SendSigint.armed = [(1, 4)]
    memory = tmp_path / "memory"
    with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Training interrupted")
        Sweep(_clf(), seeds=3, vectorize=vectorize, max_stacked=1, memory=str(memory)).fit(X, y)
    assert SendSigint.armed == []  # the signal was sent, in the second run
    err = capsys.readouterr().err
    assert (f"Sweep interrupted: 1 of 3 runs had finished and are kept in memory={str(memory)!r}. "
            "Fit the same sweep again with that memory to train only the missing runs.") in err
    resumed = Sweep(_clf(), seeds=3, vectorize=vectorize, max_stacked=1, memory=str(memory)).fit(X, y)
    assert resumed.n_trained_ == 2 and resumed.results_.executor.tolist()[0] == "memory"
    pd.testing.assert_frame_equal(resumed.progress_, reference.progress_)


def test_a_sweep_without_memory_says_its_runs_are_not_kept(blobs, capsys):
    X, y = blobs
    SendSigint.armed = [(0, 2)]
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="Training interrupted"):
        Sweep(_clf(), seeds=2, vectorize=False).fit(X, y)
    assert "Sweep interrupted: 0 of 2 runs had finished; they are not kept (memory=None)" in \
        capsys.readouterr().err


def test_a_stop_rule_does_not_stop_the_sweep(blobs):
    X, y = blobs
    sweep = Sweep(_clf(callbacks=[StopAt(3)]), seeds=3, vectorize=False).fit(X, y)
    assert sweep.results_.stopped_by.tolist() == ["StopAt"] * 3
    assert [len(e.history) for e in sweep.estimators_] == [3, 3, 3]


def test_reduced_landscape_stops_as_a_whole_with_its_own_hint(capsys):
    X, y, X_test, y_test = make_teacher_student(widths=(4,), n_train=40, n_test=40, random_state=0)
    student = GrokMLPRegressor(hidden_layer_sizes=(4,), batch_size=None, max_epochs=30, measure_every=5,
                               callbacks=[SendSigint()])
    landscape = ReducedLandscape(student, alphas=[0.5, 1.0, 2.0], max_steps=None, window=5, random_state=0)
    SendSigint.armed = [(None, 10)]
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="Training interrupted"):
        landscape.fit(X, y, eval_set=(X_test, y_test))
    err = capsys.readouterr().err
    assert "ReducedLandscape interrupted: 0 of 3 points had been tabulated" in err
    assert "Sweep interrupted" not in err  # one hint: the outermost multi-run's


def test_an_analyzer_names_the_budget_that_replaces_the_users_max_epochs():
    X, y, X_test, y_test = make_teacher_student(widths=(4,), n_train=40, n_test=40, random_state=0)
    student = GrokMLPRegressor(hidden_layer_sizes=(4,), batch_size=None, max_epochs=30)
    with pytest.warns(UserWarning, match=r"for at most max_steps=20 optimizer steps .* not the estimator's "
                                         r"max_epochs=30\. Pass max_steps=None"):
        ReducedLandscape(student, alphas=[1.0], max_steps=20, window=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)  # window=5 of 30 epochs
        warnings.filterwarnings("ignore", message=".*without eval_set")  # a train-only landscape
        # the estimator's own budget, or no budget set by the user: nothing to say
        ReducedLandscape(student, alphas=[1.0], max_steps=None, window=5, random_state=0).fit(X, y)
        ReducedLandscape(GrokMLPRegressor(hidden_layer_sizes=(4,), batch_size=None), alphas=[1.0],
                         max_steps=20, window=5, random_state=0).fit(X, y)
