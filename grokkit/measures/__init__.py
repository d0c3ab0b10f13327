"""Progress measures: pure functions of (module, data) -> float or dict of floats.

A measure never trains and never changes the module it reads. Every measure
here is also registered by name, so estimators record it with
``measures=["weight_entropy", ...]``.
"""

from grokkit.measures._capture import capture, hidden_modules
from grokkit.measures.activations import activation_sparsity
from grokkit.measures.circuit import circuit_complexity
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
    register,
    resolve_measures,
)
from grokkit.measures.representation import nearest_neighbour_accuracy
from grokkit.measures.sharpness import hessian_trace
from grokkit.measures.weights import weight_entropy, weight_norm

register("weight_norm", weight_norm)
register("weight_entropy", weight_entropy)
register("activation_sparsity", activation_sparsity, needs=("X", "activations"))
register("circuit_complexity", circuit_complexity, needs=("X", "logits", "activations"))
# Tan & Huang's robustness measures (Defs 4.1-4.4), on a fixed seeded subsample of X
register("perturb_mutual_information", perturb_mutual_information, needs=("X",))
register("perturb_entropy", perturb_entropy, needs=("X",))
register("mutual_information_difference", mutual_information_difference, needs=("X",))
register("entropy_difference", entropy_difference, needs=("X",))
register("representation_entropy", representation_entropy, needs=("X", "activations", "logits"))
register("hessian_trace", hessian_trace, needs=("X", "y"), task_keys=("loss",))
register("nearest_neighbour_accuracy", nearest_neighbour_accuracy,
         needs=("X", "y", "activations", "logits"))
for _law in (commutativity, commutativity_distance):
    register(_law.__name__, _law, needs=("evaluated",), task_keys=("p", "operation"))
for _law in (identity_law, doubling, associativity):
    register(_law.__name__, _law, task_keys=("p", "operation"))

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
    "entropy_difference",
    "gaussian_copula",
    "gaussian_entropy",
    "get_measure",
    "hessian_trace",
    "hidden_modules",
    "identity_law",
    "matrix_entropy",
    "matrix_joint_entropy",
    "matrix_js_divergence",
    "matrix_mutual_information",
    "mutual_information_difference",
    "nearest_neighbour_accuracy",
    "o_information",
    "o_information_group_multiplets",
    "o_information_multiplets",
    "perturb_entropy",
    "perturb_mutual_information",
    "register",
    "representation_entropy",
    "resolve_measures",
    "weight_entropy",
    "weight_norm",
]
