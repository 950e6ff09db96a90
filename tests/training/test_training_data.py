"""The built-in flower data: deterministic, cached, balanced, and needing a CNN (a colour histogram is not enough)."""

from __future__ import annotations

import numpy as np
import pytest

from training.data import CLASS_NAMES, generate_flowers, holdout_split, kfold_splits, load_builtin


def test_generation_is_deterministic_and_balanced():
    a, b, c = generate_flowers(6, 16, seed=1), generate_flowers(6, 16, seed=1), generate_flowers(6, 16, seed=2)
    assert a.x.shape == (30, 16, 16, 3) and a.x.dtype == np.uint8
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    assert np.bincount(a.y).tolist() == [6] * 5 and a.class_names == CLASS_NAMES


def test_cache_is_written_once_and_reused(tmp_path):
    first = load_builtin(4, 16, 0, tmp_path)
    files = list(tmp_path.glob("flowers-*.npz"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    again = load_builtin(4, 16, 0, tmp_path)
    assert "cached" in again.source and files[0].stat().st_mtime_ns == stamp
    assert np.array_equal(first.x, again.x)
    files[0].write_bytes(b"damaged")  # a damaged cache is regenerated, not an error
    assert np.array_equal(load_builtin(4, 16, 0, tmp_path).x, first.x)


def test_splits_are_disjoint_and_cover_everything():
    tr, va = holdout_split(50, 0.2, 0)
    assert len(va) == 10 and not set(tr) & set(va) and len(set(tr) | set(va)) == 50
    folds = kfold_splits(50, 3, 0)
    assert sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(50))
    assert all(not set(t) & set(v) for t, v in folds)


def _colour_histogram(x: np.ndarray) -> np.ndarray:
    q = (x // 64).reshape(len(x), -1, 3).astype(int)
    idx = q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]
    return np.stack([np.bincount(i, minlength=64) for i in idx]) / idx.shape[1]


@pytest.mark.slow
def test_a_cnn_beats_a_colour_histogram_by_far(tmp_path):
    """Shapes, not colours, separate the classes: colour-histogram logistic regression vs the sweep's CNN."""
    import keras
    from sklearn.linear_model import LogisticRegression

    from training.data import make_pipeline
    from training.model import build_model

    ds = load_builtin(120, 32, 0, tmp_path)
    tr, va = holdout_split(len(ds.y), 0.25, 0)
    hist = _colour_histogram(ds.x)
    hist_acc = LogisticRegression(max_iter=3000).fit(hist[tr], ds.y[tr]).score(hist[va], ds.y[va])

    keras.utils.set_random_seed(0)
    model = build_model({"learning_rate": 3e-3}, image_size=32, num_classes=5)
    model.fit(make_pipeline(ds.x[tr], ds.y[tr], 32, training=True, augment=False, seed=0), epochs=12, verbose=0)
    cnn_acc = model.evaluate(make_pipeline(ds.x[va], ds.y[va], 256, training=False, augment=False, seed=0),
                             verbose=0)[1]
    assert hist_acc < 0.5, hist_acc      # chance is 0.2: colours help a little, by design
    assert cnn_acc > hist_acc + 0.25, (cnn_acc, hist_acc)


def _epochs(batches, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for _ in range(n):
        out.append(tuple(np.concatenate(part) for part in zip(*(batches[i] for i in range(len(batches))))))
        batches.on_epoch_end()
    return out


def test_pydataset_batches_shuffle_per_epoch_and_are_seeded():
    """The PyDataset pipeline (JAX, PyTorch): every example once per epoch, a new order each epoch, equal seeds equal."""
    from training.pipeline import Batches

    ds = generate_flowers(4, 8, seed=0)
    a = _epochs(Batches(ds.x, ds.y, 6, training=True, augment=True, seed=3, flip_only=False), 2)
    b = _epochs(Batches(ds.x, ds.y, 6, training=True, augment=True, seed=3, flip_only=False), 2)
    c = _epochs(Batches(ds.x, ds.y, 6, training=True, augment=True, seed=4, flip_only=False), 2)
    plain = Batches(ds.x, ds.y, 6, training=False, augment=True, seed=3)
    assert len(plain) == 4 and [len(plain[i][1]) for i in range(4)] == [6, 6, 6, 2]  # last batch partial
    assert all(np.array_equal(p, q) for e, f in zip(a, b) for p, q in zip(e, f))  # equal seeds, equal batches
    assert sorted(a[0][1]) == sorted(a[1][1]) == sorted(ds.y)      # every example once per epoch
    assert not np.array_equal(a[0][1], a[1][1])                   # reshuffled between epochs
    assert not np.array_equal(a[0][0], c[0][0])                   # another seed, other batches
    assert a[0][0].dtype == np.float32 and not np.array_equal(np.sort(a[0][0].ravel()), np.sort(ds.x.ravel()))
    assert np.array_equal(np.concatenate([plain[i][0] for i in range(4)]), ds.x)  # validation: as is, in order


def test_image_folder_with_a_damaged_file_names_it(tmp_path):
    """Pillow decodes the folders (no TensorFlow); a file that is not an image is one clear DataError."""
    from PIL import Image

    from training.data import load_image_folder
    from training.errors import DataError

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (10, 12), (200, 10, 10)).save(tmp_path / name / "ok.png")
    (tmp_path / "b" / "broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(DataError, match=r"cannot read image .*broken\.jpg: .*; remove or replace the file"):
        load_image_folder(tmp_path, image_size=8)
    (tmp_path / "b" / "broken.jpg").unlink()
    ds = load_image_folder(tmp_path, image_size=8)
    assert ds.x.shape == (2, 8, 8, 3) and ds.y.tolist() == [0, 1]
