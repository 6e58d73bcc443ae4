"""input-pipeline benchmark: img/s per tf.data stage (data_tools.bench)

Runs on the current Keras backend (KERAS_BACKEND); tf.data does the work either way,
but keras preprocessing layers inside it can be slower under some backends.
"""

from data_tools.usage import UsageError


def add_arguments(p) -> None:
    p.add_argument("data_dir", metavar="DIR", help="dataset folder with manifest.csv")
    p.add_argument("--split", default="train", help="manifest split to read (default train)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--image-size", type=int, default=128, help="square side in pixels")
    p.add_argument("--batches", type=int, default=30, help="timed batches per case")


def run(args) -> int:
    from data_tools.startup import quiet_native_logs

    quiet_native_logs()  # before data_tools.bench imports TensorFlow
    from data_tools import bench

    if min(args.batch_size, args.image_size, args.batches) < 1:
        raise UsageError("--batch-size, --image-size and --batches must be at least 1")
    bench.run(args.data_dir, args.split, args.batch_size, args.image_size, args.batches)
    return 0
