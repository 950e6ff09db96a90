"""Plot data from real logdirs (event files written by io.writer, read by read_experiment)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from hparams_tools import read_experiment
from hparams_tools.report import write_report
from hparams_tools.visualization import _common as c
from hparams_tools.visualization import curves, history, slices


def test_declared_log_scale_and_objective_come_from_the_logdir(sweep_dir):
    exp = read_experiment(sweep_dir)
    d = c.plot_data(exp)
    assert (d.target, d.goal) == ("validation/epoch_accuracy", "maximize")  # the declared objective
    assert "learning_rate" in d.log_scaled  # its description says "log-uniform"
    assert d.categorical == {"optimizer"}
    by = {s.name: s for s in slices._get_slices_info(d).slices}
    assert by["learning_rate"].log and not by["dropout"].log


def test_learning_curves_are_the_logged_steps(sweep_dir):
    exp = read_experiment(sweep_dir)
    d = c.plot_data(exp)
    info = curves._get_curves_info(d)
    assert info.metric == "validation/epoch_accuracy"
    rows = exp.scalars[(exp.scalars.group == "validation") & (exp.scalars.tag == "epoch_accuracy")]
    assert info.sessions == sorted(rows.session.unique())
    for s, steps, values in zip(info.sessions, info.steps, info.values):
        own = rows[rows.session == s].sort_values("step")
        assert np.array_equal(steps, own.step.to_numpy()) and np.allclose(values, own.value.to_numpy())
    assert info.sessions[info.best] == d.best_session()
    assert d.best_session() == exp.metrics()["validation/epoch_accuracy"].drop(
        exp.sessions.index[exp.sessions.status == "FAILURE"]).idxmax()


def test_best_so_far_counts_epochs_spent(sweep_dir):
    exp = read_experiment(sweep_dir)
    line = history._get_history_info([c.plot_data(exp)]).lines[0]
    rows = exp.scalars[(exp.scalars.group == "validation") & (exp.scalars.tag == "epoch_accuracy")]
    per_session = rows.groupby("session").step.nunique()
    assert line.epochs[-1] == per_session.sum()
    assert np.allclose(np.diff(np.r_[0, line.epochs]), per_session.reindex(line.sessions).to_numpy())


def _leaderboard(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="lb-1">(.*?)</script>', html, re.S).group(1)
    return json.loads(block)


@pytest.mark.parametrize("value", ["last", "max"])
def test_leaderboard_holds_every_session_with_the_reader_values(value, sweep_dir, tmp_path):
    exp = read_experiment(sweep_dir)
    html = write_report(sweep_dir, tmp_path / "r.html", value=value, write_space=False).read_text(encoding="utf-8")
    lb = _leaderboard(html)
    cols = lb["columns"]
    target = "validation/epoch_accuracy"
    got = {row[cols.index("session")]: row for row in lb["rows"]}
    assert set(got) == set(exp.sessions.index)
    expected = exp.metrics(value)[target]
    for s, row in got.items():
        assert row[cols.index(target)] == pytest.approx(expected[s], rel=1e-5)
        assert row[cols.index("status")] == exp.sessions.at[s, "status"]
    ranked = [r for r in lb["rows"] if r[0] is not None]
    assert [r[0] for r in ranked] == list(range(1, len(ranked) + 1))
    scores = [r[cols.index(target)] for r in ranked]
    assert scores == sorted(scores, reverse=True)  # best first
    assert all(r[cols.index("status")] == "FAILURE" for r in lb["rows"] if r[0] is None)


def test_report_accepts_experiments(sweep_dir, other_sweep_dir, tmp_path):
    exps = [read_experiment(sweep_dir), read_experiment(other_sweep_dir)]
    html = write_report(exps, tmp_path / "r.html", write_space=False).read_text(encoding="utf-8")
    assert html.count('class="experiment"') == 2 and "HParams report: random, second" in html
