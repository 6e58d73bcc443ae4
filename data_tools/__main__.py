"""`python -m data_tools ...` (see data_tools/cli/__init__.py)."""

import sys

from data_tools.cli import main

if __name__ == "__main__":  # ingest's worker processes (spawn) import this module too
    sys.exit(main())
