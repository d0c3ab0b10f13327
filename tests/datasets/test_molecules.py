"""Molecular graphs: the generator's chemistry and target, QM9 .xyz parsing from fake files."""

import tarfile

import numpy as np
import pytest

from grokkit.datasets.molecules import (
    QM9_ELEMENTS,
    VALENCES,
    load_qm9,
    make_molecular_graphs,
    molecular_target,
)

# Water and methane in QM9's .xyz format (geometry in Å; the polarizability is the 7th header field).
WATER = """3
gdb 3\t157.7118\t293.60975\t191.39397\t1.8511\t6.31\t-0.2928\t0.0687\t0.3615\t19.0002\t\
0.021375\t-76.404702\t-76.401867\t-76.400922\t-76.422349\t6.002
O\t-0.0343604951\t0.9775395708\t0.0076015923\t-0.589706
H\t0.0647664923\t0.0205721989\t0.0015346341\t0.294853
H\t0.8717903948\t1.3006274137\t0.0005300000\t0.294853
1591.0 3862.0 3963.0
O\tO
InChI=1S/H2O/h1H2\tInChI=1S/H2O/h1H2
"""
METHANE = """5
gdb 1\t157.7118\t157.70997\t157.70699\t0.\t13.21\t-0.3877\t0.1171\t0.5048\t35.3641\t\
0.044749\t-40.47893\t-40.476062\t-40.475117\t-40.498597\t6.469
C\t-0.0126981359\t1.0858041578\t0.0080009958\t-0.535689
H\t0.002150416\t-0.0060313176\t0.0019761204\t0.133921
H\t1.0117308433\t1.4637511618\t0.0002765748\t0.133922
H\t-0.540815069\t1.4475266138\t-0.8766437152\t0.133923
H\t-0.5238136345\t1.4379326443\t0.9063972942\t1.5*^-6
1341.307 1341.3284 1341.365 1562.6731 1562.7453 3038.3205 3151.6034 3151.6788 3151.7078
C\tC
InChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4
"""


@pytest.fixture
def qm9_folder(tmp_path):
    folder = tmp_path / "qm9"
    folder.mkdir()
    (folder / "dsgdb9nsd_000001.xyz").write_text(METHANE)
    (folder / "dsgdb9nsd_000003.xyz").write_text(WATER)
    return folder


def test_load_qm9_from_folder_infers_bonds_and_reads_alpha(qm9_folder):
    graphs, y = load_qm9(qm9_folder, graph="geometry")
    np.testing.assert_allclose(y, [13.21, 6.31])
    (A_ch4, F_ch4), (A_h2o, F_h2o) = graphs
    assert A_ch4.sum() / 2 == 4 and A_ch4[0].sum() == 4  # four C-H bonds, no H-H
    assert A_h2o.sum() / 2 == 2 and A_h2o[1, 2] == 0
    assert F_ch4.argmax(1).tolist() == [QM9_ELEMENTS.index("C")] + [QM9_ELEMENTS.index("H")] * 4
    heavy, _ = load_qm9(qm9_folder, include_hydrogens=False, target="gap", graph="geometry")
    assert heavy[0][0].shape == (1, 1)


def test_load_qm9_from_xyz_builds_graphs_from_the_files_smiles(qm9_folder):
    # The default graph is PyTorch Geometric's, from the SMILES line of each .xyz file.
    (A_ch4, X_ch4, E_ch4), (A_h2o, X_h2o, _) = load_qm9(qm9_folder)[0]
    assert X_ch4.shape == (5, 11) and E_ch4.shape == (5, 5, 4)
    assert A_ch4[0].sum() == 4 and E_ch4[0, 1:, 0].sum() == 4  # four single C-H bonds
    assert A_h2o.sum() / 2 == 2 and X_h2o[0, 10] == 2  # oxygen carries two hydrogens


def test_load_qm9_from_tarball_and_limits(qm9_folder, tmp_path):
    path = tmp_path / "dsgdb9nsd.xyz.tar.bz2"
    with tarfile.open(path, "w:bz2") as archive:
        for file in sorted(qm9_folder.iterdir()):
            archive.add(file, arcname=file.name)
    graphs, y = load_qm9(path, target="mu", n_molecules=1)
    assert len(graphs) == 1 and y.tolist() == [0.0]
    _, y = load_qm9(path, n_molecules=1, random_state=np.random.RandomState(1))
    assert y.tolist() == [[13.21, 6.31][np.random.RandomState(1).choice(2, 1, replace=False)[0]]]


