"""Data generators and loaders returning numpy arrays."""

from grokkit.datasets.digits import load_digits_split
from grokkit.datasets.mnist import load_mnist, read_idx
from grokkit.datasets.modular import OPERATIONS, make_modular, modular_targets

__all__ = ["OPERATIONS", "load_digits_split", "load_mnist", "make_modular", "modular_targets", "read_idx"]
