"""Logdirs from more real writers against TensorBoard's own HParams backend.

* Keras' TensorBoard callback plus a custom callback logging ``validation/epoch_loss`` in the
  session's own run: two metrics that flatten to the same ``<group>/<tag>`` (issue 10, item 1);
* PyTorch Lightning's ``TensorBoardLogger`` (several versions in one logdir, ``log_hyperparams``
  with metrics: one experiment record per version, often different);
* optuna-integration's ``TensorBoardCallback`` with completed, pruned and failed trials.

Where TensorBoard is not deterministic -- it takes the experiment record of whichever run its
hash map yields first -- the test accepts every answer TensorBoard can give (each run's record)
and checks what the reader does instead (the first run by name, with one warning).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tensorboard_reference import assert_matches_tensorboard, reader_view, tensorboard_view, typed

from hparams_tools import read_experiment
from hparams_tools.errors import ExperimentConflictWarning


# --------------------------------------------------------------------------------------------
# Keras + a custom callback: (validation, epoch_loss) and ("", validation/epoch_loss)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras_collision_logdir(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    from tensorboard.plugins.hparams import api as hp

    keras = tf.keras
    logdir = tmp_path_factory.mktemp("keras_collision")
    rng = np.random.RandomState(0)
    x = rng.rand(32, 4).astype("float32")
    y = (x.sum(axis=1) > 2.0).astype("int32")

    class ValidationLossInSessionRun(keras.callbacks.Callback):
        """The custom-callback pattern: log the validation loss into the session's own run."""

        def __init__(self, run_dir: str) -> None:
            super().__init__()
            self.writer = tf.summary.create_file_writer(run_dir)

        def on_epoch_end(self, epoch, logs=None):
            with self.writer.as_default():
                tf.summary.scalar("validation/epoch_loss", logs["val_loss"] * 10.0, step=epoch)
            self.writer.flush()

    for i, units in enumerate((4, 8)):
        keras.utils.set_random_seed(i)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"), keras.layers.Dense(2)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        run = str(logdir / f"run-{i}")
        model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                  callbacks=[keras.callbacks.TensorBoard(run), hp.KerasCallback(run, {"units": units}),
                             ValidationLossInSessionRun(run)])
    return logdir


@pytest.mark.slow
def test_metrics_flattening_to_one_name_stay_apart(keras_collision_logdir, tmp_path):
    tb = assert_matches_tensorboard(keras_collision_logdir)  # TensorBoard keeps them apart by (group, tag)
    assert {"epoch_loss [validation]", "validation/epoch_loss [.]"} <= set(tb["metrics"])
    exp = read_experiment(keras_collision_logdir)
    names = [m.name for m in exp.metric_infos]
    assert len(names) == len(set(names)) and "validation/epoch_loss" not in names
    keras_loss = exp.metrics()["epoch_loss [validation]"]
    custom = exp.metrics()["validation/epoch_loss [.]"]
    np.testing.assert_allclose(custom.to_numpy(), keras_loss.to_numpy() * 10.0, rtol=1e-5)
    # JSON and CSV follow the same rule: two columns, two keys, nothing silently dropped
    from hparams_tools.io.export import flat_table, session_records

    (record, *_) = session_records(exp)
    assert {"epoch_loss [validation]", "validation/epoch_loss [.]"} <= set(record["metrics"])
    columns = list(flat_table(exp).columns)
    assert len(columns) == len(set(columns)) and "epoch_loss [validation]" in columns
    assert len(exp.metric_steps("validation/epoch_loss [.]")) == 4  # 2 sessions x 2 epochs


# --------------------------------------------------------------------------------------------
# PyTorch Lightning's TensorBoardLogger
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lightning_logdir(tmp_path_factory):
    pytest.importorskip("lightning")
    torch = pytest.importorskip("torch")
    import lightning.pytorch as pl
    from lightning.pytorch.loggers import TensorBoardLogger

    root = tmp_path_factory.mktemp("lightning")

    class Tiny(pl.LightningModule):
        def __init__(self, lr: float, width: int, momentum: float | None = None) -> None:
            super().__init__()
            # the last version adds a hyperparameter: its experiment record differs from the others'
            self.save_hyperparameters(ignore=[] if momentum is not None else ["momentum"])
            self.net = torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.ReLU(), torch.nn.Linear(width, 1))

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss, on_epoch=True, on_step=False)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    x = torch.rand(32, 4)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=16)
    for lr, width, momentum in ((0.1, 4, None), (0.01, 8, None), (0.05, 4, 0.9)):
        # default_hp_metric=True: the logger writes an experiment record with hp_metric per version
        logger = TensorBoardLogger(str(root), name="tiny")
        model = Tiny(lr, width, momentum)
        trainer = pl.Trainer(max_epochs=2, logger=logger, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, accelerator="cpu", devices=1)
        trainer.fit(model, loader, loader)
        logger.log_hyperparams(model.hparams, {"hp_metric": float(trainer.callback_metrics["val_loss"])})
        logger.finalize("success")
    return root / "tiny"


