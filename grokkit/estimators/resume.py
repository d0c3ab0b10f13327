"""Resumable runs (``checkpoint_dir``): what a checkpoint holds, and how a fit continues from it.

A checkpoint is one file, ``checkpoint.pt``, rewritten atomically (temporary
name, then ``os.replace``) at every recorded epoch, and between them at the
end of the first epoch after ``checkpoint_every`` steps or seconds, beside ``progress.csv``.
It holds everything the rest of the run depends on: the module and optimizer
states, the history and epoch-0 record, the step count, the global torch RNG
(CPU and CUDA) and the minibatch shuffle generator, every callback's state,
and a fingerprint of the parameters and the data. The kept checkpoints of
``keep_checkpoints=True`` are written once each, as ``kept/<epoch>.pt``. A
later ``fit`` whose fingerprint matches continues from it and produces the
same ``progress_`` and parameters as a run that was never interrupted.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch.history import History
from torch import nn

from grokkit.callbacks import SplitData

CHECKPOINT_FILE = "checkpoint.pt"
PROGRESS_FILE = "progress.csv"
#: Bumped when the file's layout changes; an older file is refused, not misread.
FORMAT = 1
#: Parameters that may differ between the interrupted fit and the resuming one.
_FREE = frozenset({"verbose", "checkpoint_dir", "checkpoint_every", "max_epochs", "flush_denormal"})


def fingerprint(net: Any, train: SplitData, valid: SplitData | None) -> dict[str, str]:
    """What must match for a checkpoint to continue this fit: parameters (as repr) and data digests."""
    params = net.get_params(deep=False)
    out = {name: describe_param(value) for name, value in sorted(params.items()) if name not in _FREE}
    digest = hashlib.sha256()
    for split in (train, valid):
        for tensor in () if split is None else (split.X, split.target):
            digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    out["data"] = digest.hexdigest()[:16]
    return out


def describe_param(value: Any) -> str:
    """A parameter as text that is equal exactly when the runs would be: callbacks and estimators by
    class and parameters, callables by qualified name, the rest by ``repr``."""
    if isinstance(value, list):  # callbacks: their classes and parameters
        return repr([describe_param(v) for v in value])
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return f"({value[0]!r}, {describe_param(value[1])})"
    if hasattr(value, "get_params") and not isinstance(value, type):
        return f"{type(value).__name__}({sorted(value.get_params().items())!r})"
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__qualname__", type(value).__name__)
    return repr(value)


def load_for(net: Any, train: SplitData, valid: SplitData | None) -> dict[str, Any] | None:
    """The checkpoint in ``net.checkpoint_dir`` if there is one; ``ValueError`` if it is another run's."""
    path = Path(net.checkpoint_dir) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=net.device_, weights_only=False)
    except Exception as exc:  # a truncated or foreign file: say which, never restart silently
        raise ValueError(f"checkpoint_dir holds an unreadable checkpoint {path} ({exc}); delete it "
                         "to start the run afresh.") from exc
    if not isinstance(state, Mapping) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a grokkit checkpoint of format {FORMAT}; delete it to start afresh.")
    expected = fingerprint(net, train, valid)
    differ = [f"{k} is {state['fingerprint'].get(k, '(absent)')} there and {v} here"
              for k, v in expected.items() if state["fingerprint"].get(k) != v]
    if differ:
        raise ValueError(
            f"checkpoint_dir={str(net.checkpoint_dir)!r} holds a checkpoint of a different run: "
            f"{'; '.join(differ)}. Use another checkpoint_dir, or delete {path} to start afresh."
        )
    return state


