"""Analyses fitted over trained models or recorded activations."""

from grokkit.analysis.oinfo import OInformationAnalyzer
from grokkit.progress import grokking_summary

__all__ = ["OInformationAnalyzer", "grokking_summary"]
