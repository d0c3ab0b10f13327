"""Data generators and loaders returning numpy arrays."""

from grokkit.datasets.digits import load_digits_split
from grokkit.datasets.mnist import load_mnist, read_idx
from grokkit.datasets.modular import OPERATIONS, make_modular, modular_targets
from grokkit.datasets.teacher_student import make_teacher_student, teacher_forward

__all__ = ["OPERATIONS", "load_digits_split", "load_mnist", "make_modular", "make_teacher_student",
           "modular_targets", "read_idx", "teacher_forward"]
