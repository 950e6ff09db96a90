"""Input pipelines on the TensorFlow backend: ``tf.data`` (the baseline) vs the PyDataset the other backends use.

The sweep feeds JAX and PyTorch through a ``keras.utils.PyDataset``
(:class:`training.pipeline.Batches`); this script measures whether TensorFlow
should use it too or keep ``tf.data`` (:func:`training.pipeline.tf_dataset`),
a second pipeline: the default sweep's
workload (built-in flowers, 32 px, 1,000 training images, batch 32, flip
augmentation, the project's CNN), epochs timed after a warm-up epoch, the two
pipelines alternating so that a busy machine slows both alike.

    python benchmarks/bench_pipeline.py [--epochs 4] [--rounds 3]

Prints the median seconds per epoch of each and the ratio PyDataset / tf.data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per fit (after one warm-up epoch)")
    parser.add_argument("--rounds", type=int, default=3, help="fits per pipeline, alternating")
    args = parser.parse_args()

    import keras

    from training.data import holdout_split, load_builtin
    from training.model import build_model
    from training.pipeline import Batches, tf_dataset

    ds = load_builtin(250, 32, 0, "logs/.cache")
    tr, va = holdout_split(len(ds.y), 0.2, 0)
    pipelines = {
        name: lambda train, make=make: make(ds.x[tr] if train else ds.x[va], ds.y[tr] if train else ds.y[va],
                                            32 if train else 256, training=train, augment=train, seed=0,
                                            flip_only=True)
        for name, make in (("tf.data (baseline)", tf_dataset), ("PyDataset", Batches))
    }
    times: dict[str, list[float]] = {name: [] for name in pipelines}

    class Timer(keras.callbacks.Callback):
        def __init__(self, sink: list[float]) -> None:
            super().__init__()
            self.sink = sink

        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if epoch > 0:  # the first epoch compiles
                self.sink.append(time.perf_counter() - self.t)

    for _ in range(args.rounds):
        for name, make in pipelines.items():
            keras.utils.set_random_seed(0)
            model = build_model({}, image_size=32, num_classes=5)
            model.fit(make(True), validation_data=make(False), epochs=args.epochs + 1, verbose=0,
                      callbacks=[Timer(times[name])])
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, value in med.items():
        print(f"{name:20s} median {value:.3f} s/epoch over {len(times[name])} epochs")
    base, ours = med["tf.data (baseline)"], med["PyDataset"]
    print(f"PyDataset / tf.data = {ours / base:.2f}")


if __name__ == "__main__":
    main()
