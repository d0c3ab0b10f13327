"""Imports point down only: every ``grokkit`` module imports nothing from a layer above its own.

The layers, lowest first (a module may import its own layer and any below it):

==============  ==================================================================================
foundation      ``_validation``, ``_threads``, ``stats`` (seed intervals, curve bands, log–log fit)
data            ``models``, ``datasets``, ``losses``, ``optim``, ``text``, ``progress``
measures        ``measures`` (with its ``_capture`` hooks and ``registry``)
callbacks       ``callbacks``
estimators      ``estimators``
plotting        ``plotting``: figures drawn from tables (``progress_``, ``results_``, an
                analyzer's output); it reads ``progress`` and ``stats`` and knows no estimator,
                sweep or analyzer, so ``Sweep.plot`` may call it
sweep           ``sweep``, and the package ``grokkit`` itself (it re-exports the estimators and
                ``Sweep``)
analysis        ``analysis``
experiments     ``experiments``
cli             ``cli``, ``__main__``
==============  ==================================================================================

The graph is read with :mod:`ast` from the source, so an import inside a function (the usual way
to hide a cycle) counts like one at the top; ``from grokkit import Name`` counts as an import of
the module that defines ``Name`` (``grokkit._LAZY``). This test is the CI check (``.ci/run``
runs the whole test suite); pyproject.toml states the same order as an import-linter contract for
``lint-imports``, and a test below keeps the two the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grokkit"

#: Lowest first; a module belongs to the layer of the longest prefix that names it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("grokkit._validation", "grokkit._threads", "grokkit._interrupts", "grokkit.stats")),
    ("data", ("grokkit.models", "grokkit.datasets", "grokkit.losses", "grokkit.optim", "grokkit.text",
              "grokkit.progress", "grokkit.interp")),
    ("measures", ("grokkit.measures",)),
    ("callbacks", ("grokkit.callbacks",)),
    ("estimators", ("grokkit.estimators",)),
    ("plotting", ("grokkit.plotting",)),
    ("sweep", ("grokkit.sweep", "grokkit")),
    ("analysis", ("grokkit.analysis",)),
    ("experiments", ("grokkit.experiments",)),
    ("cli", ("grokkit.cli", "grokkit.__main__")),
)


def layer_of(module: str) -> tuple[int, str] | None:
    """``(rank, layer name)`` of a dotted ``grokkit`` module, or None if no layer names it."""
    best: tuple[int, int, str] | None = None
    for rank, (name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None
                                                                          or len(prefix) > best[0]):
                best = (len(prefix), rank, name)
    return None if best is None else (best[1], best[2])


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def lazy_names(root: Path = PACKAGE) -> dict[str, str]:
    """``grokkit._LAZY``: the names ``from grokkit import ...`` resolves to another module."""
    for node in ast.parse((root / "__init__.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_LAZY" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def imported_modules(source: str, module: str, is_package: bool, known: set[str],
                     lazy: dict[str, str]) -> list[tuple[int, str]]:
    """``(line, grokkit module)`` for every import in ``source``, at any depth (functions included)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                if f"{target}.{alias.name}" in known:  # from package import submodule
                    found.append((node.lineno, f"{target}.{alias.name}"))
                elif target == "grokkit" and alias.name in lazy:
                    found.append((node.lineno, lazy[alias.name]))
                else:
                    found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "grokkit" or name.startswith("grokkit.")]


def upward_imports(modules: dict[str, Path], sources: dict[str, str] | None = None,
                   lazy: dict[str, str] | None = None, known: set[str] | None = None) -> list[str]:
    """One message per import of a higher layer: file, line, the imported module and both layers.

    ``sources`` replaces the text of modules (a test's edits); ``known`` is every module name
    (default: those of ``modules``), which tells ``from package import submodule`` apart.
    """
    lazy = lazy_names() if lazy is None else lazy
    known = set(modules) if known is None else known
    problems = []
    for module, path in modules.items():
        source = path.read_text() if sources is None else sources[module]
        own = layer_of(module)
        for line, target in imported_modules(source, module, path.name == "__init__.py", known, lazy):
            other = layer_of(target)
            if own is not None and other is not None and other[0] > own[0]:
                problems.append(f"{path}:{line}: {module} (layer {own[1]!r}) imports {target} "
                                f"(layer {other[1]!r}, above it)")
    return problems


def test_every_module_has_a_layer():
    unplaced = [m for m in all_modules() if layer_of(m) is None]
    assert not unplaced, f"modules in no layer (add them to LAYERS in {__file__}): {unplaced}"


def test_imports_point_down_only():
    problems = upward_imports(all_modules())
    assert not problems, "imports that point up a layer:\n" + "\n".join(problems)


@pytest.mark.parametrize("statement", [
    "from grokkit.plotting import plot_progress",                         # at the top
    "def figure():\n    from grokkit import plotting\n    return plotting",  # hidden in a function
    "def sweep():\n    from grokkit import Sweep\n    return Sweep",       # through grokkit's lazy names
    "import grokkit.experiments._seeds",
])
def test_an_upward_import_is_caught_with_its_file_line_and_layers(statement):
    modules = all_modules()
    path = modules["grokkit.estimators.loop"]
    source = path.read_text() + "\n\n" + statement + "\n"
    problems = upward_imports({"grokkit.estimators.loop": path}, sources={"grokkit.estimators.loop": source},
                              known=set(modules))
    line = len(path.read_text().splitlines()) + 3 + next(
        i for i, text in enumerate(statement.splitlines()) if "import" in text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: grokkit.estimators.loop (layer 'estimators') imports ")
    assert "above it" in problems[0]


def test_relative_and_same_layer_imports_are_resolved():
    modules = all_modules()
    known, lazy = set(modules), lazy_names()
    source = "from . import engine\nfrom ..plotting import pyplot\nfrom grokkit import Sweep\n"
    found = imported_modules(source, "grokkit.sweep", True, known, lazy)
    assert found == [(1, "grokkit.sweep.engine"), (2, "grokkit.plotting"), (3, "grokkit.sweep")]
    assert layer_of("grokkit.measures._capture") == layer_of("grokkit.measures")
    assert layer_of("grokkit")[1] == "sweep" and layer_of("grokkit.stats")[1] == "foundation"


def test_the_import_linter_contract_names_the_same_layers():
    """pyproject.toml's import-linter contract (for ``lint-imports``) is this order, lowest last."""
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    declared = [sorted(name.strip() for name in layer.split(":")) for layer in contract["layers"]]
    ours = [sorted(p for p in prefixes if p != "grokkit") for _, prefixes in reversed(LAYERS)]
    assert declared == ours
