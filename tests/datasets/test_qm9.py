"""QM9 offline: qm9pack's CSV format, PyTorch Geometric's graphs from SMILES (RDKit), where QM9 is found.

The CSV rows below are real QM9 molecules copied from qm9pack 1.0.3 (indices 1, 3, 4, 6 and 50: methane,
water, acetylene, formaldehyde, pyrrole); the tests write them in qm9pack's format and never need the
104 MB package. One test reads the installed package when it is there.
"""

import csv
import importlib
import importlib.util

import numpy as np
import pytest

from grokkit.datasets import load_qm9
from grokkit.datasets.qm9 import (
    BOND_TYPES,
    NODE_FEATURES,
    QM9PACK_COLUMNS,
    QM9PACK_FILES,
    qm9_source,
    qm9pack_folder,
    smiles_graph,
)

HEADER = ["XYZ_file", "Index", "SMILES", "InChi", "N_atoms", "Stoichiometry", "Elements", "XYZ_Ang",
          "Mulliken_pop", "Harmonic_Freq_cmi", "RotA_GHz", "RotB_GHz", "RotC_GHz", "Dipole_debye",
          "Polarizability_bohr3", "HOMO_au", "LUMO_au", "HOMO_LUMO_gap_au", "R2_bohr2", "ZPVE_au",
          "InternalEnergy_0K_au", "InternalEnergy_298K_au", "Enthalphy_298K_au",
          "GibbsFreeEnergy_298K_au", "Heatcapacity_Cv_cal_mol_K"]
ROWS = [
    ["dsgdb9nsd_000001.xyz", 1, "C", "InChI=1S/CH4/h1H4", 5, "[4,1,0,0,0]", "['C','H','H','H','H']",
     "[[-0.0126981359,1.0858041578,0.0080009958],[0.002150416,-0.0060313176,0.0019761204],"
     "[1.0117308433,1.4637511618,0.0002765748],[-0.540815069,1.4475266138,-0.8766437152],"
     "[-0.5238136345,1.4379326443,0.9063972942]]", "[-0.535689,0.133921,0.133922,0.133923,0.133923]",
     "[1341.307,1341.3284,1341.365,1562.6731,1562.7453,3038.3205,3151.6034,3151.6788,3151.7078]",
     "157.7118", "157.70997", "157.70699", "0.", "13.21", "-0.3877", "0.1171", "0.5048", "35.3641",
     "0.044749",
     "-40.47893", "-40.476062", "-40.475117", "-40.498597", "6.469"],
    ["dsgdb9nsd_000003.xyz", 3, "O", "InChI=1S/H2O/h1H2", 3, "[2,0,0,1,0]", "['O','H','H']",
     "[[-0.0343604951,0.9775395708,0.0076015923],[0.0647664923,0.0205721989,0.0015346341],"
     "[0.8717903737,1.3007924048,0.0006931336]]", "[-0.589706,0.294853,0.294853]",
     "[1671.4222,3803.6305,3907.698]", "799.58812", "437.90386", "282.94545", "1.8511", "6.31", "-0.2928",
     "0.0687", "0.3615", "19.0002", "0.021375", "-76.404702", "-76.401867", "-76.400922", "-76.422349",
     "6.002"],
    ["dsgdb9nsd_000004.xyz", 4, "C#C", "InChI=1S/C2H2/c1-2/h1-2H", 4, "[2,2,0,0,0]", "['C','C','H','H']",
     "[[0.5995394918,0.,1.],[-0.5995394918,0.,1.],[-1.6616385861,0.,1.],[1.6616385861,0.,1.]]",
     "[-0.207019,-0.207019,0.207019,0.207019]",
     "[549.7648,549.7648,795.2713,795.2713,2078.1131,3455.8096,3557.8599]", "0.", "35.6100361",
     "35.6100361", "0.", "16.28", "-0.2845", "0.0506", "0.3351", "59.5248", "0.026841", "-77.308427",
     "-77.305527", "-77.304583", "-77.327429", "8.574"],
    ["dsgdb9nsd_000006.xyz", 6, "C=O", "InChI=1S/CH2O/c1-2/h1H2", 4, "[2,1,0,1,0]", "['C','O','H','H']",
     "[[-0.0139776956,1.1802114286,0.0077524981],[0.0023139861,-0.0196636557,0.0021610727],"
     "[0.9149602868,1.789511172,0.0039565555],[-0.9591097173,1.7640179751,0.0171828436]]",
     "[-0.031232,-0.165864,0.098548,0.098548]",
     "[1201.9838,1272.5136,1544.4691,1846.4364,2882.3231,2929.819]",
     "285.48839", "38.9823", "34.29892", "2.1089", "14.18", "-0.267", "-0.0406", "0.2263", "59.9891",
     "0.026603", "-114.483613", "-114.480746", "-114.479802", "-114.505268", "6.413"],
    ["dsgdb9nsd_000050.xyz", 50, "N1C=CC=C1", "InChI=1S/C4H5N/c1-2-4-5-3-1/h1-5H", 10, "[5,4,1,0,0]",
     "['N','C','C','C','C','H','H','H','H','H']",
     "[[-0.0082969396,1.3536283762,0.0099597114],[1.2803325407,1.8245742139,-0.0002245919],"
     "[2.1221663909,0.7369889796,-0.0144560017],[1.308499041,-0.4310958031,-0.0128415387],"
     "[-0.0034278156,-0.0183688392,0.0023573641],[-0.8324323359,1.9277266825,0.0212299459],"
     "[1.4847182035,2.8831263012,0.0035431347],[3.200669182,0.7734307713,-0.0248841554],"
     "[1.6481059949,-1.4553968264,-0.0218039432],[-0.925516472,-0.5769705361,0.0083940248]]",
     "[-0.214431,-0.088833,-0.136445,-0.136445,-0.088832,0.260046,0.112688,0.089782,0.089782,0.112688]",
     "[481.0951,628.95,642.5488]", "9.17136", "9.04195", "4.5531", "1.8689", "43.14", "-0.2029", "0.0499",
     "0.2528", "303.9808", "0.082433", "-210.101789", "-210.097816", "-210.096872", "-210.12818", "14.821"],
]
ALPHA = [13.21, 6.31, 16.28, 14.18, 43.14]


