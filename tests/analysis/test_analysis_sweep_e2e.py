"""The suggested space file runs in the real sweep: ``python -m training.sweep --space next_space.yaml``."""

from __future__ import annotations

import math
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hparams_tools import read_experiment
from hparams_tools.io.experiment import Discrete, HParamInfo, Interval, MetricInfo
from hparams_tools.io.writer import write_experiment, write_session
from hparams_tools.space import load_space

REPO = Path(__file__).resolve().parents[2]


def _writer_sweep(root: Path) -> Path:
    """60 sessions over the CNN's own hyperparameters (learning_rate peaked at 3e-3, optimizer effect)."""
    rng = np.random.default_rng(0)
    write_experiment(root, [
        HParamInfo("learning_rate", "float", "", "log scale", Interval(1e-4, 1e-1)),
        HParamInfo("optimizer", "string", "", "", Discrete(("adam", "sgd"))),
        HParamInfo("epochs", "float", "", "", Discrete((1.0,))),
        HParamInfo("batch_size", "float", "", "", Discrete((16.0,))),
    ], [MetricInfo("validation", "epoch_accuracy", "", "")])
    for i in range(60):
        lr, opt = float(10 ** rng.uniform(-4, -1)), str(rng.choice(["adam", "sgd"]))
        acc = 0.9 - 0.1 * (math.log10(lr) - math.log10(3e-3)) ** 2 - 0.1 * (opt == "sgd") + rng.normal(0, 0.01)
        write_session(root / f"t{i:02d}", {"learning_rate": lr, "optimizer": opt, "epochs": 1, "batch_size": 16},
                      scalars={"validation": {"epoch_accuracy": [acc]}})
    return root


@pytest.mark.slow
def test_suggested_space_runs_in_training_sweep(tmp_path):
    pytest.importorskip("keras_tuner")
    logdir = _writer_sweep(tmp_path / "first")
    space_file = tmp_path / "next_space.yaml"
    proc = subprocess.run([sys.executable, "-m", "hparams_tools", "suggest", str(logdir), "-o", str(space_file)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    space = load_space(space_file)
    assert space.name == "first-next"                      # a new experiment, not the analysed one
    assert space.parameters["epochs"].values == (1,) and space.parameters["epochs"].is_fixed
    lr = space.parameters["learning_rate"]
    printed = [line.split("run it with: ", 1)[1] for line in proc.stderr.splitlines() if "run it with: " in line]
    assert len(printed) == 1
    command = shlex.split(printed[0])
    assert command[:3] == ["python", "-m", "training.sweep"]
    # exactly the printed command (our interpreter for "python"), plus options that only make it small and fast
    small = ["--max-trials", "1", "--strategy", "random", "--image-size", "8", "--samples-per-class", "6",
             "--no-report", "--quiet", "--cpu"]
    for _ in range(2):   # a rerun resumes the finished sweep instead of refusing it
        proc = subprocess.run([sys.executable, *command[1:], *small], capture_output=True, text=True, cwd=REPO,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    exp = read_experiment(tmp_path / "first-next")
    assert len(exp.sessions) == 1
    row = exp.hparams.iloc[0]
    assert lr.min <= row["learning_rate"] <= lr.max
    assert row["optimizer"] in space.parameters["optimizer"].values


CONDITIONAL_SPACE = """\
name: conditional
method: random
metric: {name: validation/epoch_accuracy, goal: maximize}
parameters:
  optimizer: {values: [adam, sgd]}
  learning_rate: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-1, conditional_on: optimizer,
                  by_value: {adam: {min: 1.0e-4, max: 1.0e-3}, sgd: {min: 1.0e-2, max: 1.0e-1}}}
  epochs: {value: 1}
  batch_size: {value: 16}
"""


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["random", "grid"])
def test_sweep_runs_per_category_ranges(tmp_path, strategy):
    """A conditional range (keras-tuner conditional_scope): every trial's learning rate lies in its optimizer's range."""
    pytest.importorskip("keras_tuner")
    space_file = tmp_path / "conditional.yaml"
    space_file.write_text(CONDITIONAL_SPACE)
    proc = subprocess.run(
        [sys.executable, "-m", "training.sweep", "--space", str(space_file), "--max-trials", "4", "--grid-points", "2",
         "--strategy", strategy, "--logdir", str(tmp_path / "run"), "--image-size", "8", "--samples-per-class", "6",
         "--no-report", "--quiet", "--cpu"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    hp = read_experiment(tmp_path / "run").hparams
    assert len(hp) == 4 and set(hp["optimizer"]) == {"adam", "sgd"}
    ranges = {"adam": (1e-4, 1e-3), "sgd": (1e-2, 1e-1)}
    for _, row in hp.iterrows():
        lo, hi = ranges[row["optimizer"]]
        assert lo * (1 - 1e-6) <= row["learning_rate"] <= hi * (1 + 1e-6), row.to_dict()
    if strategy == "grid":   # 2 optimizers x 2 grid points of that optimizer's own range
        assert sorted(hp["learning_rate"].round(8)) == [1e-4, 1e-3, 1e-2, 1e-1]
