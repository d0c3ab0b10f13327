"""examples/modular_transformer.py titles its plot from the fitted model and its data, not from defaults."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from grokkit import ModularTransformer
from grokkit.datasets import make_modular

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "modular_transformer.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("modular_transformer_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("p", "extra", "expected"), [
    (11, {}, "modular add, p = 11, 50% of the pairs (60), wd 1"),
    (13, {"alpha": 0.8, "constrain_norm": True, "weight_decay": 0.0},
     "modular add, p = 13, 50% of the pairs (84), α = 0.8, constrained norm, wd 0"),
])
def test_title_reads_p_fraction_and_setting_from_the_run(example, p, extra, expected):
    X, y, X_test, y_test = make_modular(p=p, train_fraction=0.5, random_state=0)
    model = ModularTransformer(d_model=8, n_heads=2, d_mlp=8, max_epochs=1, measures=None, random_state=0,
                               **extra).fit(X, y, eval_set=(X_test, y_test))
    assert example.run_title(model, X) == expected
    assert "113" not in example.run_title(model, X)
