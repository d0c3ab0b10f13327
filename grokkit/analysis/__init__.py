"""Analyses fitted over trained models or recorded activations."""

from grokkit.analysis.activations import HiddenActivations, hidden_activations
from grokkit.analysis.oinfo import OInformationAnalyzer
from grokkit.progress import grokking_summary

__all__ = ["HiddenActivations", "OInformationAnalyzer", "grokking_summary", "hidden_activations"]
