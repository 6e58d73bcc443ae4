"""Process start-up shared by `python -m zoo` and `python -m data_tools`: quiet native logs.

Backend edge: TensorFlow is imported here on purpose (the tf.data pipeline needs it
anyway), early, so that its C++ start-up notices can be filtered out.
"""

import os
import re
import sys
import tempfile

# TensorFlow's C++ start-up lines (absl's pre-init warning, oneDNN and CPU-feature
# notices) go straight to file descriptor 2 while its shared libraries load; in
# TF 2.21 TF_CPP_MIN_LOG_LEVEL no longer silences them. Hand-written because no
# library option exists: capture fd 2 during `import tensorflow` and replay every
# line that is not one of these notices.
_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IW]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]"
    r"|To enable the following instructions:"
    r"|\S+ \d\d:\d\d:\d\d\.\d+: [IW] \S+\.cc:\d+\])"
)


def quiet_native_logs() -> None:
    """Import TensorFlow (if installed) with its native start-up notices filtered out.

    Does nothing once TensorFlow is loaded, or when the user asked for the logs
    with TF_CPP_MIN_LOG_LEVEL=0. Real errors printed meanwhile are passed through.
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's Python-side INFO/WARNING
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            pass  # a torch/jax-only install; nothing to quiet
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines()
                    if line.strip() and not _NOISE.match(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr)
