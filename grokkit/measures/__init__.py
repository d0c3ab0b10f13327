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
from grokkit.measures.registry import (
    Measure,
    MeasureContext,
    available_measures,
    get_measure,
    register,
    resolve_measures,
)
from grokkit.measures.weights import weight_entropy, weight_norm

register("weight_norm", weight_norm)
register("weight_entropy", weight_entropy)
register("activation_sparsity", activation_sparsity, needs=("X", "activations"))
register("circuit_complexity", circuit_complexity, needs=("X", "logits"))
for _law in (commutativity, commutativity_distance, identity_law, doubling, associativity):
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
    "get_measure",
    "hidden_modules",
    "identity_law",
    "register",
    "resolve_measures",
    "weight_entropy",
    "weight_norm",
]
