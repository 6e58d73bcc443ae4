"""Data-parallel and multi-host training through `keras.distribution` (JAX backend).

Keras 3.15 implements `keras.distribution` for JAX only, so TensorFlow and
PyTorch get a one-line error. The global batch size stays the recipe's; Keras
splits each batch over the devices (and over processes, sharding the tf.data
stream per process).
"""

from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class Cluster:
    """Where this process stands: `is_chief` writes the run folder."""

    num_devices: int
    num_processes: int = 1
    process_id: int = 0

    @property
    def is_chief(self) -> bool:
        return self.process_id == 0

    @property
    def shard(self) -> tuple[int, int] | None:
        """`(count, index)` of this process's data shard, None with one process."""
        return (self.num_processes, self.process_id) if self.num_processes > 1 else None


def setup(backend: str, distribute: str | None, coordinator=None, num_processes=None,
          process_id=None) -> Cluster:
    """Initialise processes and set the distribution; call before any model is built."""
    multi_host = coordinator is not None or num_processes is not None or process_id is not None
    if (distribute or multi_host) and backend != "jax":
        raise ValueError(f"--distribute / multi-host training needs --backend jax "
                         f"(keras.distribution supports only JAX); got --backend {backend}")
    if distribute not in (None, "none", "data_parallel"):
        raise ValueError(f"--distribute {distribute!r}: valid are none, data_parallel")
    if multi_host:
        if coordinator is None or num_processes is None or process_id is None:
            raise ValueError("multi-host training needs all of --coordinator HOST:PORT, "
                             "--num-processes N and --process-id I")
        if not 0 <= process_id < num_processes:
            raise ValueError(f"--process-id {process_id} must be in 0..{num_processes - 1}")
        _initialize_processes(coordinator, num_processes, process_id)
    if distribute == "data_parallel" or multi_host:
        devices = keras.distribution.list_devices()
        # Multi-host: each process feeds its own shard of every batch (see
        # `Cluster.shard`), since Keras cannot find the batch size of a tf.data
        # stream that is mapped after batching.
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=devices, auto_shard_dataset=not multi_host)
        )
        return Cluster(len(devices), num_processes or 1, process_id or 0)
    return Cluster(1)


# Workers finish training first and wait at JAX's shutdown barrier while the chief
# evaluates the test split alone; JAX's default 5 min is too short for a large test
# split. A chief that dies is still noticed within the heartbeat timeout (100 s).
SHUTDOWN_TIMEOUT_S = 6 * 3600


def _initialize_processes(coordinator: str, num_processes: int, process_id: int) -> None:
    # backend-edge: `keras.distribution.initialize` calls `jax.distributed.initialize`
    # but exposes neither its shutdown timeout nor JAX's CPU collectives, which
    # multi-process training on CPU needs (GPUs/TPUs bring their own). The global
    # seed that Keras would agree on here is set by `train()` on every process.
    # The CPU option must be set before JAX starts, so no platform check first.
    import jax  # backend-edge: JAX's CPU collectives and shutdown timeout, not in keras.distribution

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id, shutdown_timeout_seconds=SHUTDOWN_TIMEOUT_S)


def check_batch(batch_size: int, cluster: Cluster) -> None:
    """The global batch must split evenly over the devices."""
    if batch_size % max(cluster.num_devices, cluster.num_processes):
        raise ValueError(f"--batch-size {batch_size} must be divisible by the "
                         f"{cluster.num_devices} devices (it is the global batch)")
