"""Sphinx configuration of the grokkit documentation (``pip install -e ".[docs]"``).

Build: ``sphinx-build -W -b html docs docs/_build/html``.
"""

import re

import grokkit

project = "grokkit"
author = "grokkit developers"
release = grokkit.__version__
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax", "numpydoc"]
exclude_patterns = ["_build"]
autosummary_generate = False
autodoc_default_options: dict = {}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False
nitpicky = False
html_theme = "alabaster"
html_static_path = ["_static"]
suppress_warnings = ["autodoc.import_object"]


_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])(\w+)_(?=[,)])")


def _escape_shape_names(app, what, name, obj, options, lines):
    """``(n_features_in_,)`` in a shape is text, not a reST link target."""
    lines[:] = [_TRAILING_UNDERSCORE.sub(r"\1\\_", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _escape_shape_names)