def write_qm9pack(folder, rows=ROWS, parts=2):
    """``rows`` in qm9pack's format, spread over ``qm9_part1.csv`` … in QM9's order (all fields quoted)."""
    folder.mkdir(parents=True, exist_ok=True)
    chunks = np.array_split(np.arange(len(rows)), parts)
    for name, chunk in zip(QM9PACK_FILES, chunks, strict=False):
        with open(folder / name, "w", newline="") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(HEADER)
            writer.writerows(rows[i] for i in chunk)
    return folder


def _feature(features, name):
    return features[:, NODE_FEATURES.index(name)]


def test_smiles_graph_has_pytorch_geometric_features_and_bond_types():
    A, X, E = smiles_graph("C#C")  # acetylene: C, C, H, H
    assert X.shape == (4, 11) and E.shape == (4, 4, len(BOND_TYPES)) and list(NODE_FEATURES[:5]) == [
        "H", "C", "N", "O", "F"]
    np.testing.assert_array_equal(X[:, :5].argmax(1), [1, 1, 0, 0])
    np.testing.assert_array_equal(_feature(X, "atomic_number"), [6, 6, 1, 1])
    np.testing.assert_array_equal(_feature(X, "sp"), [1, 1, 0, 0])
    np.testing.assert_array_equal(_feature(X, "num_hs"), [1, 1, 0, 0])
    np.testing.assert_array_equal(E[0, 1], [0, 0, 1, 0])  # triple
    np.testing.assert_array_equal(E[0, 2] + E[1, 3], [2, 0, 0, 0])  # C-H single (each H after its heavy atom)
    np.testing.assert_array_equal(A.sum(1), [2, 2, 1, 1])
    np.testing.assert_array_equal((E.sum(2) > 0), A > 0)
    np.testing.assert_array_equal(E, E.transpose(1, 0, 2))

    _, X, E = smiles_graph("C=O")
    assert _feature(X, "sp2")[:2].tolist() == [1, 1] and E[0, 1].tolist() == [0, 1, 0, 0]
    _, X, _ = smiles_graph("C")
    assert _feature(X, "sp3")[0] == 1 and _feature(X, "num_hs")[0] == 4

    # Pyrrole, written Kekulé as qm9pack does: RDKit perceives the aromaticity.
    _, X, E = smiles_graph("N1C=CC=C1")
    ring = slice(0, 5)
    np.testing.assert_array_equal(_feature(X, "aromatic")[ring], 1)
    assert _feature(X, "aromatic")[5:].sum() == 0
    assert E[:5, :5, 3].sum() == 10 and E[:5, :5, :3].sum() == 0  # five aromatic ring bonds, both directions
    heavy_A, heavy_X, _ = smiles_graph("N1C=CC=C1", include_hydrogens=False)
    assert heavy_A.shape == (5, 5) and _feature(heavy_X, "num_hs").tolist() == [1, 1, 1, 1, 1]


def test_smiles_graph_rejects_what_qm9_does_not_hold():
    with pytest.raises(ValueError, match="cannot parse"):
        smiles_graph("C1CC")
    with pytest.raises(ValueError, match="Cl"):
        smiles_graph("CCl")


