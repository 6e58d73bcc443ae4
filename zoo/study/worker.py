"""The entry point of a study's child process: one plain function of a `zoo.study` module.

`python -m zoo.study.worker MODULE:FUNCTION 'JSON_KWARGS'` (see `command`) imports
`zoo.study.MODULE` and calls `FUNCTION(**kwargs)` on the backend the parent put in
KERAS_BACKEND (`zoo.study.child.child_env`); the function writes its own result
files. The bench cells and the agreement steps run this way.
"""

import importlib
import json
import sys


def command(target: str, **kwargs) -> list[str]:
    """The child's argv after `python`: run `zoo.study.<target>` ("module:function")."""
    return ["-m", "zoo.study.worker", target, json.dumps(kwargs)]


def call(target: str, kwargs: dict):
    """Import `zoo.study.<module>` and return `function(**kwargs)`."""
    module, function = target.split(":")
    from data_tools.startup import quiet_native_logs

    quiet_native_logs()
    return getattr(importlib.import_module(f"zoo.study.{module}"), function)(**kwargs)


if __name__ == "__main__":
    call(sys.argv[1], json.loads(sys.argv[2]))
