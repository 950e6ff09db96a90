"""Data for the sweep: built-in generated flowers, image folders, tfds; the backend-neutral input pipeline.

The built-in dataset draws five flower classes with the tf_flowers names. Each
class has its own *shape* (petal count and form, centre size, spiral, cup and
stem) while colours, backgrounds, size, position, rotation and noise are drawn
from distributions shared by all classes (each class only leans towards its
usual colours). A colour histogram therefore separates the classes poorly and a
CNN has to look at shape and texture; the learning rate and the number of
epochs visibly decide how well it does.

Images are generated with numpy (a few seconds for the default size) and cached
as ``.npz`` under the cache directory (``logs/.cache`` by default), keyed by
every generation parameter, so reruns and resumed sweeps load instantly.

Every source ends as numpy arrays in memory; :func:`make_pipeline` (a
``keras.utils.PyDataset``, :mod:`training.pipeline`) feeds them to ``fit`` on any Keras backend.
Only ``tfds:`` needs TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hparams_tools._files import atomic_write

from .errors import DataError

__all__ = [
    "CLASS_NAMES",
    "Dataset",
    "generate_flowers",
    "load_builtin",
    "load_image_folder",
    "load_tfds",
    "load_data",
    "holdout_split",
    "kfold_splits",
    "make_pipeline",
]

CLASS_NAMES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

# Petal colours shared by every class; each class prefers some of them.
_PALETTE = np.array([
    [0.95, 0.95, 0.92],  # white
    [0.98, 0.85, 0.15],  # yellow
    [0.85, 0.12, 0.20],  # red
    [0.95, 0.45, 0.65],  # pink
    [0.95, 0.55, 0.10],  # orange
    [0.60, 0.30, 0.75],  # purple
])
_PREFERRED = {0: (0, 3), 1: (1, 0), 2: (2, 3), 3: (1, 4), 4: (2, 5)}


@dataclass
class Dataset:
    """Images and labels in memory.

    Attributes:
        x: uint8 images, shape (n, h, w, 3).
        y: int32 labels, shape (n,).
        class_names: Class names in label order.
        source: Where the data came from (for the log).
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    source: str


def _flower(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    """Draw one flower of class ``label`` at 2x resolution and downsample (anti-aliasing)."""
    s = 2 * size
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
    # Background: a random two-colour vertical gradient (grass, soil, sky, wall) plus blotches.
    c1, c2 = rng.uniform(0.05, 0.75, 3), rng.uniform(0.05, 0.75, 3)
    t = yy[..., None]
    img = c1 * (1 - t) + c2 * t
    for _ in range(3):
        bx, by, br = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.3)
        blob = np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * br * br))[..., None]
        img = img * (1 - 0.5 * blob) + 0.5 * blob * rng.uniform(0, 0.8, 3)

    cx, cy = rng.uniform(0.3, 0.7, 2)
    radius = rng.uniform(0.22, 0.42)
    rot = rng.uniform(0, 2 * np.pi)
    dx, dy = xx - cx, yy - cy
    if label == 4:  # tulips: stem below the head
        stem = (np.abs(dx) < 0.025) & (dy > 0) & (dy < 0.5)
        img = np.where(stem[..., None], np.array([0.15, 0.55, 0.15]) * rng.uniform(0.6, 1.2), img)
    r = np.sqrt(dx * dx + dy * dy) / radius
    theta = np.arctan2(dy, dx) + rot

    pick = rng.choice(_PREFERRED[label]) if rng.random() < 0.55 else rng.integers(len(_PALETTE))
    petal = np.clip(_PALETTE[pick] * rng.uniform(0.75, 1.1) + rng.normal(0, 0.06, 3), 0, 1)
    centre_colour = np.clip(rng.uniform(0.1, 0.9, 3), 0, 1)
    shade = 1.0
    if label == 0:  # daisy: many thin petals, small centre
        n = rng.integers(9, 14)
        edge = 0.45 + 0.55 * np.abs(np.cos(n * theta / 2)) ** 6
        centre = 0.22
    elif label == 1:  # dandelion: fuzzy ball with fine radial streaks, no centre
        n = rng.integers(22, 30)
        edge = 0.85 + 0.15 * np.cos(n * theta)
        shade = 0.7 + 0.3 * np.cos(3 * n * theta) ** 2
        centre = 0.0
    elif label == 2:  # roses: round head with a spiral of dark lines
        edge = 0.9 + 0.08 * np.cos(5 * theta)
        shade = 0.55 + 0.45 * (np.sin(9 * r * radius * 6 - 2 * theta) > -0.2)
        centre = 0.0
    elif label == 3:  # sunflowers: few broad petals, large dark centre
        n = rng.integers(7, 10)
        edge = 0.55 + 0.45 * np.abs(np.cos(n * theta / 2)) ** 1.2
        centre = 0.5
        centre_colour = np.clip(rng.uniform(0.05, 0.45, 3), 0, 1)
    else:  # tulips: a cup of three pointed petals opening upwards
        up = np.arctan2(dy, dx) + rng.normal(0, 0.25)
        edge = 0.55 + 0.45 * np.abs(np.cos(1.5 * (up + np.pi / 2))) ** 0.7
        edge = np.where(np.sin(up) > 0.2, 0.65, edge)
        shade = 0.75 + 0.25 * (np.abs(np.cos(1.5 * (up + np.pi / 2))) > 0.5)
        centre = 0.0
    inside = r < edge
    colour = petal * np.asarray(shade, dtype=np.float32)[..., None] if np.ndim(shade) else petal * shade
    img = np.where(inside[..., None], colour, img)
    if centre:
        disk = r < centre * rng.uniform(0.85, 1.15)
        dots = 0.8 + 0.2 * (np.sin(40 * xx) * np.sin(40 * yy) > 0)
        img = np.where(disk[..., None], centre_colour * dots[..., None], img)
    img = img * rng.uniform(0.7, 1.2) + rng.normal(0, rng.uniform(0.02, 0.1), img.shape)
    img = img.reshape(size, 2, size, 2, 3).mean(axis=(1, 3))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def generate_flowers(samples_per_class: int = 300, image_size: int = 32, seed: int = 0) -> Dataset:
    """Generate the built-in flower dataset (deterministic for a seed).

    Args:
        samples_per_class: Images per class.
        image_size: Side of the square images in pixels.
        seed: Random seed; equal seeds give identical images.

    Returns:
        A :class:`Dataset` with the examples shuffled.
    """
    rng = np.random.default_rng(seed)
    n = samples_per_class * len(CLASS_NAMES)
    y = np.repeat(np.arange(len(CLASS_NAMES), dtype=np.int32), samples_per_class)
    y = y[rng.permutation(n)]
    x = np.stack([_flower(rng, int(label), image_size) for label in y])
    return Dataset(x, y, CLASS_NAMES, f"built-in flowers ({samples_per_class}/class, {image_size}px, seed {seed})")


