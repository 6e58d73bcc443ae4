"""`python -m zoo ...` (see zoo/cli/__init__.py)."""

import sys

from zoo.cli import main

sys.exit(main())
