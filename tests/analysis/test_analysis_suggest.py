"""Suggestion rules on controlled data: edges of grids and integer ranges, fixed parameters, methods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hparams_tools.analysis.core import analyze_prepared
from hparams_tools.analysis.prepare import prepare
from hparams_tools.analysis.target import Rows
from hparams_tools.io.experiment import Discrete, HParamInfo, Interval
from hparams_tools.space import dump_space, parse_space


def _prepared(hp: dict, y: np.ndarray, infos=None, goal="maximize"):
    idx = pd.Index([f"s{i}" for i in range(len(y))], name="session")
    rows = Rows(pd.DataFrame(hp, index=idx), pd.Series(y, index=idx), pd.Series("SUCCESS", index=idx),
                pd.Series(list(idx), index=idx))
    return prepare(rows, infos or {}, target="acc", goal=goal)


def _roundtrip(result):
    import yaml

    return parse_space(yaml.safe_load(dump_space(result.next_space, comments=result.next_space_comments)))


def test_best_at_the_top_of_a_grid_and_an_integer_range_extends_both():
    rng = np.random.default_rng(0)
    n = 150
    epochs = rng.choice([1, 2, 4], n)
    units = rng.integers(16, 65, n)
    other = rng.uniform(0, 1, n)
    y = 0.1 * np.log2(epochs) + 0.004 * units + rng.normal(0, 0.02, n)
    prep = _prepared({"epochs": epochs.astype(float), "units": units.astype(float), "other": other}, y,
                     {"epochs": HParamInfo("epochs", "float", "", "", Discrete((1.0, 2.0, 4.0))),
                      "units": HParamInfo("units", "float", "", "", Interval(16.0, 64.0))})
    r = analyze_prepared(prep, seed=0)
    assert any("from 5-fold cross-validation" in n for n in r.notes)      # 150 rows: R² by K-fold CV
    assert r.forest_r2 > 0.5
    space = _roundtrip(r)
    assert space == r.next_space
    ep = space.parameters["epochs"]
    assert ep.kind == "values" and 8 in ep.values and all(isinstance(v, int) for v in ep.values)
    units_p = space.parameters["units"]
    assert units_p.kind == "int_uniform" and units_p.max > 64 and isinstance(units_p.max, int)
    assert units_p.min > 16                                            # the low end did poorly: narrowed
    assert space.parameters["other"].is_fixed                          # no effect -> fixed
    assert any("top of the epochs values you searched" in f and "upper edge" in f for f in r.findings)
    assert any("upper edge of units" in f for f in r.findings)


def test_minimize_goal_and_lower_edge_on_a_log_range_without_crossing_zero():
    rng = np.random.default_rng(1)
    n = 120
    wd = 10 ** rng.uniform(-6, -2, n)
    dropout = rng.uniform(0.0, 0.5, n)
    loss = 0.2 * (np.log10(wd) + 6) + 1.5 * dropout + rng.normal(0, 0.02, n)     # lower is better at both minima
    prep = _prepared({"weight_decay": wd, "dropout": dropout}, loss, goal="minimize")
    r = analyze_prepared(prep, seed=0)
    wd_p = r.next_space.parameters["weight_decay"]
    assert wd_p.kind == "log_uniform_values" and wd_p.min < 1e-6 and wd_p.max < 1e-2
    dp = r.next_space.parameters["dropout"]
    assert dp.kind == "uniform" and dp.min == 0.0 and dp.max < 0.5       # cannot go below 0
    assert r.next_space.goal == "minimize"


def test_few_configurations_give_a_grid_and_categories_drop_when_absent_from_the_top():
    rng = np.random.default_rng(2)
    n = 90
    opt = rng.choice(["adam", "sgd", "bad"], n)
    y = np.where(opt == "bad", -1.0, 0.0) + np.where(opt == "adam", 0.2, 0.0) + rng.normal(0, 0.05, n)
    bn = rng.uniform(size=n) < 0.5
    prep = _prepared({"optimizer": opt, "use_bn": bn}, y)
    r = analyze_prepared(prep, seed=0)
    opt_p = r.next_space.parameters["optimizer"]
    assert "bad" not in opt_p.values and "adam" in (opt_p.values if opt_p.kind == "values" else opt_p.values[:1])
    assert r.next_space.method == "grid"
    assert isinstance(r.next_space.parameters["use_bn"].values[0], bool)


def test_pure_noise_is_reported_as_such_and_nothing_is_fixed():
    rng = np.random.default_rng(3)
    n = 200
    prep = _prepared({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n), "c": rng.choice(["x", "y"], n)},
                     rng.normal(0, 1, n))
    r = analyze_prepared(prep, seed=0)
    assert r.forest_r2 < 0.3
    assert any("importances are unreliable" in f for f in r.findings)
    assert not any("interact" in f for f in r.findings)
    assert not any(p.is_fixed for p in r.next_space.parameters.values())
    assert "too low to trust" in r.next_space_header
    assert (r.ols.drop(index="intercept")["p_value"] > 0.01).all()
