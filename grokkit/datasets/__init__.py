"""Data generators and loaders returning numpy arrays."""

from grokkit.datasets.digits import load_digits_split
from grokkit.datasets.imdb import load_imdb, make_sentiment_corpus
from grokkit.datasets.mnist import load_mnist, read_idx
from grokkit.datasets.modular import OPERATIONS, make_modular, modular_targets
from grokkit.datasets.molecules import make_molecular_graphs
from grokkit.datasets.parity import make_sparse_parity
from grokkit.datasets.permutations import compose_permutations, make_permutation_composition
from grokkit.datasets.qm9 import load_qm9
from grokkit.datasets.teacher_student import make_teacher_student, teacher_forward

__all__ = [
    "OPERATIONS",
    "compose_permutations",
    "load_digits_split",
    "load_imdb",
    "load_mnist",
    "load_qm9",
    "make_modular",
    "make_molecular_graphs",
    "make_permutation_composition",
    "make_sentiment_corpus",
    "make_sparse_parity",
    "make_teacher_student",
    "modular_targets",
    "read_idx",
    "teacher_forward",
]
