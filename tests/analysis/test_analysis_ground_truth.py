"""Ground truth: a sweep whose target is a known function (see hparams_tools.testing) must be explained right."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hparams_tools.testing import TARGET
from hparams_tools import read_experiment
from hparams_tools.analysis import AnalysisResult, analyze

METHODS = ("forest", "permutation", "fanova", "ped_anova")


def test_target_goal_and_preparation_counts(gt_result: AnalysisResult):
    r = gt_result
    assert (r.target, r.goal) == (TARGET, "maximize")          # the declared objective
    assert r.n_sessions == 400
    failed = [n for n in r.notes if "status FAILURE" in n]
    nan = [n for n in r.notes if "without a finite" in n]
    assert failed and nan
    dropped = int(failed[0].split()[1]) + int(nan[0].split()[1])
    assert r.n_sessions_used == 400 - dropped
    assert any(n.startswith("imputed") and "batch_size" in n for n in r.notes)
    # learning_rate: declared log; batch_size: a geometric grid (16..128); decoy and dropout: sampled uniform
    assert r.log_scaled == ["batch_size", "learning_rate"]
    assert "log10(learning_rate)" in r.design.columns
    assert {"optimizer=adam", "optimizer=sgd", "optimizer=rmsprop"} <= set(r.design.columns)
    assert r.data[TARGET].notna().all() and not r.data.isna().any().any()


@pytest.mark.parametrize("method", METHODS)
def test_every_method_ranks_learning_rate_first_and_decoy_low(gt_result: AnalysisResult, method: str):
    scores = gt_result.importance[method]
    assert scores.idxmax() == "learning_rate"
    assert scores["optimizer"] > scores["decoy"]
    share = scores.clip(lower=0) / scores.clip(lower=0).sum()
    # the decoy has no effect: near zero (the forest's impurity gives every noise feature a little)
    assert share["decoy"] < {"forest": 0.07, "permutation": 0.02, "fanova": 0.03, "ped_anova": 0.03}[method]
    assert share["learning_rate"] > 0.45


@pytest.mark.parametrize("method", ("forest", "permutation"))
def test_model_based_methods_see_the_interacting_pair(gt_result: AnalysisResult, method: str):
    scores = gt_result.importance[method]
    # impurity importance credits noise features too (a known bias), so the margin is smaller there
    factor = {"forest": 1.5, "permutation": 3.0}[method]
    assert scores["dropout"] > factor * max(scores["decoy"], 0.0)
    assert scores["units"] > factor * max(scores["decoy"], 0.0)


def test_decoy_ols_effect_is_not_significant_and_optimizer_effect_is(gt_result: AnalysisResult):
    ols = gt_result.ols
    assert ols.loc["decoy", "p_value"] > 0.05
    assert ols.loc["decoy", "ci_low"] < 0 < ols.loc["decoy", "ci_high"]
    # reference level is the most frequent; adam is 0.16 better than rmsprop and 0.08 better than sgd
    terms = [t for t in ols.index if t.startswith("optimizer=")]
    assert len(terms) == 2                                          # one level dropped
    coef = {t.split("=")[1]: ols.loc[t, "coef"] for t in terms}
    missing = {"adam", "sgd", "rmsprop"} - set(coef)
    coef[missing.pop()] = 0.0
    assert coef["adam"] - coef["rmsprop"] == pytest.approx(0.16, abs=0.05)
    assert coef["adam"] - coef["sgd"] == pytest.approx(0.08, abs=0.05)


def test_ols_matches_an_independent_least_squares_fit(gt_result: AnalysisResult):
    from sklearn.linear_model import LinearRegression

    r = gt_result
    x = r.design.drop(columns=[c for c in r.design.columns if c.startswith("optimizer=")
                               and c not in r.ols.index])
    fit = LinearRegression().fit(x.to_numpy(), r.data[TARGET].to_numpy())
    for col, coef in zip(x.columns, fit.coef_):
        assert r.ols.loc[col, "coef"] == pytest.approx(coef, rel=1e-6, abs=1e-9)
    assert r.ols_r_squared == pytest.approx(fit.score(x.to_numpy(), r.data[TARGET].to_numpy()), rel=1e-6)
    sd = x["units"].std(ddof=1)
    assert r.ols.loc["units", "std_coef"] == pytest.approx(r.ols.loc["units", "coef"] * sd)


def test_correlation_matches_scipy(gt_result: AnalysisResult):
    from scipy import stats

    y = gt_result.data[TARGET]
    for col in ("log10(learning_rate)", "optimizer=adam", "units"):
        x = gt_result.design[col]
        assert gt_result.correlation.loc[col, "pearson"] == pytest.approx(stats.pearsonr(x, y)[0])
        assert gt_result.correlation.loc[col, "spearman"] == pytest.approx(stats.spearmanr(x, y)[0])


def test_interaction_between_dropout_and_units_is_found(gt_result: AnalysisResult):
    inter = gt_result.interactions
    assert len(inter) == 6                                           # the top 4 pairs
    pairs = [frozenset((a, b)) for a, b in zip(inter["a"], inter["b"])]
    strongest_h2 = pairs[int(inter["h2"].to_numpy().argmax())]
    assert strongest_h2 == frozenset(("dropout", "units"))
    row = inter.iloc[pairs.index(frozenset(("dropout", "units")))]
    assert row["h2"] > 0.4
    others = inter[[p != frozenset(("dropout", "units")) for p in pairs]]
    assert (others["h2"] < 0.15).all()
    assert any("dropout" in f and "units" in f and "interact" in f for f in gt_result.findings)


def test_forest_predicts_held_out_sessions(gt_result: AnalysisResult):
    assert gt_result.forest_r2 > 0.5
    assert (gt_result.importance["permutation_std"] >= 0).all()


def test_suggested_learning_rate_range_contains_optimum_and_is_narrower(gt_result: AnalysisResult):
    lr = gt_result.next_space.parameters["learning_rate"]
    assert lr.kind == "log_uniform_values"
    assert lr.min < 1e-3 < lr.max
    assert math.log10(lr.max / lr.min) < math.log10(1e-1 / 1e-5) - 0.5
    assert 1e-5 <= lr.min and lr.max <= 1e-1                           # no edge here: not pushed outward


def test_suggestion_keeps_types_fixes_the_decoy_and_explains(gt_result: AnalysisResult):
    space = gt_result.next_space
    assert space.metric == TARGET and space.goal == "maximize"
    assert set(space.parameters) == {"learning_rate", "batch_size", "optimizer", "dropout", "units", "decoy"}
    assert space.parameters["decoy"].is_fixed
    assert "adam" in space.parameters["optimizer"].values
    bs = space.parameters["batch_size"]
    assert all(isinstance(v, int) and v in (16, 32, 64, 128) for v in bs.values)    # a grid stays a grid
    units = space.parameters["units"]
    assert units.kind in ("int_uniform", "values") and all(isinstance(v, int) for v in
                                                            (units.min, units.max) if v is not None)
    assert not space.parameters["dropout"].is_fixed and not units.is_fixed          # they interact
    assert set(gt_result.next_space_comments) == set(space.parameters)
    assert all(gt_result.next_space_comments.values())


def test_findings_name_the_top_effects(gt_result: AnalysisResult):
    text = "\n".join(gt_result.findings)
    assert "learning_rate" in gt_result.findings[0]
    assert "agree that learning_rate matters most" in text
    assert "optimizer=adam" in text or "optimizer=rmsprop" in text or "optimizer=sgd" in text
    assert any("decoy (share " in f and "no detectable effect" in f for f in gt_result.findings)
    assert gt_result.findings[-1].startswith("Try next:")


def test_edge_optimum_widens_the_range(edge_result: AnalysisResult):
    lr = edge_result.next_space.parameters["learning_rate"]
    assert lr.max > 1e-4                                                 # pushed beyond the searched upper bound
    assert lr.min > 1e-6 * 1.5                                           # and the useless low end dropped
    assert any("upper edge of learning_rate" in f for f in edge_result.findings)


def test_same_seed_same_numbers_other_seed_other_forest(gt_logdir, gt_result):
    exp = read_experiment(gt_logdir)
    a = analyze(exp, seed=0, n_jobs=1)           # the thread count does not change the numbers
    b = gt_result
    for name in ("correlation", "ols", "importance", "interactions", "design", "data"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.findings == b.findings and a.next_space == b.next_space and a.to_json() == b.to_json()
    c = analyze(exp, seed=4)
    assert a.next_space.seed == 0 and c.next_space.seed == 4
    assert not np.allclose(a.importance["forest"], c.importance["forest"].reindex(a.importance.index))
    pd.testing.assert_frame_equal(a.ols, c.ols)                        # OLS has no randomness
