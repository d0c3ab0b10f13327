"""Small random molecule-like graphs offline, the stand-in for QM9 (:mod:`grokkit.datasets.qm9`).

Both return a list of graphs and a target array: the input
:class:`grokkit.estimators.gcn.GrokGCNRegressor` takes (Omnigrok §4, Fig. 5:
GCNN on QM9 polarizability).
"""

from __future__ import annotations

import zlib

import numpy as np

from grokkit._validation import check_number, check_options, check_random_state

# QM9 lives in grokkit.datasets.qm9; its names stay importable from here.
from grokkit.datasets.qm9 import (  # noqa: F401
    BOND_TOLERANCE,
    COVALENT_RADII,
    QM9_ELEMENTS,
    QM9_PROPERTIES,
    load_qm9,
    parse_qm9_xyz,
)

Graph = tuple[np.ndarray, np.ndarray]

#: Valence of each heavy atom of the generator, and its contribution to the target.
VALENCES = {"C": 4, "N": 3, "O": 2, "F": 1}
ATOM_POLARIZABILITY = {"C": 1.0, "N": 0.8, "O": 0.6, "F": 0.3}
HYDROGEN_POLARIZABILITY = 0.4
BOND_POLARIZABILITY = 0.2


def molecular_target(adjacency: np.ndarray, elements: list[str]) -> float:
    r"""The generator's additive "polarizability":

    .. math:: y = \sum_i a_{t_i} + 0.4\,\sum_i (v_{t_i} - \deg_i) + 0.2\,|E|

    atom contributions :data:`ATOM_POLARIZABILITY`, one term per implicit
    hydrogen (free valence v − degree) and one per bond. Like real
    polarizability it is extensive and mostly local: a sum over atoms of a
    function of each atom's type and neighbourhood, which a sum-pooled
    graph convolution can represent.
    """
    degree = adjacency.sum(axis=1)
    atoms = sum(ATOM_POLARIZABILITY[e] for e in elements)
    hydrogens = sum(VALENCES[e] - d for e, d in zip(elements, degree, strict=True))
    return float(atoms + HYDROGEN_POLARIZABILITY * hydrogens + BOND_POLARIZABILITY * degree.sum() / 2)


def environment_target(adjacency: np.ndarray, elements: list[str]) -> float:
    r"""A target that needs learned representations: a sum of atomic-environment contributions.

    .. math:: y = \sum_i c\big(t_i, \{t_j : j \sim i\}\big)

    ``c`` is one fixed standard-normal number per local environment (the
    atom's element and the sorted multiset of its neighbours' elements),
    drawn from a generator seeded by the environment's name (``crc32``), so
    every graph, process and run sees the same function. Like real
    polarizability in group-additivity models (Miller's atomic hybrid
    polarizabilities depend on the atom and its bonding partners) it is
    extensive and local; unlike :func:`molecular_target`, no linear function
    of sum-pooled atom types and degrees fits it: the network has to learn a
    representation of each environment from two graph convolutions.
    """
    total = 0.0
    for i, element in enumerate(elements):
        neighbours = "".join(sorted(elements[j] for j in np.flatnonzero(adjacency[i])))
        seed = zlib.crc32(f"{element}:{neighbours}".encode())
        total += float(np.random.RandomState(seed).standard_normal())
    return total


#: The generator's targets: name -> function of (adjacency, elements).
MOLECULAR_TARGETS = {"additive": molecular_target, "environment": environment_target}


def make_molecular_graphs(
    n_graphs: int = 200,
    n_atoms: tuple[int, int] = (4, 12),
    ring_probability: float = 0.3,
    random_state: int | np.random.RandomState | None = None,
    target: str = "additive",
) -> tuple[list[Graph], np.ndarray]:
    """Small random molecule-like graphs with a computable target.

    Each graph is a random heavy-atom skeleton: atoms C, N, O, F (probabilities
    0.6, 0.15, 0.15, 0.1) attached one by one to a random earlier atom with a
    free valence (C 4, N 3, O 2, F 1), so the skeleton is a tree respecting
    valences; then, with probability ``ring_probability``, one ring-closing
    bond between two non-adjacent atoms with free valence. Node features are
    one-hot over (C, N, O, F), hydrogens implicit as in QM9 drawn without H.

    Parameters
    ----------
    n_graphs : int, default=200
    n_atoms : (int, int), default=(4, 12)
        Inclusive range of heavy atoms per graph (QM9: up to 9).
    ring_probability : float, default=0.3
    random_state : int, RandomState or None
    target : {"additive", "environment"}, default="additive"
        :func:`molecular_target` (atoms, implicit hydrogens and bonds: linear
        in pooled features) or :func:`environment_target` (a fixed random
        contribution per local atomic environment: needs learned
        representations; the stand-in for Omnigrok Fig. 5d).

    Returns
    -------
    graphs : list of (adjacency, node_features)
        ``adjacency`` (n_i, n_i) with 0/1 entries, ``node_features`` (n_i, 4).
    y : ndarray of float64, shape (n_graphs,)
    """
    check_number("n_graphs", n_graphs, low=1, integer=True)
    if (not isinstance(n_atoms, (tuple, list)) or len(n_atoms) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in n_atoms)
            or not 2 <= n_atoms[0] <= n_atoms[1]):
        raise ValueError(f"n_atoms must be a pair (min, max) of ints with 2 <= min <= max; got {n_atoms!r}.")
    check_number("ring_probability", ring_probability, low=0, high=1)
    check_options("target", target, MOLECULAR_TARGETS)
    rng = check_random_state(random_state)
    types = list(VALENCES)
    graphs, y = [], []
    for _ in range(n_graphs):
        size = rng.randint(n_atoms[0], n_atoms[1] + 1)
        elements = ["C"]
        adjacency = np.zeros((size, size))
        while len(elements) < size:
            free = [i for i, e in enumerate(elements) if adjacency[i].sum() < VALENCES[e]]
            element = types[rng.choice(4, p=[0.6, 0.15, 0.15, 0.1])]
            if element == "F" and len(elements) < size - 1:
                element = "C"  # a terminal F would end the tree early; carbon keeps it growing
            parent = free[rng.randint(len(free))]
            i = len(elements)
            elements.append(element)
            adjacency[i, parent] = adjacency[parent, i] = 1.0
        if rng.random_sample() < ring_probability:
            free = [i for i, e in enumerate(elements) if adjacency[i].sum() < VALENCES[e]]
            pairs = [(i, j) for i in free for j in free if i < j and not adjacency[i, j]]
            if pairs:
                i, j = pairs[rng.randint(len(pairs))]
                adjacency[i, j] = adjacency[j, i] = 1.0
        features = np.zeros((size, len(types)))
        features[np.arange(size), [types.index(e) for e in elements]] = 1.0
        graphs.append((adjacency, features))
        y.append(MOLECULAR_TARGETS[target](adjacency, elements))
    return graphs, np.asarray(y, dtype=np.float64)
