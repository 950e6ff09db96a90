"""Repeats / CV folds written as groups are analysed as group means, with their spread reported."""

from __future__ import annotations

from hparams_tools.testing import TARGET, write_ground_truth_sweep
from hparams_tools import read_experiment
from hparams_tools.analysis import analyze


def test_groups_are_averaged_and_noisy_repeats_are_flagged(tmp_path, capsys):
    logdir = write_ground_truth_sweep(tmp_path / "s", n=150, seed=3, repeats=3, noise=0.3)
    exp = read_experiment(logdir)
    r = analyze(exp, seed=0, progress=True)
    groups = exp.sessions["group"]
    usable = exp.metrics()[TARGET].notna() & (exp.sessions["status"] != "FAILURE")
    assert r.n_sessions == 150
    assert r.n_sessions_used == groups[usable].nunique()                  # one row per configuration
    assert r.groups is not None and (r.groups["count"] == 3).all()
    assert any("averaged" in n and "groups of repeats" in n for n in r.notes)
    # the group mean is what the rows hold
    first = r.data.index[0]
    members = exp.metrics()[TARGET][(groups == first) & usable]
    assert r.data.loc[first, TARGET] == members.mean()
    assert any("repeats disagree" in f for f in r.findings)
    assert "analysis" in capsys.readouterr().err                       # the progress bar (tqdm) ran
