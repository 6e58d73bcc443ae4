"""Out-of-memory errors of every backend, recognised without importing a backend.

JAX raises `XlaRuntimeError`/`JaxRuntimeError` ("RESOURCE_EXHAUSTED: Out of memory
while trying to allocate ..."), TensorFlow `tf.errors.ResourceExhaustedError`
("OOM when allocating tensor ..."), PyTorch `torch.OutOfMemoryError` ("CUDA out
of memory. Tried to allocate ...") or, on the host, a RuntimeError "DefaultCPUAllocator:
can't allocate memory". Matched by type name and message, so zoo code stays keras-only.
"""

from pathlib import Path

OOM_TYPES = frozenset({"OutOfMemoryError", "ResourceExhaustedError", "MemoryError"})
OOM_TEXT = ("resource_exhausted", "out of memory", "oom when allocating", "can't allocate memory")


def is_out_of_memory(exc: BaseException) -> bool:
    """True if `exc`, or an exception it was raised from, is a backend's out-of-memory error."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if OOM_TYPES & {cls.__name__ for cls in type(exc).__mro__}:
            return True
        if isinstance(exc, RuntimeError) and any(t in str(exc).lower() for t in OOM_TEXT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def advice(run_dir: Path, batch_size: int, accumulate: int) -> str:
    """The one line a run stopped by running out of memory prints (without "error: ")."""
    from zoo.run_folder import RunFolder

    folder = RunFolder(run_dir)
    state = folder.read_state()
    where = f"at epoch {state.epoch + 1}" if state else "in the first epoch"
    last = f"last checkpoint: {folder.checkpoint_path(state)}" if state else "no epoch finished, no checkpoint"
    more = accumulate * 2
    step = f"--accumulate {more} or " if batch_size % more == 0 else ""
    return (f"out of memory {where} (batch {batch_size}, {batch_size // accumulate} images a step); "
            f"try {step}a smaller --batch-size (now {batch_size}); {last}")
