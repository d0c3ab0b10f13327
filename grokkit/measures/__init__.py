"""Progress measures: pure functions of (module, data) -> float or dict of floats.

A measure never trains and never changes the module it reads. Every measure
here is also registered by name (the :func:`~grokkit.measures.registry.measure`
decorator above its definition), so estimators record it with
``measures=["weight_entropy", ...]``.
"""

from grokkit.measures._capture import capture, hidden_modules
from grokkit.measures.activations import activation_sparsity
from grokkit.measures.circuit import circuit_complexity
from grokkit.measures.fourier import (
    embedding_fourier_norms,
    excluded_loss,
    fourier_basis,
    fourier_basis_names,
    fourier_gini,
    key_frequencies,
    n_key_frequencies,
    restricted_loss,
)
from grokkit.measures.group_laws import (
    associativity,
    commutativity,
    commutativity_distance,
    doubling,
    identity_law,
)
from grokkit.measures.matrix_info import (
    entropy_difference,
    matrix_entropy,
    matrix_joint_entropy,
    matrix_js_divergence,
    matrix_mutual_information,
    mutual_information_difference,
    perturb_entropy,
    perturb_mutual_information,
    representation_entropy,
)
from grokkit.measures.oinfo import (
    gaussian_copula,
    gaussian_entropy,
    o_information,
    o_information_group_multiplets,
    o_information_multiplets,
)
from grokkit.measures.registry import (
    Measure,
    MeasureContext,
    available_measures,
    get_measure,
    measure,
    register,
    resolve_measures,
)
from grokkit.measures.representation import nearest_neighbour_accuracy
from grokkit.measures.sharpness import hessian_trace
from grokkit.measures.stability import nlm_alignment, softmax_collapse
from grokkit.measures.weights import weight_entropy, weight_norm

__all__ = [
    "Measure",
    "MeasureContext",
    "activation_sparsity",
    "associativity",
    "available_measures",
    "capture",
    "circuit_complexity",
    "commutativity",
    "commutativity_distance",
    "doubling",
    "embedding_fourier_norms",
    "entropy_difference",
    "excluded_loss",
    "fourier_basis",
    "fourier_basis_names",
    "fourier_gini",
    "gaussian_copula",
    "gaussian_entropy",
    "get_measure",
    "hessian_trace",
    "hidden_modules",
    "identity_law",
    "key_frequencies",
    "matrix_entropy",
    "matrix_joint_entropy",
    "matrix_js_divergence",
    "matrix_mutual_information",
    "measure",
    "mutual_information_difference",
    "n_key_frequencies",
    "nearest_neighbour_accuracy",
    "nlm_alignment",
    "o_information",
    "o_information_group_multiplets",
    "o_information_multiplets",
    "perturb_entropy",
    "perturb_mutual_information",
    "register",
    "representation_entropy",
    "resolve_measures",
    "restricted_loss",
    "softmax_collapse",
    "weight_entropy",
    "weight_norm",
]
