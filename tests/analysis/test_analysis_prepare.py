"""Preparation and target selection: counts, encodings, imputation, groups and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hparams_tools import InsufficientDataError, UnknownMetricError, read_experiment
from hparams_tools.analysis import analyze
from hparams_tools.analysis.prepare import prepare
from hparams_tools.analysis.target import Rows, default_goal, select_target
from hparams_tools.io.experiment import HParamInfo, Interval, MetricInfo
from hparams_tools.io.writer import write_experiment, write_session


def _rows(hp: dict, y, status=None, group=None) -> Rows:
    idx = pd.Index([f"s{i}" for i in range(len(y))], name="session")
    return Rows(
        hparams=pd.DataFrame(hp, index=idx),
        target=pd.Series(y, index=idx, dtype=float),
        status=pd.Series(status or ["SUCCESS"] * len(y), index=idx),
        group=pd.Series(group or list(idx), index=idx),
    )


def test_encodings_imputation_constants_and_notes():
    rows = _rows({
        "lr": [1e-4, 1e-3, np.nan, 1e-2, 1e-1, 1e-3],
        "opt": ["adam", "sgd", "adam", None, "adam", "sgd"],
        "bn": [True, False, True, True, False, None],
        "width": [8.0, 16.0, 32.0, 8.0, np.nan, 16.0],
        "const": [3.0] * 6,
        "never": [np.nan] * 6,
    }, [0.1, 0.5, 0.3, 0.2, np.nan, 0.4], status=["SUCCESS"] * 5 + ["FAILURE"])
    # three distinct values are too few to test how lr was sampled: its log scale is declared
    lr_info = HParamInfo("lr", "float", "", "sampled on a log scale", None)
    prep = prepare(rows, {"lr": lr_info}, target="acc", goal="maximize")
    assert prep.n_used == 4 and prep.n_failed == 1 and prep.n_missing_target == 1
    notes = "\n".join(prep.notes)
    assert "dropped 1 of 6 sessions with status FAILURE" in notes
    assert "dropped 1 sessions without a finite acc value" in notes
    assert "dropped hyperparameter const: constant" in notes and "dropped hyperparameter never" in notes
    assert prep.constants == {"const": 3.0}
    # declared log -> log10; the missing one gets the geometric mean of the others
    assert prep.hparams["lr"].log and list(prep.design.columns[:1]) == ["log10(lr)"]
    assert prep.data.loc["s2", "lr"] == pytest.approx(10 ** np.mean(np.log10([1e-4, 1e-3, 1e-2])))
    assert "imputed 1 missing values of lr with the geometric mean" in notes
    # categories: most frequent level is the OLS reference; missing -> most frequent
    assert prep.data.loc["s3", "opt"] == "adam"
    assert [c for c in prep.design.columns if c.startswith("opt=")] == ["opt=adam", "opt=sgd"]
    assert list(prep.ols_design.columns).count("opt=adam") == 0
    # bools as 0/1, integers stay integers
    assert set(prep.design["bn"]) <= {0.0, 1.0}
    assert prep.hparams["width"].integer and prep.data["width"].dtype.kind == "i"
    assert not prep.design.isna().any().any()


def test_declared_log_scale_and_declared_interval_are_used():
    rows = _rows({"lr": [0.01, 0.02, 0.03, 0.04]}, [1, 2, 3, 4])
    info = HParamInfo("lr", "float", "", "log-uniform", Interval(1e-4, 1.0))
    prep = prepare(rows, {"lr": info}, target="acc", goal="maximize")
    h = prep.hparams["lr"]
    assert h.log and (h.low, h.high) == (1e-4, 1.0)


def test_repeats_are_averaged_and_spread_reported():
    rows = _rows({"lr": [0.1, 0.1, 0.2, 0.2, 0.3, 0.3]}, [1.0, 3.0, 2.0, 2.0, 5.0, 7.0],
                 group=["a", "a", "b", "b", "c", "c"])
    prep = prepare(rows, {}, target="acc", goal="maximize")
    assert prep.n_used == 3
    assert prep.y.to_dict() == {"a": 2.0, "b": 2.0, "c": 6.0}
    assert prep.groups["std"].to_dict() == pytest.approx({"a": math.sqrt(2), "b": 0.0, "c": math.sqrt(2)})
    assert any("averaged 6 sessions in 3 groups" in n for n in prep.notes)


@pytest.mark.parametrize("hp, y, message", [
    ({"lr": [0.1, 0.2, 0.3]}, [np.nan] * 3, "none of the 3 sessions has a usable acc value"),
    ({"lr": [0.1, 0.1, 0.1], "opt": ["a", "a", "a"]}, [1, 2, 3], "every hyperparameter is constant"),
    ({"lr": [0.1, 0.2]}, [1, 2], "only 2 usable session(s)"),
    ({"lr": [0.1, 0.2, 0.3]}, [1, 1, 1], "has the same value"),
])
def test_nothing_to_analyse_raises_insufficient_data(hp, y, message):
    with pytest.raises(InsufficientDataError, match=None) as info:
        prepare(_rows(hp, y), {}, target="acc", goal="maximize")
    assert message in str(info.value)


def _small_logdir(root, metrics, description="", n=12, values=None):
    write_experiment(root, [HParamInfo("lr", "float", "", "", Interval(0.0, 1.0))],
                     [MetricInfo(g, t, "", "") for g, t in metrics], description=description)
    for i in range(n):
        scalars = {}
        for g, t in metrics:
            scalars.setdefault(g, {})[t] = [values[i] if values is not None else i / n]
        write_session(root / f"r{i}", {"lr": i / n}, scalars=scalars)
    return read_experiment(root)


def test_target_defaults_objective_then_validation_accuracy_and_goal(tmp_path):
    exp = _small_logdir(tmp_path / "a", [("train", "epoch_loss"), ("validation", "epoch_loss"),
                                         ("validation", "epoch_accuracy")])
    assert select_target(exp, None, None) == ("validation/epoch_accuracy", "maximize")
    assert select_target(exp, "validation/epoch_loss", None) == ("validation/epoch_loss", "minimize")
    assert select_target(exp, "validation/epoch_loss", "maximize")[1] == "maximize"
    exp = _small_logdir(tmp_path / "b", [("validation", "epoch_accuracy"), ("validation", "epoch_loss")],
                        description="objective: validation/epoch_loss minimize")
    assert select_target(exp, None, None) == ("validation/epoch_loss", "minimize")
    assert default_goal("val_error_rate") == "minimize" and default_goal("auc") == "maximize"


def test_unknown_target_lists_the_metrics(tmp_path):
    _small_logdir(tmp_path / "a", [("validation", "epoch_accuracy"), ("train", "epoch_loss")])
    with pytest.raises(UnknownMetricError) as info:
        analyze(tmp_path / "a", target="validation/acc")                  # a logdir path works too
    assert "validation/epoch_accuracy, train/epoch_loss" in str(info.value)


def test_few_sessions_give_what_is_meaningful(tmp_path):
    values = [0.1, 0.5, 0.9, 0.6, 0.2, 0.3]
    exp = _small_logdir(tmp_path / "a", [("validation", "epoch_accuracy")], n=6, values=values)
    r = analyze(exp)
    assert r.n_sessions_used == 6
    assert r.correlation.shape == (1, 2) and not r.ols.empty
    assert r.forest_r2 is None and r.importance["permutation"].isna().all()
    assert r.importance["fanova"].isna().all() and r.interactions.empty
    notes = "\n".join(r.notes)
    assert "skipped" in notes and "need 20" in notes
    assert any("too few rows" in f for f in r.findings)
    assert any("(share of importance, from the one model-based method that ran: forest)" in f for f in r.findings)
    assert r.next_space.parameters["lr"]                                   # still a space to run


def test_failures_concentrated_at_high_learning_rates_are_named():
    rng = np.random.default_rng(0)
    n = 200
    lr = 10 ** rng.uniform(-5, -1, n)
    opt = rng.choice(["adam", "sgd"], n)
    y = np.where(lr > 10 ** -1.6, np.nan, rng.normal(0.5, 0.1, n))     # diverges at large learning rates
    prep = prepare(_rows({"lr": lr, "opt": opt}, y), {}, target="acc", goal="maximize")
    assert len(prep.failure_patterns) == 1
    text = prep.failure_patterns[0]
    assert text.startswith("Failures concentrate at lr ") and "against" in text
    low = float(text.split("lr ")[1].split(" to ")[0])
    assert low >= 10 ** -2.1                                             # the top quartile of log lr


class _FakeExperimentTables:
    """Just the three tables collect_rows reads, as a hand-built DataFrame source would give them."""

    def __init__(self, hparams: pd.DataFrame, target: pd.Series, status: pd.Series):
        self.hparams = hparams
        self.sessions = pd.DataFrame({"group": [""] * len(target), "status": status}, index=target.index)
        self._metrics = pd.DataFrame({"score": target})

    def metrics(self, value):
        return self._metrics


def test_infinite_hyperparameter_values_count_as_missing_even_with_failures():
    from hparams_tools.analysis.target import collect_rows

    n = 40
    rng = np.random.default_rng(0)
    lr = rng.uniform(0.0, 1.0, n).astype(object)
    lr[:3] = [math.inf, -math.inf, math.inf]                 # e.g. a logged float('inf')
    idx = pd.Index([f"s{i:02d}" for i in range(n)], name="session")
    hp = pd.DataFrame({"lr": pd.Series(lr, index=idx), "units": pd.Series(rng.integers(8, 64, n).astype(float), index=idx)})
    hp.loc["s05", "units"] = math.inf
    status = pd.Series(["FAILURE"] * 8 + ["SUCCESS"] * (n - 8), index=idx)
    y = pd.Series(rng.normal(size=n), index=idx)
    rows = collect_rows(_FakeExperimentTables(hp, y, status), "score", "last")
    assert rows.hparams["lr"].iloc[:3].isna().all() and np.isnan(rows.hparams.loc["s05", "units"])
    prepared = prepare(rows, {}, target="score", goal="maximize")   # failure_patterns used to crash here
    assert np.isfinite(prepared.design.to_numpy(dtype=float)).all()
