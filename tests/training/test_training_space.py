"""Space file -> keras-tuner HyperParameters and TensorBoard domains; hyperband arithmetic against keras-tuner."""

from __future__ import annotations

import keras_tuner as kt
import pytest

from hparams_tools.space import parse_space
from training.space import grid_combinations, grid_values, hyperband_epochs, load_default_space, to_hparams, to_keras_tuner
from training.tuner import HybridOracle, hyperband_trial_count

SPACE = parse_space({
    "method": "random",
    "parameters": {
        "learning_rate": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5},
        "filters": {"distribution": "int_uniform", "min": 8, "max": 32},
        "optimizer": {"values": ["adam", "sgd"]},
        "batch_size": {"values": [16, 32]},
        "dense_units": {"value": 64},
    },
})


def test_keras_tuner_types_per_method():
    hps = {h.name: h for h in to_keras_tuner(SPACE, method="random").space}
    assert type(hps["learning_rate"]).__name__ == "Float" and hps["learning_rate"].sampling == "log"
    assert type(hps["dropout"]).__name__ == "Float" and hps["dropout"].sampling == "linear"
    assert type(hps["filters"]).__name__ == "Int" and (hps["filters"].min_value, hps["filters"].max_value) == (8, 32)
    assert list(hps["optimizer"].values) == ["adam", "sgd"]
    assert type(hps["dense_units"]).__name__ == "Fixed" and hps["dense_units"].value == 64
    grid = {h.name: h for h in to_keras_tuner(SPACE, method="grid", grid_points=3).space}
    assert list(grid["learning_rate"].values) == pytest.approx([1e-4, 10 ** -2.5, 1e-1])
    assert list(grid["dropout"].values) == [0.0, 0.25, 0.5]
    assert list(grid["filters"].values) == [8, 20, 32]
    assert "epochs" not in {h.name for h in to_keras_tuner(load_default_space(), method="hyperband",
                                                             exclude=("epochs",)).space}


def test_grid_values_integer_dedup_and_single_point():
    p = parse_space({"parameters": {"k": {"distribution": "int_uniform", "min": 1, "max": 2}}}).parameters["k"]
    assert grid_values(p, 5) == [1, 2]
    assert grid_values(SPACE.parameters["dropout"], 1) == [0.0]


def test_tensorboard_domains_and_log_scale_marker():
    import re

    from hparams_tools.io.experiment import Discrete, Interval

    hparams = {h.name: h for h in to_hparams(SPACE)}
    assert hparams["learning_rate"].domain == Interval(1e-4, 1e-1) and hparams["learning_rate"].type == "float"
    # the reader's HParamInfo.log_scale rule (INTERFACES.md)
    log_rule = re.compile(r"\blog[-_ ]?(scale|uniform)", re.I)
    assert log_rule.search(hparams["learning_rate"].description)
    assert not log_rule.search(hparams["dropout"].description or "")
    assert hparams["filters"].domain == Interval(8, 32) and hparams["filters"].type == "float"
    assert hparams["optimizer"].domain == Discrete(("adam", "sgd")) and hparams["optimizer"].type == "string"
    assert hparams["dense_units"].domain.values == (64,)
    assert to_hparams(SPACE, overrides={"batch_size": [3, 1]})[4].domain.values == (1, 3)


def test_domains_are_the_ones_tensorboard_hp_api_writes(tmp_path):
    """The experiment proto from our HParamInfo equals the one TensorBoard's hp.HParam builds (what TF wrote)."""
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import api_pb2

    from hparams_tools.io.writer import _hparam_info_pb

    expected = {
        "learning_rate": hp.HParam("learning_rate", hp.RealInterval(1e-4, 1e-1)),
        "filters": hp.HParam("filters", hp.IntInterval(8, 32)),
        "optimizer": hp.HParam("optimizer", hp.Discrete(["sgd", "adam"])),
        "dense_units": hp.HParam("dense_units", hp.Discrete([64])),
    }
    for info in to_hparams(SPACE):
        if info.name not in expected:
            continue
        h = expected[info.name]
        want = api_pb2.HParamInfo(name=h.name, description=info.description, display_name="")
        h.domain.update_hparam_info(want)
        assert _hparam_info_pb(info) == want, info.name


