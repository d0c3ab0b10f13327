"""skorch callbacks that add grokkit's behaviour to a training run."""

from grokkit.callbacks.data import SplitData
from grokkit.callbacks.norm import NormConstraint
from grokkit.callbacks.progress_bar import EpochProgressBar
from grokkit.callbacks.recording import ProgressRecorder

__all__ = ["EpochProgressBar", "NormConstraint", "ProgressRecorder", "SplitData"]
