"""Data generators and loaders returning numpy arrays."""

from grokkit.datasets.digits import load_digits_split
from grokkit.datasets.imdb import load_imdb, make_sentiment_corpus
from grokkit.datasets.mnist import load_mnist, read_idx
from grokkit.datasets.modular import OPERATIONS, make_modular, modular_targets
from grokkit.datasets.molecules import load_qm9, make_molecular_graphs
from grokkit.datasets.teacher_student import make_teacher_student, teacher_forward

__all__ = [
    "OPERATIONS",
    "load_digits_split",
    "load_imdb",
    "load_mnist",
    "load_qm9",
    "make_modular",
    "make_molecular_graphs",
    "make_sentiment_corpus",
    "make_teacher_student",
    "modular_targets",
    "read_idx",
    "teacher_forward",
]
