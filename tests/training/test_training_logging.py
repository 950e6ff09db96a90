"""``EpochScalars`` writes what Keras' own TensorBoard callback writes (read back by TensorBoard's EventAccumulator)."""

from __future__ import annotations

import numpy as np
import pytest


def _runs(logdir) -> dict:
    """{run: {tag: [(step, value, plugin name)]}} for the ``train`` and ``validation`` runs, as TensorBoard reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    out = {}
    for run in ("train", "validation"):
        acc = EventAccumulator(str(logdir / run), size_guidance={"tensors": 0})
        acc.Reload()
        out[run] = {tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)),
                           acc.SummaryMetadata(tag).plugin_data.plugin_name) for e in acc.Tensors(tag)]
                    for tag in acc.Tags()["tensors"]}
    return out


@pytest.mark.slow
def test_epoch_scalars_equal_keras_tensorboard_callback(tmp_path):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("Keras' TensorBoard callback needs the TensorFlow backend")
    from training.hparams_logging import EpochScalars
    from training.model import build_model

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, (24, 8, 8, 3)).astype("uint8"), rng.integers(0, 5, 24)
    model = build_model({"conv_blocks": 1}, image_size=8, num_classes=5)
    model.fit(x, y, validation_split=0.25, batch_size=8, epochs=3, initial_epoch=1, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "keras"), write_graph=False, profile_batch=0),
                         EpochScalars(tmp_path / "ours")])

    theirs, ours = _runs(tmp_path / "keras"), _runs(tmp_path / "ours")
    assert set(ours["train"]) == {"epoch_accuracy", "epoch_loss", "epoch_learning_rate"}
    assert set(ours["validation"]) == {"epoch_accuracy", "epoch_loss", "evaluation_accuracy_vs_iterations",
                                       "evaluation_loss_vs_iterations"}
    assert [step for step, _, _ in ours["validation"]["evaluation_loss_vs_iterations"]] == [3, 6]  # 3 batches/epoch
    assert [step for step, _, _ in ours["train"]["epoch_loss"]] == [1, 2]  # steps continue from initial_epoch
    assert ours == theirs  # same tags, steps, values (float32) and scalars plugin metadata
