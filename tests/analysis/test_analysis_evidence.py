"""Findings and a next space that follow the evidence, checked against a known truth (evidence_synthetic).

The sweep has a learning-rate x optimizer interaction, a collapse region, an optimizer that loses
everywhere, an optimum at the top of the epochs values, missing values, NaN targets and two decoys
(one sampled uniform, one log-uniform, neither declared). The margins asserted were measured on
this seeded sweep: next space 0.878 vs searched 0.574 (+0.30) and vs the same space with one flat
learning-rate range 0.655 (+0.22); they are deterministic (seeded data, analysis and sampling).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from evidence_synthetic import CHANCE, SEARCHED, mean_truth, write_evidence_sweep
from hparams_tools import read_experiment
from hparams_tools.analysis import analyze
from hparams_tools.analysis.prepare import prepare
from hparams_tools.analysis.scale import KS_ALPHA, decide_scale, is_log_scaled
from hparams_tools.analysis.target import Rows
from hparams_tools.io.experiment import HParamInfo, Interval
from hparams_tools.space import dump_space, parse_space


@pytest.fixture(scope="module")
def evidence(tmp_path_factory):
    logdir = write_evidence_sweep(tmp_path_factory.mktemp("evidence") / "sweep", seed=0)
    return analyze(read_experiment(logdir), seed=0)


# --- the one scale rule ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [15, 40, 160])
def test_uniform_values_near_zero_are_linear_in_every_seed(n):
    # the old max/min >= 100 rule called these log in most sweeps: U(0, 1) often has a value below 0.01
    spans = [decide_scale(np.random.default_rng(seed).uniform(0, 1, n)) for seed in range(8)]
    assert not any(d.log for d in spans), [d.reason for d in spans]
    assert all("sampled uniform" in d.reason for d in spans)


@pytest.mark.parametrize("n", [15, 40, 160])
def test_log_uniform_values_are_log(n):
    for seed in range(8):
        d = decide_scale(10 ** np.random.default_rng(seed).uniform(-5, -1, n))
        assert d.log and "sampled log-uniform" in d.reason, d.reason


def test_declared_scale_wins_and_few_values_are_linear_unless_declared():
    few = [1e-4, 1e-3, 1e-2]
    assert not is_log_scaled(few)                                                  # 3 values: too few to test
    assert "too few" in decide_scale(few).reason
    assert is_log_scaled(few, HParamInfo("lr", "float", "", "sampled on a log scale", None))   # training writes this
    assert is_log_scaled(few, HParamInfo("lr", "float", "", "Float(sampling='log')", None))    # keras-tuner words
    assert is_log_scaled(few, HParamInfo("lr", "float", "lr (log scale)", "", None))           # display name
    assert is_log_scaled(few, declared="log")                                                 # a space file's distribution
    log_sample = 10 ** np.random.default_rng(0).uniform(-5, -1, 200)
    assert not is_log_scaled(log_sample, HParamInfo("x", "float", "", "(sampled on a linear scale)", None))
    assert not is_log_scaled(np.r_[0.0, log_sample])                               # 0 has no logarithm
    assert is_log_scaled([16, 32, 64, 128] * 5) and not is_log_scaled([10, 20, 30, 40] * 5)   # grids
    assert 0 < KS_ALPHA < 0.05


def test_the_numpy_ks_test_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    from hparams_tools.analysis.scale import _ks_uniform

    for n in (8, 15, 40, 160):
        for seed in range(20):
            rng = np.random.default_rng(seed)
            u = rng.uniform(0, 1, n) ** rng.choice([1.0, 1.5, 3.0])
            d, p = _ks_uniform(u)
            ref = stats.kstest(u, "uniform")
            assert d == pytest.approx(ref.statistic, abs=1e-12) and abs(p - ref.pvalue) < 0.025


# --- the analysis of the evidence sweep -------------------------------------------------------------------------

def test_scales_follow_how_values_were_sampled(evidence):
    assert evidence.log_scaled == ["decoy_log", "learning_rate"]     # declared; KS; decoy_u (uniform) stays linear
    scales = next(n for n in evidence.notes if n.startswith("scales: "))
    assert "learning_rate log10 (declared in the description)" in scales and "decoy_u linear (sampled uniform" in scales


def test_decoys_stay_near_zero_and_keep_their_sampling(evidence):
    share = evidence.importance["consensus"]
    assert share["decoy_u"] < 0.03 and share["decoy_log"] < 0.03                   # measured 0.017 and 0.015
    assert set(evidence.importance.index[:2]) == {"learning_rate", "optimizer"}
    space = evidence.next_space.parameters
    for name, kind in (("decoy_u", "uniform"), ("decoy_log", "log_uniform_values")):
        assert space[name].is_fixed or space[name].kind == kind, space[name]


def test_the_interaction_shapes_the_next_space(evidence):
    lr = evidence.next_space.parameters["learning_rate"]
    assert lr.conditional_on == "optimizer" and lr.is_log
    ranges = {v: (lo, hi) for v, lo, hi in lr.by_value}
    assert set(ranges) == {"adam", "sgd"}
    assert ranges["adam"][0] < 1e-3 < ranges["adam"][1] < 1e-2                    # around adam's optimum, below its collapse
    assert ranges["sgd"][0] < 3e-2 < ranges["sgd"][1] <= 1e-1                     # around sgd's optimum
    assert evidence.next_space.parameters["optimizer"].values == ("adam", "sgd")   # rmsprop loses everywhere: dropped
    text = "\n".join(evidence.findings)
    assert "one range per optimizer" in text and "rmsprop" in text and "drops it" in text
    # the file says it and the sweep's parser reads it back unchanged
    assert parse_space(yaml.safe_load(evidence.space_yaml())) == evidence.next_space
    assert "conditional_on: optimizer" in dump_space(evidence.next_space)


def test_an_optimum_at_the_top_of_a_values_list_extends_it(evidence):
    assert evidence.next_space.parameters["epochs"].values == (4, 8, 16, 32)
    assert any("top of the epochs values you searched" in f for f in evidence.findings)


def test_findings_put_the_collapse_first_and_close_with_the_next_space(evidence):
    first = evidence.findings[0]
    assert first.startswith("learning_rate >= ~") and "collapsed in" in first
    threshold = float(first.split("~", 1)[1].split()[0])
    assert 1e-2 <= threshold <= 3e-2                                                # adam/rmsprop collapse above 1e-2
    level = float(first.split("validation/epoch_accuracy <= ", 1)[1].split(",")[0])
    assert CHANCE <= level <= CHANCE + 0.05 and "near the worst observed" in first   # chance accuracy
    assert evidence.findings[-1].startswith("Try next:")
    assert "experiment sweep-next" in evidence.findings[-1] and "for adam" in evidence.findings[-1]
    # no near-identical repeated sentences: every finding starts differently
    starts = [f.split(":")[0][:30] for f in evidence.findings]
    assert len(set(starts)) == len(starts), starts


def test_the_next_space_scores_better_under_the_true_function(evidence):
    searched, nxt = mean_truth(SEARCHED), mean_truth(evidence.next_space)
    lr = evidence.next_space.parameters["learning_rate"]
    flat_lr = dataclasses.replace(lr, conditional_on=None, by_value=())
    flat = dataclasses.replace(evidence.next_space, parameters={**evidence.next_space.parameters, "learning_rate": flat_lr})
    assert nxt >= searched + 0.25, (nxt, searched)                                # measured +0.30
    assert nxt >= mean_truth(flat) + 0.15                                           # measured +0.22: the interaction pays


# --- provenance: an imputed number is never presented as observed ----------------------------------------------

def test_a_value_the_best_session_never_logged_is_not_presented_as_observed():
    idx = pd.Index([f"s{i}" for i in range(12)], name="session")
    rng = np.random.default_rng(0)
    lr = 10 ** rng.uniform(-4, -1, 12)
    wd = 10 ** rng.uniform(-5, -2, 12)
    y = -np.abs(np.log10(lr) + 2.5) + rng.normal(0, 0.01, 12)
    best = int(np.argmax(y))
    wd[best] = np.nan                                                               # the best run never logged it
    rows = Rows(hparams=pd.DataFrame({"lr": lr, "wd": wd}, index=idx), target=pd.Series(y, index=idx),
                status=pd.Series(["SUCCESS"] * 12, index=idx), group=pd.Series(list(idx), index=idx))
    log = HParamInfo("wd", "float", "", "log scale", Interval(1e-5, 1e-2))
    prep = prepare(rows, {"wd": log, "lr": dataclasses.replace(log, name="lr")}, target="acc", goal="maximize")
    value, where = prep.observed_best("wd")
    logged = np.where(np.isnan(wd), -np.inf, y)
    assert value == wd[int(np.argmax(logged))] and "the best session did not log it" in where
    imputed = prep.data["wd"].iloc[best]
    assert math.isclose(imputed, 10 ** np.nanmean(np.log10(wd)))                   # the geometric mean...
    assert any("with the geometric mean" in n for n in prep.notes)                  # ...and the notes say so
    r = analyze_prep(prep)
    best_row = next(f for f in r if f.startswith("Best row (observed)"))
    assert "not logged: wd (imputed" in best_row and "geometric mean" in best_row
    assert "wd=" not in best_row


def analyze_prep(prep):
    from hparams_tools.analysis.core import analyze_prepared

    return analyze_prepared(prep, seed=0).findings