def test_load_qm9_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="QM9"):
        load_qm9(tmp_path / "absent.tar.bz2")
    with pytest.raises(FileNotFoundError, match="xyz"):
        load_qm9(tmp_path)
    with pytest.raises(ValueError, match="target"):
        load_qm9(tmp_path, target="polarizability")


def test_generated_graphs_respect_valences_and_the_target_formula():
    graphs, y = make_molecular_graphs(n_graphs=60, n_atoms=(3, 9), random_state=0)
    types = list(VALENCES)
    for (A, F), target in zip(graphs, y, strict=True):
        assert np.array_equal(A, A.T) and np.all(np.diag(A) == 0)
        elements = [types[i] for i in F.argmax(1)]
        assert 3 <= len(elements) <= 9 and F.sum() == len(elements)
        assert all(d <= VALENCES[e] for e, d in zip(elements, A.sum(1), strict=True))
        assert target == pytest.approx(molecular_target(A, elements))
    # Connected: a spanning tree was grown first.
    A = graphs[0][0]
    reach = np.linalg.matrix_power(A + np.eye(len(A)), len(A)) > 0
    assert reach.all()


def test_molecular_target_by_hand():
    # C-O (ethanol-like fragment): C has 3 implicit H, O has 1: 1.0 + 0.6 + 0.4 * 4 + 0.2 * 1
    A = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert molecular_target(A, ["C", "O"]) == pytest.approx(3.4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_graphs=0), "n_graphs"), (dict(n_atoms=(1, 3)), "n_atoms"), (dict(ring_probability=2), "ring"),
])
def test_generator_bad_parameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_molecular_graphs(**kwargs)


def _pooled_features(graphs):
    """Atom-type, implicit-hydrogen and bond counts per graph: the additive target is linear in them."""
    rows = []
    for adjacency, features in graphs:
        counts = features.sum(axis=0)
        degree = adjacency.sum(axis=1)
        valence = features @ np.array([VALENCES[e] for e in ("C", "N", "O", "F")])
        rows.append([*counts, (valence - degree).sum(), degree.sum() / 2, 1.0])
    return np.asarray(rows)


def test_environment_target_needs_more_than_pooled_atom_counts():
    graphs, additive = make_molecular_graphs(n_graphs=300, random_state=0)
    _, environment = make_molecular_graphs(n_graphs=300, random_state=0, target="environment")
    features = _pooled_features(graphs)

    def r2(y):
        coef, *_ = np.linalg.lstsq(features, y, rcond=None)
        return 1 - ((features @ coef - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()

    eps = np.finfo(np.float64).eps
    assert r2(additive) == pytest.approx(1.0, abs=1e6 * eps)  # linear in pooled features, exactly
    assert r2(environment) < 0.9  # a function of each atom's neighbourhood is not


def test_environment_target_is_a_sum_over_atomic_environments():
    from grokkit.datasets.molecules import environment_target

    # C-C-O chain: environments C:C, C:CO, O:C. A permuted copy has the same target.
    chain = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    y = environment_target(chain, ["C", "C", "O"])
    perm = [2, 0, 1]
    assert environment_target(chain[np.ix_(perm, perm)], ["O", "C", "C"]) == pytest.approx(y, rel=1e-15)
    # Two disjoint molecules: the sum of their targets (extensive).
    both = np.zeros((6, 6))
    both[:3, :3] = both[3:, 3:] = chain
    assert environment_target(both, ["C", "C", "O"] * 2) == pytest.approx(2 * y, rel=1e-15)
    # The same environment always contributes the same number (fixed across calls and processes).
    single = environment_target(np.array([[0, 1], [1, 0]], dtype=float), ["C", "O"])
    assert single == environment_target(np.array([[0, 1], [1, 0]], dtype=float), ["C", "O"])


def test_unknown_target_is_named():
    with pytest.raises(ValueError, match="target"):
        make_molecular_graphs(n_graphs=3, target="dipole")