def save(net: Any, done: bool) -> None:
    """Write the checkpoint and ``progress.csv`` of the current (recorded) epoch, atomically."""
    from grokkit.progress import progress_frame

    directory = Path(net.checkpoint_dir)
    directory.mkdir(parents=True, exist_ok=True)
    cuda = net.device_.type == "cuda"
    state = {
        "format": FORMAT,
        "fingerprint": net._fingerprint,
        "done": done,
        "epoch": int(net.history[-1]["epoch"]),
        "module": net.module_.state_dict(),
        "optimizer": net.optimizer_.state_dict(),
        "history": net.history.to_list(),
        "initial_record": dict(net.initial_record_),
        "n_steps": int(net.n_steps_),
        "stopped_by": getattr(net, "stopped_by_", None),
        "checkpoints": _save_kept(net, directory),
        "rng": {"torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(net.device_) if cuda else None,
                "shuffle": net._shuffle_generator.get_state()},
        "callbacks": callback_states(net),
    }
    _atomic(directory / CHECKPOINT_FILE, lambda f: torch.save(state, f))
    frame = progress_frame(net.history, net.initial_record_)
    _atomic(directory / PROGRESS_FILE, lambda f: frame.to_csv(f, index=False))


def _save_kept(net: Any, directory: Path) -> list[int]:
    """Write each kept checkpoint (``keep_checkpoints``) once, as ``kept/<epoch>.pt``; return their epochs.

    They are the bulk of a run's state, so they are not rewritten at every
    recorded epoch with the rest.
    """
    kept = directory / "kept"
    if net.checkpoints_:
        kept.mkdir(exist_ok=True)
    for epoch, state in net.checkpoints_.items():
        path = kept / f"{epoch}.pt"
        if not path.exists():
            _atomic(path, lambda f, state=state: torch.save(state, f))
    return sorted(net.checkpoints_)


def _atomic(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def restore_before_train_begin(net: Any, state: dict[str, Any]) -> None:
    """What callbacks read in ``on_train_begin``: module, optimizer, history, step count."""
    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history_ = History(state["history"])
    net.initial_record_ = dict(state["initial_record"])
    net.n_steps_ = int(state["n_steps"])
    kept = Path(net.checkpoint_dir) / "kept"
    net.checkpoints_ = {epoch: torch.load(kept / f"{epoch}.pt", map_location="cpu", weights_only=True)
                        for epoch in state["checkpoints"]}


def restore_after_train_begin(net: Any, state: dict[str, Any]) -> None:
    """Undo what ``on_train_begin`` set afresh: callback states, parameters, optimizer, RNGs."""
    load_callback_states(net, state["callbacks"])
    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"]["torch"].cpu())
    if state["rng"]["cuda"] is not None and net.device_.type == "cuda":
        torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), net.device_)
    net._shuffle_generator.set_state(state["rng"]["shuffle"].cpu())


def callback_states(net: Any) -> dict[str, dict[str, Any]]:
    """Each callback's fitted state: public attributes ending in ``_`` that are plain data.

    Objects with a ``state_dict`` (learning-rate schedulers) are saved through
    it; progress bars, writers and references to the module's parameters are
    not state and are rebuilt by the callback's ``on_train_begin``.
    """
    states = {}
    for name, cb in net.callbacks_:
        saved = {}
        for key, value in vars(cb).items():
            if not key.endswith("_") or key.startswith("_"):
                continue
            if _plain(value):
                saved[key] = ("value", value)
            elif hasattr(value, "state_dict") and hasattr(value, "load_state_dict") \
                    and not isinstance(value, (nn.Module, type)):
                saved[key] = ("state_dict", value.state_dict())
        states[name] = saved
    return states


def load_callback_states(net: Any, states: Mapping[str, Mapping[str, Any]]) -> None:
    callbacks = dict(net.callbacks_)
    for name, saved in states.items():
        cb = callbacks.get(name)
        if cb is None:
            continue
        for key, (kind, value) in saved.items():
            if kind == "state_dict":
                getattr(cb, key).load_state_dict(value)
            else:
                setattr(cb, key, value)


def _plain(value: Any) -> bool:
    if isinstance(value, nn.Parameter):
        return False
    if value is None or isinstance(value, (bool, int, float, str, np.ndarray, np.generic, torch.Tensor)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in value.items())
    return False
