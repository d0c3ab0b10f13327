"""Analyses fitted over trained models or recorded activations."""

from grokkit.analysis.activations import HiddenActivations, hidden_activations
from grokkit.analysis.checkpoints import load_kept_checkpoints, progress_from_checkpoints
from grokkit.analysis.landscape import ReducedLandscape
from grokkit.analysis.messiness import MessinessLandscape, make_messy_addition, messy_representation
from grokkit.analysis.oinfo import OInformationAnalyzer
from grokkit.analysis.subnetwork import retrain_masked, synergistic_subnetwork
from grokkit.analysis.timing import TimeToGeneralize, loglog_slope
from grokkit.progress import grokking_summary

__all__ = [
    "HiddenActivations",
    "MessinessLandscape",
    "OInformationAnalyzer",
    "ReducedLandscape",
    "TimeToGeneralize",
    "grokking_summary",
    "hidden_activations",
    "load_kept_checkpoints",
    "loglog_slope",
    "make_messy_addition",
    "messy_representation",
    "progress_from_checkpoints",
    "retrain_masked",
    "synergistic_subnetwork",
]
