"""`python -m tests.child MODULE:FUNCTION 'JSON_KWARGS'` (see tests/child/__init__.py)."""

import importlib
import json
import sys

module, function = sys.argv[1].split(":")
kwargs = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
result = getattr(importlib.import_module(f"tests.child.{module}"), function)(**kwargs)
print(json.dumps(result), flush=True)
