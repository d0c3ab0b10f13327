"""One place per parameter: the docstrings and the README's list follow the declarations.

As scikit-learn's docstring test does, the numpydoc Parameters section of
every estimator is parsed and compared with its signature; here the section
is generated from the declarations (``Param.doc``), so the test checks the
generation: same names in the same order, each with its declared default and
a type. The README's list of shared parameters must name every declared one.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from numpydoc.docscrape import NumpyDocString

from grokkit import (
    GrokGCNRegressor,
    GrokLSTMClassifier,
    GrokMLPClassifier,
    GrokMLPRegressor,
    ModularMLPClassifier,
    ModularTransformer,
)
from grokkit.estimators.base import GrokNet
from grokkit.estimators.params import parameters_section
from grokkit.estimators.penalties import penalties, penalty_params

ESTIMATORS = [GrokMLPClassifier, GrokMLPRegressor, ModularMLPClassifier, ModularTransformer,
              GrokLSTMClassifier, GrokGCNRegressor]
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_parameters_section_lists_the_signature_with_declared_defaults(cls):
    documented = NumpyDocString(cls.__doc__)["Parameters"]
    signature = inspect.signature(cls).parameters
    assert [p.name for p in documented] == list(signature)
    for entry in documented:
        default = signature[entry.name].default
        shown = f'"{default}"' if isinstance(default, str) else repr(default)
        assert entry.type.endswith(f", default={shown}"), (entry.name, entry.type)
        assert entry.type.count("default") == 1, (entry.name, entry.type)
        assert entry.type != f", default={shown}", f"{entry.name} declares no type"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_declaration_carries_its_documentation(cls):
    for name, param in cls.declared_params().items():
        kind = param.doc.partition("\n")[0]
        assert kind.strip(), f"{cls.__name__}.{name} is declared without a type line"
    assert parameters_section(cls) in cls.__doc__


def test_penalties_are_documented_where_they_are_declared():
    for penalty in penalties():
        for cls in ESTIMATORS:
            if penalty.name in cls.declared_params():
                text = NumpyDocString(cls.__doc__)["Parameters"]
                entry = next(p for p in text if p.name == penalty.name)
                assert " ".join(entry.desc).split()[:5] == penalty.param.doc.partition("\n")[2].split()[:5]


def test_the_readme_names_every_shared_and_modular_parameter():
    row = next(line for line in README.read_text().splitlines() if line.startswith("| shared parameters"))
    names = [*GrokNet.declared_params(), *penalty_params("modular")]
    missing = [name for name in names if not re.search(rf"`{name}\b", row)]
    assert not missing, f"README's parameter list lacks {missing}"
