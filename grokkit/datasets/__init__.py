"""Data generators and loaders returning numpy arrays."""

from grokkit.datasets.digits import load_digits_split
from grokkit.datasets.mnist import load_mnist, read_idx

__all__ = ["load_digits_split", "load_mnist", "read_idx"]