def load_builtin(samples_per_class: int = 300, image_size: int = 32, seed: int = 0,
                 cache_dir: str | os.PathLike[str] | None = "logs/.cache") -> Dataset:
    """The built-in dataset, from the cache when present (written atomically otherwise)."""
    if cache_dir is None:
        return generate_flowers(samples_per_class, image_size, seed)
    key = json.dumps({"v": 1, "n": samples_per_class, "size": image_size, "seed": seed}, sort_keys=True)
    path = Path(cache_dir) / f"flowers-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        try:
            with np.load(path) as data:
                return Dataset(data["x"], data["y"], CLASS_NAMES,
                               f"built-in flowers ({samples_per_class}/class, {image_size}px, seed {seed}, cached)")
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is simply regenerated
    ds = generate_flowers(samples_per_class, image_size, seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "wb") as fh:
            np.savez(fh, x=ds.x, y=ds.y)
    except OSError:
        pass  # the cache is an optimisation only
    return ds


def load_image_folder(directory: str | os.PathLike[str], image_size: int = 64) -> Dataset:
    """Load a Keras-tutorial style folder: one sub-folder of JPEG/PNG images per class.

    Raises:
        DataError: if the folder is missing, has no images, or fewer than two classes.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DataError(f"data folder {root} does not exist (expected one sub-folder of images per class)")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    counts = {c: sum(1 for f in (root / c).iterdir() if f.suffix.lower() in IMAGE_EXTENSIONS) for c in classes}
    with_images = [c for c, k in counts.items() if k > 0]
    if not with_images:
        raise DataError(f"data folder {root} holds no images: put JPEG/PNG files in one sub-folder per class")
    if len(with_images) < 2:
        raise DataError(f"data folder {root} has only one class ({with_images[0]!r}); a classifier needs at least two "
                        "sub-folders of images")
    from PIL import Image, UnidentifiedImageError

    xs, ys = [], []
    for label, name in enumerate(with_images):
        for path in sorted(f for f in (root / name).iterdir() if f.suffix.lower() in IMAGE_EXTENSIONS):
            try:
                with Image.open(path) as img:
                    # Bilinear like keras.utils.image_dataset_from_directory; Pillow also anti-aliases when shrinking.
                    img = img.convert("RGB").resize((image_size, image_size), Image.Resampling.BILINEAR)
                    xs.append(np.asarray(img, dtype=np.uint8))
            except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
                why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise DataError(f"cannot read image {path}: {why}; remove or replace the file") from None
            ys.append(label)
    return Dataset(np.stack(xs), np.asarray(ys, np.int32), tuple(with_images), f"image folder {root}")


def _network_reachable(timeout: float = 3.0) -> bool:
    """Whether a download could start at all: one TCP connection to the probe host.

    tfds retries unreachable hosts for minutes before giving up; this answers in
    seconds. ``TRAINING_NET_PROBE=host:port`` changes the probe (default
    storage.googleapis.com:443, where TFDS keeps its data).
    """
    import socket

    host, _, port = os.environ.get("TRAINING_NET_PROBE", "storage.googleapis.com:443").rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def load_tfds(name: str, image_size: int = 64, data_dir: str | None = None) -> Dataset:
    """Load a TensorFlow Datasets image dataset (e.g. ``tf_flowers``) into memory.

    A dataset already prepared in ``data_dir`` (default ``~/tensorflow_datasets``
    or ``$TFDS_DATA_DIR``) loads offline; otherwise it is downloaded once.

    Raises:
        DataError: if the Keras backend is not TensorFlow, tensorflow-datasets is missing, the dataset is
            unknown, or not prepared while the network is unreachable, or it cannot be read.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise DataError(f"--data tfds:{name} needs the TensorFlow backend (tensorflow-datasets is built on tf.data); "
                        f"pass --backend tensorflow, or --data DIR with the images in one folder per class")
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(f"--data tfds:{name} needs tensorflow-datasets: pip install 'hparams-tools[tfds]'") from None
    import tensorflow as tf
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)  # tfds warns about half-made folders; our error says it
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as exc:  # DatasetNotFoundError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"unknown tfds dataset {name!r}: {first}") from None
    if not builder.is_prepared() and not _network_reachable():
        raise DataError(
            f"tfds:{name} is not downloaded in {builder.data_dir} and the network is unreachable; "
            "download it once while online, or pass --data DIR with the images in one folder per class"
        )
    try:
        ds, info = tfds.load(name, split="train", as_supervised=True, with_info=True, data_dir=data_dir)
        ds = ds.map(lambda x, y: (tf.cast(tf.image.resize(x, (image_size, image_size)), tf.uint8), y))
        xs, ys = zip(*ds.as_numpy_iterator())
    except Exception as exc:  # tfds raises many types (network, checksum, corrupt files)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot load tfds:{name}: {first}") from None
    names = tuple(info.features["label"].names)
    return Dataset(np.stack(xs), np.asarray(ys, np.int32), names, f"tfds:{name}")


