"""The input pipeline: in-memory images to shuffled, batched, augmented batches on any Keras backend.

:class:`Batches` (numpy plus Keras preprocessing layers, a ``keras.utils.PyDataset``)
runs on every backend. On TensorFlow, :func:`tf_dataset` does the same with
``tf.data``: measured with ``benchmarks/bench_pipeline.py`` on the default
sweep's workload it trains an epoch 2.1x faster there (Keras feeds a PyDataset
to TensorFlow through a Python generator that nothing overlaps with the train
step), so :func:`training.data.make_pipeline` picks it on that backend only.
Both shuffle every epoch, batch, and augment with the same seeded Keras layers.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["Batches", "augmentation", "tf_dataset"]


def augmentation(seed: int, flip_only: bool):
    """The training augmentation: a random horizontal flip, plus the tutorial's rotation and zoom."""
    layers = [keras.layers.RandomFlip("horizontal", seed=seed)]
    if not flip_only:
        layers += [keras.layers.RandomRotation(0.08, seed=seed), keras.layers.RandomZoom(0.1, seed=seed)]
    return keras.Sequential(layers)


def tf_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, training: bool, augment: bool, seed: int,
               flip_only: bool = False):
    """The same batches as :class:`Batches` as a ``tf.data`` pipeline (TensorFlow backend only).

    Cache, shuffle (training, reshuffled each epoch), batch, augment (training), prefetch.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if training and augment:
        aug = augmentation(seed, flip_only)
        # Sequential on purpose: the random layers advance a seed state per call, and a parallel map
        # would consume it in a nondeterministic order (runs with equal seeds then differ).
        ds = ds.map(lambda a, b: (aug(tf.cast(a, tf.float32), training=True), b))
    return ds.prefetch(tf.data.AUTOTUNE)


class Batches(keras.utils.PyDataset):
    """Batches of in-memory images for ``fit`` on any Keras backend (a ``keras.utils.PyDataset``).

    Training batches are reshuffled every epoch and optionally augmented; the
    order and the augmentation depend only on ``seed`` (equal seeds give equal
    batches, in any process, on any backend). Augmentation (random flip, rotation
    and zoom; only the flip with ``flip_only``) runs here rather than in the
    model, so the model stays a plain graph that XLA can compile and that serves
    un-augmented images at inference. The Keras random layers run one batch at
    a time in the calling thread (one worker), so their seed state advances in
    a fixed order.

    Args:
        x: uint8 images, shape (n, h, w, 3).
        y: int labels, shape (n,).
        batch_size: Examples per batch (the last batch may be smaller).
        training: Shuffle every epoch (and augment when ``augment``).
        augment: Apply the random augmentation layers to training batches.
        seed: Seed of the shuffling and of the augmentation layers.
        flip_only: Augment with the horizontal flip only.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, *, training: bool, augment: bool, seed: int,
                 flip_only: bool = False) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.x, self.y, self.batch_size, self.training = x, y, int(batch_size), training
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(y)) if training else np.arange(len(y))
        self._augment = augmentation(seed, flip_only) if training and augment else None

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x, y = self.x[rows], self.y[rows]
        if self._augment is not None:
            x = keras.ops.convert_to_numpy(self._augment(x.astype(np.float32), training=True))
        return x, y

    def on_epoch_end(self) -> None:
        if self.training:
            self._order = self._rng.permutation(len(self.y))
