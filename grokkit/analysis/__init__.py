"""Analyses fitted over trained models or recorded activations."""

from grokkit.progress import grokking_summary

__all__ = ["grokking_summary"]
