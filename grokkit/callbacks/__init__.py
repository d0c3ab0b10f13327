"""skorch callbacks that add grokkit's behaviour to a training run."""

from grokkit.callbacks.data import SplitData
from grokkit.callbacks.grokfast import Grokfast
from grokkit.callbacks.noise import InputNoise
from grokkit.callbacks.norm import NormConstraint
from grokkit.callbacks.progress_bar import EpochProgressBar
from grokkit.callbacks.recording import ProgressRecorder
from grokkit.callbacks.stopping import StopWhenConverged, StopWhenGrokked

__all__ = [
    "EpochProgressBar", "Grokfast", "InputNoise", "NormConstraint", "ProgressRecorder", "SplitData",
    "StopWhenConverged", "StopWhenGrokked",
]
