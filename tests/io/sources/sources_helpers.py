"""Real sweep sources made by the real tools, and the comparison of an imported logdir with its source.

Imported by name from the tests in this directory (conftest.py only holds fixtures).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

# The study: lr (log-uniform) matters most, layers a little, dropout hardly, opt not at all;
# every 9th trial is pruned after two steps, every 11th fails.
N_TRIALS = 60


def objective(trial):
    import optuna

    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 4)
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.1)
    opt = trial.suggest_categorical("opt", ["adam", "sgd"])
    score = -((math.log10(lr) + 3.0) ** 2) + 0.3 * layers - 0.2 * dropout + 0.0 * (opt == "adam")
    for step in range(3):
        trial.report(score * (step + 1) / 3, step)
        if trial.number % 9 == 4 and step == 1:
            raise optuna.TrialPruned()
    if trial.number % 11 == 7:
        raise ValueError("this trial fails on purpose")
    return score


def make_study(storage, name: str = "study", n_trials: int = N_TRIALS, seed: int = 0):
    """Run the study with Optuna itself (TPE, seeded) into ``storage``; return the ``optuna.Study``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials, catch=(ValueError,))
    return study


def journal_storage(path: Path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))


def make_mlflow_store(root: Path) -> Path:
    """Three runs (one failed, one with a nested metric key) logged by mlflow itself into ``root/mlruns``."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # mlflow 3 keeps the file store behind this switch
    import mlflow

    store = root / "mlruns"
    mlflow.set_tracking_uri(store.resolve().as_uri())
    mlflow.set_experiment("sweep")
    for i, (lr, opt) in enumerate([(0.1, "adam"), (0.01, "sgd"), (0.001, "adam")]):
        with mlflow.start_run(run_name=f"run-{i}"):
            mlflow.log_params({"lr": lr, "optimizer": opt, "layers": i + 1, "tag": "007" if i else "x7"})
            for step in range(3):
                mlflow.log_metric("val/accuracy", 0.5 + lr * step + i / 10, step=step)
                mlflow.log_metric("loss", 1.0 / (step + 1 + i), step=step)
            if i == 2:
                mlflow.end_run(status="FAILED")
    return store


WANDB_CSV = """\
Name,State,Notes,Created,Runtime,Sweep,config.lr,config.batch_size,config.optimizer,summary.val_acc,summary.loss,summary._runtime,summary._step
sunny-1,finished,-,2024-05-01T10:00:00.000Z,120,abc,0.01,32,adam,0.81,0.42,120,9
misty-2,finished,-,2024-05-01T10:05:00.000Z,100,abc,0.001,64,sgd,0.66,0.71,100,9
rainy-3,crashed,-,2024-05-01T10:10:00.000Z,30,abc,0.1,32,adam,,1.9,30,2
foggy-4,running,-,2024-05-01T10:15:00.000Z,50,abc,0.0001,64,sgd,0.52,0.99,50,4
"""


def assert_import_matches(source_experiment, logdir: Path, reference) -> dict:
    """TensorBoard's HParams backend on the imported ``logdir`` shows what the source says.

    Sessions, groups, statuses, times, hparams (typed), metric names and last values (float32 in the
    event files, hence rel 1e-6), hparam domains. Also our reader agrees with TensorBoard on ``logdir``.
    Returns TensorBoard's view.
    """
    tb = reference.tensorboard_view(logdir)
    src = reference.reader_view(None, experiment=source_experiment)
    assert sorted(tb["sessions"]) == sorted(src["sessions"]) and tb["sessions"]
    for name, want in src["sessions"].items():
        got = tb["sessions"][name]
        assert (got["group"], got["status"]) == (want["group"], want["status"]), name
        for key in ("start_time", "end_time"):
            assert got[key] == (pytest.approx(want[key]) if want[key] is not None else None), (name, key)
        assert reference.typed(got["hparams"]) == reference.typed(want["hparams"]), name
        assert sorted(got["metrics"]) == sorted(want["metrics"]), name
        for metric, value in want["metrics"].items():
            assert got["metrics"][metric] == pytest.approx(value, rel=1e-6), (name, metric)
    assert tb["metrics"] == src["metrics"]
    assert tb["hparam_infos"] == src["hparam_infos"]
    assert tb["description"] == src["description"]
    reference.assert_matches_tensorboard(logdir)
    return tb
