"""Code the tests run in a child process, one importable function per check.

Keras fixes its backend at first import, so a check on another backend runs in a
fresh process: `python -m tests.child MODULE:FUNCTION 'JSON_KWARGS'` imports
`tests.child.MODULE`, calls `FUNCTION(**kwargs)` and prints its return value as
one JSON line (`tests.conftest.run_child` starts it and reads that line).
"""