def _run_hyperband_oracle(max_epochs: int, factor: int) -> list[int]:
    """Drive keras-tuner's own HyperbandOracle to the end (instant fake trials); return each trial's epochs."""
    hps = kt.HyperParameters()
    hps.Float("x", 0, 1)
    oracle = kt.oracles.HyperbandOracle(objective=kt.Objective("score", "max"), max_epochs=max_epochs,
                                        factor=factor, hyperparameters=hps, seed=0)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        oracle._set_project_dir(d, "p")
        epochs = []
        for i in range(1000):
            trial = oracle.create_trial("t")
            if trial.status == "STOPPED":
                return epochs
            epochs.append(trial.hyperparameters.values["tuner/epochs"])
            oracle.update_trial(trial.trial_id, {"score": trial.hyperparameters.values["x"]})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    raise AssertionError("hyperband did not stop")


@pytest.mark.parametrize("max_epochs, factor", [(3, 3), (12, 3), (8, 2)])
def test_hyperband_arithmetic_matches_keras_tuner(max_epochs, factor):
    epochs = _run_hyperband_oracle(max_epochs, factor)
    assert hyperband_trial_count(max_epochs, factor) == len(epochs)
    assert hyperband_epochs(max_epochs, factor) == sorted(set(epochs))


def test_hybrid_oracle_grids_choices_and_samples_the_rest(tmp_path):
    hps = to_keras_tuner(SPACE, method="hybrid")
    oracle = HybridOracle(objective=kt.Objective("score", "max"), hyperparameters=hps, max_trials=8, seed=5)
    oracle._set_project_dir(str(tmp_path), "p")
    seen = []
    while True:
        trial = oracle.create_trial("t")
        if trial.status == "STOPPED":
            break
        v = trial.hyperparameters.values
        seen.append(v)
        oracle.update_trial(trial.trial_id, {"score": 0.0})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert len(seen) == 8
    combos = [(v["optimizer"], v["batch_size"]) for v in seen]
    assert sorted(combos[:4]) == sorted({(o, b) for o in ("adam", "sgd") for b in (16, 32)})  # full grid first
    assert combos[4:] == combos[:4]                                                           # then again
    lrs = [v["learning_rate"] for v in seen]
    assert len(set(lrs)) == 8 and all(1e-4 <= x <= 1e-1 for x in lrs)                      # fresh random draws


def _grid_trials_keras_tuner_runs(hps, tmp_path) -> int:
    """Trials keras-tuner's own GridSearchOracle hands out before it stops (the independent count)."""
    oracle = kt.oracles.GridSearchOracle(objective=kt.Objective("score", "max"), max_trials=10_000,
                                         hyperparameters=hps)
    oracle._set_project_dir(str(tmp_path), "grid")
    n = 0
    while (trial := oracle.create_trial("tuner0")).status == "RUNNING":
        n += 1
        oracle.update_trial(trial.trial_id, {"score": 0.5})
        oracle.end_trial(trial)
    return n


LR_BY_OPTIMIZER = {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1, "conditional_on": "optimizer",
                   "by_value": {"adam": {"min": 1e-4, "max": 3e-3}, "sgd": {"min": 1e-2, "max": 1e-1}}}


@pytest.mark.parametrize("parameters", [
    {"optimizer": {"values": ["adam", "sgd"]}, "batch_size": {"values": [16, 32]}, "learning_rate": LR_BY_OPTIMIZER},
    {"optimizer": {"values": ["adam", "sgd", "rmsprop"]}, "learning_rate": LR_BY_OPTIMIZER,
     "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5, "conditional_on": "optimizer",
                 "by_value": {"rmsprop": {"min": 0.1, "max": 0.2}}},
     "filters": {"distribution": "int_uniform", "min": 8, "max": 9}},
    {"optimizer": {"values": ["adam"]},
     "learning_rate": {**LR_BY_OPTIMIZER, "by_value": {"adam": {"min": 1e-4, "max": 3e-3}}}},
    {"optimizer": {"values": ["adam", "sgd"]}, "batch_size": {"values": [16, 32]},
     "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5}},
], ids=["one-conditional", "two-conditionals-three-parents", "one-parent-value", "no-conditional"])
def test_grid_trial_count_is_what_keras_tuner_runs(parameters, tmp_path):
    space = parse_space({"method": "grid", "parameters": parameters})
    hps = to_keras_tuner(space, method="grid", grid_points=3)
    assert grid_combinations(hps) == _grid_trials_keras_tuner_runs(hps, tmp_path)