def test_load_qm9_reads_qm9pack_csv_files(tmp_path):
    folder = write_qm9pack(tmp_path / "qm9")
    graphs, y = load_qm9(folder)
    np.testing.assert_array_equal(y, ALPHA)
    assert [len(A) for A, _, _ in graphs] == [5, 3, 4, 4, 10]
    assert all(X.shape[1] == 11 and E.shape[2] == 4 for _, X, E in graphs)
    _, gap = load_qm9(folder, target="gap", n_molecules=2)
    np.testing.assert_array_equal(gap, [0.5048, 0.3615])
    assert set(QM9PACK_COLUMNS) >= {"alpha", "gap"} and QM9PACK_COLUMNS["alpha"] == "Polarizability_bohr3"
    # The geometric graphs read the coordinates column: methane's four C-H bonds.
    (A, X), *_ = load_qm9(folder, graph="geometry", n_molecules=1)[0]
    assert A.sum() / 2 == 4 and X.shape == (5, 5)
    heavy, _ = load_qm9(folder, include_hydrogens=False)
    assert [len(A) for A, _, _ in heavy] == [1, 1, 2, 2, 5]


def test_load_qm9_draws_a_random_sample(tmp_path):
    folder = write_qm9pack(tmp_path / "qm9")
    _, y = load_qm9(folder, n_molecules=3, random_state=7)
    expected = np.asarray(ALPHA)[np.random.RandomState(7).choice(len(ROWS), 3, replace=False)]
    np.testing.assert_array_equal(y, expected)
    _, first = load_qm9(folder, n_molecules=3)
    np.testing.assert_array_equal(first, ALPHA[:3])
    with pytest.raises(ValueError, match="n_molecules=9"):
        load_qm9(folder, n_molecules=9, random_state=0)


def test_no_carbon_has_more_than_four_neighbours(tmp_path):
    graphs, _ = load_qm9(write_qm9pack(tmp_path / "qm9"))
    carbons = [A[X[:, 1] == 1].sum(1) for A, X, _ in graphs]
    assert max(degree.max() for degree in carbons if len(degree)) == 4
    assert all(A[X[:, 1] == 1].sum(1).tolist() == [4] * int(X[:, 1].sum()) for A, X, _ in graphs[:1])


def test_load_qm9_checks_smiles_against_the_atoms(tmp_path):
    bad = [list(ROWS[0])]
    bad[0][2] = "N"  # methane's row with ammonia's SMILES
    folder = write_qm9pack(tmp_path / "qm9", rows=bad, parts=1)
    with pytest.raises(ValueError, match="molecule 1 .*SMILES 'N'"):
        load_qm9(folder)
    with pytest.raises(ValueError, match="graph"):
        load_qm9(folder, graph="bonds")


@pytest.fixture
def fake_qm9pack(tmp_path, monkeypatch):
    """A stand-in ``qm9pack`` package on sys.path: its ``__init__`` fails as the real one does today."""
    package = tmp_path / "site" / "qm9pack"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import pkg_resources_gone_since_setuptools_81\n")
    write_qm9pack(package / "data", rows=ROWS[:2], parts=3)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    return package / "data"


def test_source_order_grokkit_data_then_qm9pack_then_an_error(tmp_path, monkeypatch, fake_qm9pack):
    data = tmp_path / "data"
    write_qm9pack(data / "qm9", rows=ROWS[2:])
    monkeypatch.setenv("GROKKIT_DATA", str(data))
    assert qm9_source() == data / "qm9"
    _, y = load_qm9()
    np.testing.assert_array_equal(y, ALPHA[2:])

    monkeypatch.setenv("GROKKIT_DATA", str(tmp_path / "empty"))  # no qm9 folder there: qm9pack
    assert qm9pack_folder() == fake_qm9pack
    _, y = load_qm9()
    np.testing.assert_array_equal(y, ALPHA[:2])
    monkeypatch.setenv("GROKKIT_DATA", "")  # set but empty counts as unset
    assert qm9_source() == fake_qm9pack

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"GROKKIT_DATA.*qm9pack"):
        load_qm9()
    with pytest.raises(FileNotFoundError, match="QM9 not found at"):
        load_qm9(tmp_path / "nowhere")


@pytest.mark.skipif(qm9pack_folder() is None, reason="qm9pack is not installed (pip install qm9pack)")
def test_installed_qm9pack_reads_real_molecules(monkeypatch):
    monkeypatch.delenv("GROKKIT_DATA", raising=False)
    graphs, y = load_qm9(n_molecules=6)
    # QM9's first molecules: CH4, NH3, H2O, C2H2, HCN, H2CO (their alpha as QM9's .xyz files give it).
    np.testing.assert_array_equal(y, [13.21, 9.46, 6.31, 16.28, 12.99, 14.18])
    assert [len(A) for A, _, _ in graphs] == [5, 4, 3, 4, 3, 4]
    sample, y_sample = load_qm9(n_molecules=200, random_state=0)
    assert len(sample) == 200 and np.isfinite(y_sample).all()
    assert max(A[X[:, 1] == 1].sum(1).max() for A, X, _ in sample if X[:, 1].any()) <= 4