def load_data(spec: str, *, image_size: int, samples_per_class: int, seed: int,
              cache_dir: str | os.PathLike[str] | None) -> Dataset:
    """Load data from ``--data``: ``builtin``, ``tfds:<name>`` or an image folder path."""
    if spec == "builtin":
        return load_builtin(samples_per_class, image_size, seed, cache_dir)
    if spec.startswith("tfds:"):
        return load_tfds(spec[5:], image_size)
    return load_image_folder(spec, image_size)


def holdout_split(n: int, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic train/validation index split."""
    order = np.random.default_rng(seed + 1).permutation(n)
    n_val = max(1, int(round(n * validation_fraction)))
    return order[n_val:], order[:n_val]


def kfold_splits(n: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """K disjoint validation folds covering every example once."""
    if folds < 2 or folds > n:
        raise DataError(f"--folds must be between 2 and the number of examples ({n}), got {folds}")
    order = np.random.default_rng(seed + 1).permutation(n)
    parts = np.array_split(order, folds)
    return [(np.concatenate(parts[:k] + parts[k + 1:]), parts[k]) for k in range(folds)]


def make_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, *, training: bool, augment: bool, seed: int,
                  flip_only: bool = False):
    """The input pipeline of a fit: ``tf.data`` on the TensorFlow backend, a ``PyDataset`` on the others.

    Both shuffle every epoch (training), batch, and augment with the same seeded Keras layers
    (see :mod:`training.pipeline` for why TensorFlow keeps ``tf.data``). Imported here on first
    use so that loading data never imports keras (and so never fixes the backend).
    """
    import keras

    from .pipeline import Batches, tf_dataset

    make = tf_dataset if keras.backend.backend() == "tensorflow" else Batches
    return make(x, y, batch_size, training=training, augment=augment, seed=seed, flip_only=flip_only)
