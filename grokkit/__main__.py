"""``python -m grokkit``: the ``grokkit`` command line."""

import sys

from grokkit.cli import main

sys.exit(main())
