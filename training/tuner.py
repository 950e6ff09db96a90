"""The keras-tuner side: oracles per strategy and the tuner that runs, validates and logs a trial.

Oracles decide, the tuner runs (keras-tuner's split). :class:`FlowerTuner`
overrides ``run_trial``: it builds the CNN, fits it on a hold-out split or on
each of K folds, writes one HParams session per fit through
:mod:`training.hparams_logging`, and returns the objective (the mean over folds)
to the oracle (repeats with ``executions_per_trial`` are sessions of the same
group too). A non-finite loss stops the fit at once, ends the session with
FAILURE and raises ``FailedTrialError`` (keras-tuner: mark failed, no retry);
any other exception in a trial also ends its session with FAILURE.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

import keras
import keras_tuner as kt

from hparams_tools._files import safe_join

from ._backend import set_random_seed
from .data import Dataset, holdout_split, kfold_splits, make_pipeline
from .hparams_logging import EpochScalars, Session
from .model import MODEL_HPARAMS, build_model
from .oracle_ops import Lease, TrialRevoked
from .gone import wait_for_chief
from .space import python_value, trial_values

__all__ = ["TrialSetup", "HybridOracle", "make_oracle", "hyperband_trial_count", "FlowerTuner", "history_key"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _one_line(exc: BaseException) -> str:
    """An exception as one short line (Keras messages carry ANSI codes and several paragraphs)."""
    text = _ANSI.sub("", str(exc))
    first = next((line.strip() for line in text.splitlines() if line.strip() and "Exception encountered" not in line),
                 "")
    line = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "..."


_TUNER_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round", "tuner/trial_id")


@dataclass
class TrialSetup:
    """Everything a trial needs besides its hyperparameter values."""

    data: Dataset
    logdir: Path
    image_size: int
    objective: str
    goal: str
    logged: tuple[str, ...]          # hyperparameter names written to each session
    seed: int = 0
    folds: int = 0                   # 0: hold-out
    executions: int = 1              # repeats per trial (fresh weights), each its own session in the group
    validation_fraction: float = 0.2
    augment: str = "full"
    hyperband: bool = False
    mixed_precision: bool = False
    jit_compile: bool | str = "auto"
    distribution: Any = None         # a tf.distribute strategy (TensorFlow backend, several GPUs), or None
    fit_verbose: int = 0
    epoch_budget: int | None = None  # stop starting trials once this process trained this many epochs
    on_trial_done: Callable[[Any, dict], None] | None = field(default=None, repr=False)
    # called after keras-tuner ended a trial (any status) with (trial, info)
    lease: Lease | None = None       # a chief/worker sweep's worker: heartbeats, and whether it holds its trial


def history_key(metric: str) -> str:
    """Keras history key of an exported metric name (``validation/epoch_accuracy`` -> ``val_accuracy``)."""
    group, _, tag = metric.rpartition("/")
    tag = tag.removeprefix("epoch_")
    return f"val_{tag}" if group == "validation" else tag


class HybridOracle(kt.Oracle):
    """Grid over every ``Choice`` parameter, random sampling over every ``Float``/``Int``.

    Trial ``i`` takes grid combination ``i mod G`` (so ``max_trials = k*G``
    repeats the grid k times with fresh random draws) and draws its
    distribution parameters from a generator seeded by ``(seed, i)``, so a
    resumed or distributed sweep proposes the same values.
    """

    def populate_space(self, trial_id: str) -> dict:
        hps = self.get_space()
        grid = [h for h in hps.space if type(h).__name__ == "Choice"]
        combos = list(itertools.product(*[h.values for h in grid])) or [()]
        index = len(self.trials)
        if self.max_trials and index >= self.max_trials:
            return {"status": "STOPPED", "values": None}
        combo = dict(zip([h.name for h in grid], combos[index % len(combos)]))
        rng = np.random.default_rng([int(self.seed or 0), index])
        values = {}
        for h in hps.space:
            if not all(c.is_active(values) for c in h.conditions):
                continue  # a conditional range of another category (parents come first in the space)
            if h.name in combo:
                values[h.name] = combo[h.name]
            elif type(h).__name__ == "Fixed":
                values[h.name] = h.value
            else:
                values[h.name] = h.random_sample(int(rng.integers(2**31 - 1)))
        return {"status": "RUNNING", "values": values}


def _hyperband_brackets(max_epochs: int, factor: int) -> int:
    epochs, brackets = float(max_epochs), 0
    while epochs >= 1:
        epochs /= factor
        brackets += 1
    return brackets


def hyperband_trial_count(max_epochs: int, factor: int, iterations: int = 1) -> int:
    """Number of trials keras-tuner's Hyperband runs (its bracket formulas)."""
    end0 = math.ceil(1 + math.log(max_epochs, factor))
    total = 0
    for b in range(_hyperband_brackets(max_epochs, factor)):
        total += sum(math.ceil(end0 / (b + 1) * factor ** (b - r)) for r in range(b + 1))
    return total * iterations