def _experiment_choices(logdir):
    """Every experiment TensorBoard can pick: one per run holding an experiment record."""
    from hparams_tools.io.events import ExperimentInfo, read_events

    choices = []
    for path in sorted(logdir.rglob("events.out.tfevents.*")):
        items, _ = read_events(path)
        choices += [sorted(m.name for m in x.metric_infos) for x in items if isinstance(x, ExperimentInfo)]
    return choices


@pytest.mark.slow
def test_lightning_versions_against_tensorboard(lightning_logdir):
    tb = tensorboard_view(lightning_logdir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exp = read_experiment(lightning_logdir)
    ours = reader_view(lightning_logdir, exp)
    assert sorted(ours["sessions"]) == sorted(tb["sessions"]) == ["version_0", "version_1", "version_2"]
    for name, expected in tb["sessions"].items():
        got = ours["sessions"][name]
        assert typed(got["hparams"]) == typed(expected["hparams"])
        assert got["status"] == expected["status"]
        # TensorBoard shows only the metrics of the experiment it picked; ours are a superset
        for metric, value in expected["metrics"].items():
            assert got["metrics"][metric] == pytest.approx(value)
    # Each version declares its own experiment record; TensorBoard may pick any of them
    choices = _experiment_choices(lightning_logdir)
    assert len(choices) >= 3
    assert tb["metrics"] in choices
    assert ours["metrics"] == choices[0]  # ours: the first run by name (version_0)
    conflicts = [w for w in caught if issubclass(w.category, ExperimentConflictWarning)]
    assert len(conflicts) == 1 and "'version_0'" in str(conflicts[0].message)
    assert exp.experiment_conflict == str(conflicts[0].message)
    # the hparams TensorBoard shows for a session are its own start info's, whichever record it picked
    assert ours["sessions"]["version_2"]["hparams"]["momentum"] == 0.9


# --------------------------------------------------------------------------------------------
# optuna-integration's TensorBoardCallback: completed, pruned and failed trials
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def optuna_logdir(tmp_path_factory):
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("tensorflow")
    integration = pytest.importorskip("optuna_integration")
    root = tmp_path_factory.mktemp("optuna") / "tb"
    callback = integration.TensorBoardCallback(str(root), metric_name="score")
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if trial.number == 2:
            trial.report(1.0, 0)
            raise optuna.TrialPruned()
        if trial.number == 3:
            raise ValueError("failed on purpose")
        return (x - 2) ** 2 + (kind == "b")

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=6, callbacks=[callback], catch=(ValueError,))
    return root, study


@pytest.mark.slow
def test_optuna_tensorboard_callback_against_tensorboard(optuna_logdir):
    root, study = optuna_logdir
    tb = tensorboard_view(root)
    exp = read_experiment(root)
    ours = reader_view(root, exp)
    assert sorted(ours["sessions"]) == sorted(tb["sessions"])
    for name, expected in tb["sessions"].items():
        got = ours["sessions"][name]
        assert typed(got["hparams"]) == typed(expected["hparams"]), name
        assert got["status"] == expected["status"], name
        assert got["metrics"] == expected["metrics"], name
    assert ours["hparam_infos"] == tb["hparam_infos"]
    # What the callback writes (optuna-integration 4.x): no experiment record (both infer it),
    # one session per *completed* trial only -- pruned and failed trials leave
    # nothing -- with the objective as scalar "score" at step = trial number and no end info
    # (status UNKNOWN). Both readers agree on all of it.
    assert not exp.declared
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) < len(study.trials)  # the pruned and the failed trial exist in the study
    assert sorted(exp.sessions.index) == sorted(f"trial-{t.number}" for t in complete)
    assert set(exp.sessions["status"]) == {"UNKNOWN"}
    scores = exp.metrics()["score"]
    for t in complete:
        assert scores[f"trial-{t.number}"] == pytest.approx(t.value, rel=1e-6)
