"""Molecular graphs: QM9 from its ``.xyz`` files, and small random molecule-like graphs offline.

Both return a list of graphs, each a pair ``(adjacency, node_features)``,
and a target array: the input :class:`grokkit.estimators.gcn.GrokGCNRegressor`
takes (Omnigrok §4, Fig. 5: GCNN on QM9 polarizability).
"""

from __future__ import annotations

import os
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from grokkit._validation import check_number, check_options, check_random_state

#: The 15 properties on line 2 of every QM9 ``.xyz`` file, in order
#: (Ramakrishnan et al., 2014). ``alpha`` is the isotropic polarizability (Bohr³),
#: Omnigrok's target (target column 1 of PyTorch Geometric's QM9).
QM9_PROPERTIES = ("A", "B", "C", "mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G",
                  "Cv")
#: Elements of QM9, in the order of the one-hot node features.
QM9_ELEMENTS = ("H", "C", "N", "O", "F")
#: Covalent radii (Å) used to infer bonds from the 3-d geometry.
COVALENT_RADII = {"H": 0.31, "C": 0.76, "N": 0.71, "O": 0.66, "F": 0.57}
#: Two atoms are bonded when their distance is below r_i + r_j + BOND_TOLERANCE (Å).
BOND_TOLERANCE = 0.45

Graph = tuple[np.ndarray, np.ndarray]


def _parse_float(token: str) -> float:
    # QM9 writes some small numbers in Mathematica notation, e.g. 1.5*^-6.
    return float(token.replace("*^", "e"))


def parse_qm9_xyz(text: str, include_hydrogens: bool = True) -> tuple[Graph, dict[str, float]]:
    """One QM9 ``.xyz`` file -> ``((adjacency, one-hot elements), properties)``.

    Bonds are inferred from the geometry: atoms *i*, *j* are bonded when
    ‖r_i − r_j‖ < r_i^cov + r_j^cov + :data:`BOND_TOLERANCE`. Node features are
    one-hot over :data:`QM9_ELEMENTS` (hydrogens dropped, and the column kept at
    zero, when ``include_hydrogens=False``).
    """
    lines = text.strip().splitlines()
    n_atoms = int(lines[0].split()[0])
    header = lines[1].split()
    values = [_parse_float(t) for t in header[2:2 + len(QM9_PROPERTIES)]]
    if len(values) != len(QM9_PROPERTIES):
        raise ValueError(f"QM9 header line has {len(values)} properties, expected {len(QM9_PROPERTIES)}: "
                         f"{lines[1]!r}.")
    elements, positions = [], []
    for line in lines[2:2 + n_atoms]:
        parts = line.split()
        elements.append(parts[0])
        positions.append([_parse_float(t) for t in parts[1:4]])
    unknown = sorted(set(elements) - set(QM9_ELEMENTS))
    if unknown:
        raise ValueError(f"QM9 file holds elements {unknown}; known: {', '.join(QM9_ELEMENTS)}.")
    keep = [i for i, e in enumerate(elements) if include_hydrogens or e != "H"]
    elements = [elements[i] for i in keep]
    xyz = np.asarray(positions, dtype=np.float64)[keep]
    radii = np.asarray([COVALENT_RADII[e] for e in elements])
    distance = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    adjacency = (distance < radii[:, None] + radii[None] + BOND_TOLERANCE).astype(np.float64)
    np.fill_diagonal(adjacency, 0.0)
    features = np.zeros((len(elements), len(QM9_ELEMENTS)))
    features[np.arange(len(elements)), [QM9_ELEMENTS.index(e) for e in elements]] = 1.0
    return (adjacency, features), dict(zip(QM9_PROPERTIES, values, strict=True))


def _xyz_texts(path: Path) -> Iterator[tuple[str, str]]:
    if path.is_dir():
        files = sorted(path.rglob("*.xyz"))
        if not files:
            raise FileNotFoundError(f"QM9: no *.xyz files under {path}; expected the extracted "
                                    "dsgdb9nsd.xyz.tar.bz2 (dsgdb9nsd_000001.xyz, ...).")
        for file in files:
            yield file.name, file.read_text()
        return
    with tarfile.open(path, "r:*") as archive:
        members = sorted((m for m in archive if m.isfile() and m.name.endswith(".xyz")), key=lambda m: m.name)
        if not members:
            raise FileNotFoundError(f"QM9: the archive {path} holds no *.xyz files.")
        for member in members:
            handle = archive.extractfile(member)
            yield member.name, handle.read().decode() if handle is not None else ""


def load_qm9(
    path: str | os.PathLike,
    target: str = "alpha",
    n_molecules: int | None = None,
    include_hydrogens: bool = True,
) -> tuple[list[Graph], np.ndarray]:
    """Read QM9 molecules as graphs, with one property as target.

    QM9 is not downloaded: get ``dsgdb9nsd.xyz.tar.bz2`` (133 885 molecules,
    figshare, Ramakrishnan et al. 2014) and pass the archive or the folder it
    extracts to. Omnigrok §4/App. A predicts the isotropic polarizability
    (``target="alpha"``) with 100 molecules split 50/50 (public code; the
    Fig. 5d caption says 200 training samples).

    Differences from Omnigrok's public code, which uses PyTorch Geometric's
    processed QM9 and edge-conditioned convolutions: bonds here are inferred
    from the geometry (covalent radii), untyped, and the node features are the
    one-hot element only.

    Parameters
    ----------
    path : path
        The ``.tar.bz2``/``.tar`` archive or a folder of ``.xyz`` files.
    target : str, default="alpha"
        One of :data:`QM9_PROPERTIES`.
    n_molecules : int or None
        Read the first ``n_molecules`` files in name order (None: all).
    include_hydrogens : bool, default=True

    Returns
    -------
    graphs : list of (adjacency, node_features)
    y : ndarray of float64, shape (n_molecules,)
    """
    check_options("target", target, QM9_PROPERTIES)
    if n_molecules is not None:
        check_number("n_molecules", n_molecules, low=1, integer=True)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"QM9 not found at {path}: pass the dsgdb9nsd.xyz.tar.bz2 archive or the "
                                "folder of its extracted .xyz files.")
    graphs, y = [], []
    for name, text in _xyz_texts(path):
        if n_molecules is not None and len(graphs) >= n_molecules:
            break
        try:
            graph, properties = parse_qm9_xyz(text, include_hydrogens=include_hydrogens)
        except (ValueError, IndexError) as exc:
            raise ValueError(f"QM9 file {name} could not be read: {exc}") from exc
        graphs.append(graph)
        y.append(properties[target])
    return graphs, np.asarray(y, dtype=np.float64)


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
