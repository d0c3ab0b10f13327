"""QM9 offline: from qm9pack's CSV files or the original ``.xyz`` archive, as PyTorch Geometric's graphs.

Omnigrok's QM9 experiment (§4, Fig. 5; public code ``qm9/grokking``) reads
PyTorch Geometric's ``QM9`` data set: 11 node features per atom and a
one-hot bond type per edge, with hydrogens as nodes. :func:`smiles_graph`
builds that graph with RDKit from a molecule's SMILES;
:func:`load_qm9` reads the molecules from

* ``$GROKKIT_DATA/qm9`` (qm9pack-style CSV files, the original
  ``dsgdb9nsd.xyz.tar.bz2`` or its extracted ``.xyz`` files), else
* the installed ``qm9pack`` package (``pip install "grokkit[qm9]"``; all
  130 831 molecules of QM9 with every property as CSV), else
* raises :class:`FileNotFoundError` naming both.

RDKit is needed for the graphs (``graph="smiles"``, the default); the older
geometric graphs (``graph="geometry"``: bonds from covalent radii, one-hot
element features) need only numpy.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grokkit._validation import check_number, check_options, check_random_state

#: The 15 properties on line 2 of every QM9 ``.xyz`` file, in order
#: (Ramakrishnan et al., 2014). ``alpha`` is the isotropic polarizability (Bohr³),
#: Omnigrok's target (target column 1 of PyTorch Geometric's QM9).
QM9_PROPERTIES = ("A", "B", "C", "mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "U0", "U", "H", "G",
                  "Cv")
#: The qm9pack CSV column of each property, in :data:`QM9_PROPERTIES` order.
QM9PACK_COLUMNS = dict(zip(QM9_PROPERTIES, (
    "RotA_GHz", "RotB_GHz", "RotC_GHz", "Dipole_debye", "Polarizability_bohr3", "HOMO_au", "LUMO_au",
    "HOMO_LUMO_gap_au", "R2_bohr2", "ZPVE_au", "InternalEnergy_0K_au", "InternalEnergy_298K_au",
    "Enthalphy_298K_au", "GibbsFreeEnergy_298K_au", "Heatcapacity_Cv_cal_mol_K"), strict=True))
#: The qm9pack CSV files, in QM9's order.
QM9PACK_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
#: Elements of QM9, in the order of the one-hot node features.
QM9_ELEMENTS = ("H", "C", "N", "O", "F")
#: Atomic numbers of :data:`QM9_ELEMENTS`.
ATOMIC_NUMBERS = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}
#: The node features of PyTorch Geometric's QM9, in its order (11 per atom).
NODE_FEATURES = ("H", "C", "N", "O", "F", "atomic_number", "aromatic", "sp", "sp2", "sp3", "num_hs")
#: The edge features of PyTorch Geometric's QM9: one-hot bond type.
BOND_TYPES = ("single", "double", "triple", "aromatic")
#: Covalent radii (Å) used to infer bonds from the 3-d geometry (``graph="geometry"``).
COVALENT_RADII = {"H": 0.31, "C": 0.76, "N": 0.71, "O": 0.66, "F": 0.57}
#: Two atoms are bonded when their distance is below r_i + r_j + BOND_TOLERANCE (Å).
BOND_TOLERANCE = 0.45
#: The ways :func:`load_qm9` builds a molecule's graph.
GRAPH_KINDS = ("smiles", "geometry")

Graph = tuple[np.ndarray, ...]


def _rdkit_chem() -> Any:
    try:
        from rdkit import Chem, RDLogger
    except ImportError as exc:
        raise ImportError("QM9 graphs from SMILES need RDKit: pip install rdkit (or "
                          "pip install \"grokkit[qm9]\"), or pass graph=\"geometry\".") from exc
    RDLogger.DisableLog("rdApp.*")
    return Chem


def smiles_graph(smiles: str, include_hydrogens: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A molecule's graph as PyTorch Geometric's QM9 has it, built with RDKit from its SMILES.

    Node features (:data:`NODE_FEATURES`, 11 per atom): the element one-hot
    over (H, C, N, O, F), then the atomic number, aromatic (0/1), the
    hybridisation one-hot (sp, sp2, sp3) and the number of hydrogens bonded
    to the atom. Each bond is an edge in both directions carrying its type
    one-hot over :data:`BOND_TYPES` (single, double, triple, aromatic).

    What was chosen, and why:

    * **SMILES, sanitised.** RDKit parses the SMILES and sanitises it, so
      aromaticity and hybridisation are perceived by RDKit's rules (as in
      the pre-processed QM9 PyTorch Geometric downloads; its own RDKit path
      reads QM9's SDF). Valences are checked on the way, which is why no
      carbon can have more than four neighbours — unlike bonds guessed from
      the geometry (:func:`parse_qm9_xyz`), which over-bond.
    * **Explicit hydrogens** (``Chem.AddHs``) are nodes, as in PyTorch
      Geometric's QM9. Atom order: the heavy atoms in SMILES order, then the
      hydrogens grouped by the atom they sit on. The graph uses no
      positions (Omnigrok's NNConv network reads none), so the order need
      not match the ``.xyz`` file's; :func:`load_qm9` checks that the graph's
      atoms are the file's atoms (same element counts).

    Parameters
    ----------
    smiles : str
    include_hydrogens : bool, default=True
        False: heavy atoms only (the hydrogen count stays a feature).

    Returns
    -------
    adjacency : ndarray (n, n)
        1 for a bond.
    node_features : ndarray (n, 11)
    edge_features : ndarray (n, n, 4)
        The bond type one-hot at ``[i, j]`` and ``[j, i]``, zeros for non-bonds.
    """
    Chem = _rdkit_chem()
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"RDKit cannot parse the SMILES {smiles!r}.")
    if include_hydrogens:
        mol = Chem.AddHs(mol)
    atoms = list(mol.GetAtoms())
    n = len(atoms)
    hybrid = {Chem.rdchem.HybridizationType.SP: 7, Chem.rdchem.HybridizationType.SP2: 8,
              Chem.rdchem.HybridizationType.SP3: 9}
    bond_index = {Chem.rdchem.BondType.SINGLE: 0, Chem.rdchem.BondType.DOUBLE: 1,
                  Chem.rdchem.BondType.TRIPLE: 2, Chem.rdchem.BondType.AROMATIC: 3}
    features = np.zeros((n, len(NODE_FEATURES)))
    for i, atom in enumerate(atoms):
        symbol = atom.GetSymbol()
        if symbol not in QM9_ELEMENTS:
            raise ValueError(f"SMILES {smiles!r} holds the element {symbol}; QM9 has "
                             f"{', '.join(QM9_ELEMENTS)}.")
        features[i, QM9_ELEMENTS.index(symbol)] = 1.0
        features[i, 5] = atom.GetAtomicNum()
        features[i, 6] = float(atom.GetIsAromatic())
        if atom.GetHybridization() in hybrid:
            features[i, hybrid[atom.GetHybridization()]] = 1.0
        features[i, 10] = atom.GetTotalNumHs(includeNeighbors=True)
    adjacency = np.zeros((n, n))
    edges = np.zeros((n, n, len(BOND_TYPES)))
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        kind = bond.GetBondType()
        if kind not in bond_index:
            raise ValueError(f"SMILES {smiles!r} has a {kind} bond; known: {', '.join(BOND_TYPES)}.")
        adjacency[i, j] = adjacency[j, i] = 1.0
        edges[i, j, bond_index[kind]] = edges[j, i, bond_index[kind]] = 1.0
    return adjacency, features, edges