def make_oracle(method: str, hps: Any, *, objective: str, goal: str, max_trials: int | None, seed: int,
                max_epochs: int = 12, factor: int = 3, iterations: int = 1, initial_points: int | None = None):
    """The keras-tuner oracle of a strategy (``grid``, ``random``, ``bayesian``, ``hyperband``, ``hybrid``)."""
    obj = kt.Objective(objective, direction="max" if goal == "maximize" else "min")
    # keras-tuner replaces a falsy seed (0!) with a random one: shift non-negative seeds by one
    common = dict(objective=obj, hyperparameters=hps, seed=seed + 1 if seed >= 0 else seed, allow_new_entries=False, tune_new_entries=False,
                  max_consecutive_failed_trials=10**9)
    if method == "grid":
        return kt.oracles.GridSearchOracle(max_trials=max_trials, **common)
    if method == "random":
        return kt.oracles.RandomSearchOracle(max_trials=max_trials, **common)
    if method == "bayesian":
        n0 = initial_points or max(2, min(5, (max_trials or 10) // 3))
        return kt.oracles.BayesianOptimizationOracle(max_trials=max_trials, num_initial_points=n0, **common)
    if method == "hyperband":
        common["allow_new_entries"] = common["tune_new_entries"] = True  # it adds the tuner/* entries
        return kt.oracles.HyperbandOracle(max_epochs=max_epochs, factor=factor, hyperband_iterations=iterations,
                                          **common)
    if method == "hybrid":
        return HybridOracle(max_trials=max_trials, **common)
    raise ValueError(method)


class _NonFinite(keras.callbacks.Callback):
    """Stops training at the first NaN/inf loss (batch or epoch) and remembers it."""

    def __init__(self) -> None:
        super().__init__()
        self.bad: str | None = None

    def _check(self, logs: dict | None, where: str) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.bad = f"loss became {float(loss)} at {where}"
            self.model.stop_training = True

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check(logs, f"batch {batch}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._check(logs, f"epoch {epoch}")


class FlowerTuner(kt.Tuner):
    """Runs one trial: fit (hold-out or K folds), one HParams session per fit, objective to the oracle."""

    def __init__(self, oracle: Any, setup: TrialSetup, **kwargs: Any) -> None:
        self.setup = setup
        try:  # keras-tuner prints every failed trial's traceback while its DEBUG flag is on (the default)
            from keras_tuner.src import config as kt_config

            kt_config.DEBUG = setup.fit_verbose > 0
        except ImportError:  # pragma: no cover - a keras-tuner without that module prints nothing anyway
            pass
        self.epochs_spent: dict[str, int] = {}  # trial id -> epochs trained in this process (all folds)
        self.failures: dict[str, str] = {}      # trial id -> why it failed
        self.scores: dict[str, float] = {}      # trial id -> objective reported by this process
        self.revoked: set[str] = set()          # trials the chief re-queued while this worker was silent
        self._asked = self._began = False
        super().__init__(oracle=oracle, hypermodel=None, **kwargs)

    def pre_create_trial(self) -> None:
        """Wait a second before asking again when the oracle's last answer was IDLE (keras-tuner would spin).

        A worker that has heard from its chief before checks that the chief still answers, and stops
        (:class:`~training.errors.ChiefGoneError`) when it does not, instead of waiting an hour in
        keras-tuner's client.
        """
        if self._asked and not self._began:
            time.sleep(1.0)
        if self._asked and self.setup.lease is not None:  # a worker under a chief
            wait_for_chief((os.environ["KERASTUNER_ORACLE_IP"], int(os.environ["KERASTUNER_ORACLE_PORT"])))
        self._asked, self._began = True, False

    def on_trial_begin(self, trial: Any) -> None:
        self._began = True
        super().on_trial_begin(trial)

    def on_trial_end(self, trial: Any) -> None:
        """Let keras-tuner end the trial, then report it (progress line, benchmark counters).

        A trial the chief re-queued is not reported: its new holder reports it.
        """
        if trial.trial_id in self.revoked:
            if self.setup.on_trial_done is not None:
                self.setup.on_trial_done(trial, {"dropped": True})
            return
        super().on_trial_end(trial)
        if self.setup.epoch_budget and sum(self.epochs_spent.values()) >= self.setup.epoch_budget:
            # keras-tuner's create_trial answers STOPPED once len(trials) reaches max_trials
            self.oracle.max_trials = len(self.oracle.trials)
        if self.setup.on_trial_done is not None:
            self.setup.on_trial_done(trial, {"epochs": self.epochs_spent.get(trial.trial_id, 0),
                                            "failure": self.failures.get(trial.trial_id),
                                            "score": self.scores.get(trial.trial_id)})

    # keras-tuner calls run_trial once per trial; its return value goes to the oracle.
    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        s = self.setup
        values = trial_values(trial)
        hp = {k: v for k, v in values.items() if k not in _TUNER_KEYS}
        epochs = int(values.get("tuner/epochs", hp.get("epochs", MODEL_HPARAMS["epochs"])))
        initial_epoch = int(values.get("tuner/initial_epoch", 0)) if s.hyperband else 0
        logged = {name: python_value(hp[name]) for name in s.logged if name in hp}
        if s.hyperband and "epochs" in s.logged:
            logged["epochs"] = epochs
        trial_dir = safe_join(s.logdir, f"trial-{trial.trial_id}")
        self.revoked.discard(trial.trial_id)  # a re-queued trial may come back to this worker: it holds it again
        if s.lease is not None:
            s.lease.beat(trial.trial_id)
        # A rerun trial (resume after a crash, or a retry) replaces its partial session(s).
        if trial_dir.exists():
            shutil.rmtree(trial_dir)
        if s.folds:
            splits = kfold_splits(len(s.data.y), s.folds, s.seed)
        else:
            splits = [holdout_split(len(s.data.y), s.validation_fraction, s.seed)]
        scores = []
        self.epochs_spent[trial.trial_id] = 0
        trial_index = int(trial.trial_id) if str(trial.trial_id).isdigit() else 0
        runs = [(e, k, tr, va) for e in range(s.executions) for k, (tr, va) in enumerate(splits)]
        for e, k, tr, va in runs:
            parts = ([f"run{e}"] if s.executions > 1 else []) + ([f"fold{k}"] if s.folds else [])
            run_dir = trial_dir.joinpath(*parts)
            session = Session(str(run_dir), logged, group=str(trial.trial_id))
            try:
                set_random_seed(s.seed * 100_000 + trial_index * 1000 + e * 100 + k)
                scores.append(self._fit(trial, hp, epochs, initial_epoch, tr, va, run_dir, session))
                if s.lease is not None:
                    s.lease.check(trial.trial_id)
            except TrialRevoked as exc:
                # The session directory now belongs to the trial's new holder: write nothing more into it.
                self.revoked.add(trial.trial_id)
                raise kt.errors.FailedTrialError(str(exc)) from exc
            except kt.errors.FailedTrialError as exc:
                session.end("FAILURE")
                self.failures[trial.trial_id] = _ANSI.sub("", str(exc))
                raise
            except Exception as exc:
                session.end("FAILURE")
                self.failures[trial.trial_id] = _one_line(exc)
                raise kt.errors.FailedTrialError(self.failures[trial.trial_id]) from exc
            session.end("SUCCESS")
        self.scores[trial.trial_id] = float(np.mean(scores))
        return {s.objective: self.scores[trial.trial_id]}

    def _fit(self, trial: Any, hp: dict, epochs: int, initial_epoch: int, tr: np.ndarray, va: np.ndarray,
             run_dir: Path, session: Session) -> float:
        s = self.setup
        batch_size = int(hp.get("batch_size", MODEL_HPARAMS["batch_size"]))
        if s.distribution is not None:
            with s.distribution.scope():
                model = build_model(hp, image_size=s.image_size, num_classes=len(s.data.class_names),
                                    mixed_precision=s.mixed_precision, jit_compile=s.jit_compile)
        else:
            model = build_model(hp, image_size=s.image_size, num_classes=len(s.data.class_names),
                                mixed_precision=s.mixed_precision, jit_compile=s.jit_compile)
        weights = Path(self.get_trial_dir(trial.trial_id)) / "model.weights.h5"
        parent = trial.hyperparameters.values.get("tuner/trial_id")
        if s.hyperband and parent and not s.folds:
            previous = Path(self.get_trial_dir(parent)) / "model.weights.h5"
            if previous.is_file():
                model.load_weights(previous)
            else:
                initial_epoch = 0
        train = make_pipeline(s.data.x[tr], s.data.y[tr], batch_size, training=True,
                              augment=s.augment != "none", seed=s.seed, flip_only=s.augment == "flip")
        val = make_pipeline(s.data.x[va], s.data.y[va], 256, training=False, augment=False, seed=s.seed)
        guard, scalars = _NonFinite(), EpochScalars(run_dir)
        callbacks = [
            *([s.lease.callback(trial.trial_id)] if s.lease is not None else []),  # first: before any write
            keras.callbacks.TerminateOnNaN(),
            guard,
            scalars,
        ]
        try:
            history = model.fit(train, validation_data=val, epochs=epochs, initial_epoch=initial_epoch,
                                callbacks=callbacks, verbose=s.fit_verbose)
        finally:
            scalars.close()
        self.epochs_spent[trial.trial_id] = (self.epochs_spent.get(trial.trial_id, 0)
                                             + len(history.history.get("loss", [])))
        if guard.bad:
            raise kt.errors.FailedTrialError(guard.bad)
        series = history.history.get(history_key(s.objective))
        if not series or not all(math.isfinite(v) for v in series):
            raise kt.errors.FailedTrialError(f"no finite {s.objective} after training")
        if s.hyperband and not s.folds:
            model.save_weights(weights)
        return float(series[-1])