def _parse_float(token: str) -> float:
    # QM9 writes some small numbers in Mathematica notation, e.g. 1.5*^-6.
    return float(token.replace("*^", "e"))


def geometry_graph(elements: list[str], positions: np.ndarray,
                   include_hydrogens: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Bonds guessed from the geometry: ``‖r_i − r_j‖ < r_i^cov + r_j^cov +`` :data:`BOND_TOLERANCE`.

    Untyped, and it over-bonds (carbons with five neighbours); kept for the
    older experiments. Node features: one-hot over :data:`QM9_ELEMENTS`.
    """
    unknown = sorted(set(elements) - set(QM9_ELEMENTS))
    if unknown:
        raise ValueError(f"QM9 molecule holds elements {unknown}; known: {', '.join(QM9_ELEMENTS)}.")
    keep = [i for i, e in enumerate(elements) if include_hydrogens or e != "H"]
    elements = [elements[i] for i in keep]
    xyz = np.asarray(positions, dtype=np.float64)[keep]
    radii = np.asarray([COVALENT_RADII[e] for e in elements])
    distance = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    adjacency = (distance < radii[:, None] + radii[None] + BOND_TOLERANCE).astype(np.float64)
    np.fill_diagonal(adjacency, 0.0)
    features = np.zeros((len(elements), len(QM9_ELEMENTS)))
    features[np.arange(len(elements)), [QM9_ELEMENTS.index(e) for e in elements]] = 1.0
    return adjacency, features


def _xyz_record(text: str) -> dict[str, Any]:
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
    smiles_line = lines[3 + n_atoms].split() if len(lines) > 3 + n_atoms else []
    return {"elements": elements, "positions": np.asarray(positions, dtype=np.float64),
            "smiles": smiles_line[0] if smiles_line else None,
            "properties": dict(zip(QM9_PROPERTIES, values, strict=True))}


def parse_qm9_xyz(text: str, include_hydrogens: bool = True) -> tuple[Graph, dict[str, float]]:
    """One QM9 ``.xyz`` file -> ``((adjacency, one-hot elements), properties)``, bonds from the geometry.

    See :func:`geometry_graph`; :func:`load_qm9` with ``graph="smiles"``
    builds PyTorch Geometric's graph from the file's SMILES instead (its
    first SMILES, GDB-17's).
    """
    record = _xyz_record(text)
    graph = geometry_graph(record["elements"], record["positions"], include_hydrogens)
    return graph, record["properties"]


def _xyz_texts(path: Path) -> Iterator[tuple[str, str]]:
    if path.is_dir():
        files = sorted(path.rglob("*.xyz"))
        if not files:
            raise FileNotFoundError(f"QM9: no *.xyz files under {path}; expected the extracted "
                                    "dsgdb9nsd.xyz.tar.bz2 (dsgdb9nsd_000001.xyz, ...) or qm9pack's "
                                    f"{', '.join(QM9PACK_FILES)}.")
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


def qm9pack_folder() -> Path | None:
    """The ``data`` folder of the installed ``qm9pack`` package, or None when it is not installed.

    Found with :func:`importlib.util.find_spec`, which does not run the
    package: ``import qm9pack`` fails beside setuptools ≥ 81 (its
    ``__init__`` imports ``pkg_resources``).
    """
    try:
        spec = importlib.util.find_spec("qm9pack")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "data"
        if all((folder / name).is_file() for name in QM9PACK_FILES):
            return folder
    return None


def qm9_source(path: str | os.PathLike | None = None) -> Path:
    """Where :func:`load_qm9` reads QM9: ``path``, else ``$GROKKIT_DATA/qm9``, else qm9pack's CSV folder.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist, or with no ``path`` when neither
        ``$GROKKIT_DATA/qm9`` exists nor qm9pack is installed (naming both).
    """
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"QM9 not found at {path}: pass a folder of qm9pack CSV files "
                                    f"({', '.join(QM9PACK_FILES)}), the dsgdb9nsd.xyz.tar.bz2 archive or the "
                                    "folder of its extracted .xyz files.")
        return path
    root = os.environ.get("GROKKIT_DATA", "")
    home = Path(root) / "qm9" if root else None
    if home is not None and home.exists():
        return home
    folder = qm9pack_folder()
    if folder is not None:
        return folder
    looked = f"$GROKKIT_DATA/qm9 ({home})" if home is not None else "$GROKKIT_DATA/qm9 (GROKKIT_DATA unset)"
    raise FileNotFoundError(f"QM9 not found: looked in {looked} and for the installed qm9pack package "
                            "(pip install \"grokkit[qm9]\" or pip install qm9pack). Put qm9pack's CSV files "
                            "or dsgdb9nsd.xyz.tar.bz2 in $GROKKIT_DATA/qm9, or pass path=.")


def _csv_files(path: Path) -> list[Path]:
    if path.is_file() and path.suffix == ".csv":
        return [path]
    if path.is_dir():
        files = [path / name for name in QM9PACK_FILES if (path / name).is_file()]
        return files or sorted(p for p in path.glob("qm9_part*.csv"))
    return []


def _csv_records(files: list[Path], target: str, positions: bool) -> Any:
    import pandas as pd

    column = QM9PACK_COLUMNS[target]
    wanted = ["Index", "SMILES", "N_atoms", "Elements", *(["XYZ_Ang"] if positions else []), column]
    frames = []
    for file in files:
        header = pd.read_csv(file, nrows=0).columns
        missing = [c for c in wanted if c not in header]
        if missing:
            raise ValueError(f"QM9 CSV {file} lacks the columns {missing}; qm9pack's files have "
                             f"{', '.join(wanted)} among others.")
        frames.append(pd.read_csv(file, usecols=wanted, dtype={"SMILES": str, "Elements": str,
                                                               "XYZ_Ang": str}))
    frame = pd.concat(frames, ignore_index=True).sort_values("Index", kind="stable").reset_index(drop=True)
    return frame, column


def _pick(n_total: int, n_molecules: int | None, random_state: Any) -> np.ndarray:
    if n_molecules is None:
        n_molecules = n_total
    if n_molecules > n_total:
        raise ValueError(f"n_molecules={n_molecules} but QM9 here holds {n_total} molecules.")
    if random_state is None:
        return np.arange(n_molecules)
    return check_random_state(random_state).choice(n_total, size=n_molecules, replace=False)


def _graph(record: dict[str, Any], graph: str, include_hydrogens: bool, name: str) -> Graph:
    elements = record["elements"]
    if graph == "geometry":
        return geometry_graph(elements, record["positions"], include_hydrogens)
    if not record["smiles"]:
        raise ValueError(f"QM9 molecule {name} has no SMILES.")
    adjacency, features, edges = smiles_graph(record["smiles"], include_hydrogens=True)
    found = sorted(QM9_ELEMENTS[k] for k in features[:, :5].argmax(axis=1))
    if found != sorted(elements):
        raise ValueError(f"QM9 molecule {name}: the SMILES {record['smiles']!r} gives atoms {found}, the "
                         f"geometry lists {sorted(elements)}.")
    if not include_hydrogens:
        heavy = features[:, 0] == 0
        adjacency, features, edges = adjacency[heavy][:, heavy], features[heavy], edges[heavy][:, heavy]
    return adjacency, features, edges


def load_qm9(
    path: str | os.PathLike | None = None,
    target: str = "alpha",
    n_molecules: int | None = None,
    include_hydrogens: bool = True,
    graph: str = "smiles",
    random_state: int | np.random.RandomState | None = None,
) -> tuple[list[Graph], np.ndarray]:
    """Read QM9 molecules as graphs, with one property as target.

    Omnigrok §4/App. A predicts the isotropic polarizability
    (``target="alpha"``, qm9pack's ``Polarizability_bohr3``, target column 1
    of PyTorch Geometric's QM9) with 100 molecules split 50/50 (public code;
    the Fig. 5d caption says 200 training samples).

    Parameters
    ----------
    path : path, optional
        A folder of qm9pack CSV files (``qm9_part1.csv`` …), one such CSV,
        the ``dsgdb9nsd.xyz.tar.bz2`` archive (133 885 molecules, figshare,
        Ramakrishnan et al. 2014) or the folder it extracts to. None:
        ``$GROKKIT_DATA/qm9`` when it exists, else the installed ``qm9pack``
        package (:func:`qm9_source`).
    target : str, default="alpha"
        One of :data:`QM9_PROPERTIES`.
    n_molecules : int or None
        How many molecules (None: all).
    include_hydrogens : bool, default=True
    graph : {"smiles", "geometry"}, default="smiles"
        ``"smiles"``: PyTorch Geometric's graph built with RDKit
        (:func:`smiles_graph`), each a triple ``(adjacency, node_features
        (n, 11), edge_features (n, n, 4))``. ``"geometry"``: bonds guessed
        from the coordinates (:func:`geometry_graph`), pairs ``(adjacency,
        one-hot elements)``.
    random_state : int, RandomState or None
        None: the first ``n_molecules`` in QM9's order (the smallest
        molecules come first). Otherwise a uniform random sample of
        ``n_molecules`` without replacement, in the order drawn.

    Returns
    -------
    graphs : list of tuples of ndarrays
    y : ndarray of float64, shape (n_molecules,)
        The property as the source writes it.
    """
    check_options("target", target, QM9_PROPERTIES)
    check_options("graph", graph, GRAPH_KINDS)
    if n_molecules is not None:
        check_number("n_molecules", n_molecules, low=1, integer=True)
    source = qm9_source(path)
    files = _csv_files(source)
    graphs, y = [], []
    if files:
        frame, column = _csv_records(files, target, positions=graph == "geometry")
        for row in _pick(len(frame), n_molecules, random_state):
            record = frame.iloc[int(row)]
            name = f"{record['Index']} ({files[0].parent})"
            try:
                elements = list(ast.literal_eval(record["Elements"]))
                positions = np.asarray(ast.literal_eval(record["XYZ_Ang"]), dtype=np.float64) \
                    if graph == "geometry" else None
                if len(elements) != int(record["N_atoms"]):
                    raise ValueError(f"{len(elements)} elements for N_atoms={record['N_atoms']}")
                molecule = {"elements": elements, "positions": positions, "smiles": record["SMILES"]}
                graphs.append(_graph(molecule, graph, include_hydrogens, name))
            except (ValueError, SyntaxError, TypeError) as exc:
                raise ValueError(f"QM9 molecule {name} could not be read: {exc}") from exc
            y.append(float(record[column]))
        return graphs, np.asarray(y, dtype=np.float64)
    texts = _xyz_texts(source)
    if random_state is not None:
        texts = list(texts)
        texts = [texts[i] for i in _pick(len(texts), n_molecules, random_state)]
    for name, text in texts:
        if n_molecules is not None and len(graphs) >= n_molecules:
            break
        try:
            record = _xyz_record(text)
            graphs.append(_graph(record, graph, include_hydrogens, name))
        except (ValueError, IndexError) as exc:
            raise ValueError(f"QM9 file {name} could not be read: {exc}") from exc
        y.append(record["properties"][target])
    return graphs, np.asarray(y, dtype=np.float64)
