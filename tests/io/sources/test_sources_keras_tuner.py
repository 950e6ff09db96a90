"""keras-tuner project directories made by keras-tuner itself: a tiny RandomSearch and the sweep's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sources_helpers as h
from hparams_tools import read_experiment
from hparams_tools.errors import HParamsToolsError
from hparams_tools.io.sources import write_logdir

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent

# the same space as the sweep's own end-to-end test (tests/training/test_training_sweep.py)
SWEEP_SPACE = (ROOT / "tests" / "data" / "failing_space.yaml").read_text()


def _env() -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "jax"}
    env.pop("KERASTUNER_ORACLE_IP", None)
    return env


@pytest.fixture(scope="module")
def random_search(tmp_path_factory):
    """A real RandomSearch (JAX backend: no TensorFlow, so keras-tuner wrote no HParams at all)."""
    pytest.importorskip("keras_tuner")
    tmp = tmp_path_factory.mktemp("kt")
    proc = subprocess.run([sys.executable, str(HERE / "kt_search.py"), str(tmp), str(tmp / "trials.json")],
                          env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp / "proj", json.loads((tmp / "trials.json").read_text())


@pytest.mark.slow
def test_random_search_matches_keras_tuners_own_view(random_search, tmp_path, reference):
    project, trials = random_search
    assert not list(project.parent.rglob("events.out.tfevents.*"))  # nothing for TensorBoard before the import
    for source in (project, project.parent):  # the project, or the directory holding it
        exp = read_experiment(source)
        assert exp.source_kind == "keras-tuner"
        assert sorted(exp.sessions.index) == sorted(f"trial_{t}" for t in trials)
    status = {"COMPLETED": "SUCCESS", "FAILED": "FAILURE"}
    assert {t["status"] for t in trials.values()} == {"COMPLETED", "FAILED"}
    scalars = exp.scalars
    for tid, trial in trials.items():
        name = f"trial_{tid}"
        assert exp.sessions.loc[name, "status"] == status[trial["status"]]
        got = {k: v for k, v in exp.hparams.loc[name].items() if v is not None and v == v}
        assert got == {k: (v if isinstance(v, (str, bool)) else float(v)) for k, v in trial["values"].items()}
        for metric, history in trial["metrics"].items():
            mine = scalars[(scalars.session == name) & (scalars.tag == metric)]
            assert [[int(s), v] for s, v in zip(mine.step, mine.value)] == history
    infos = exp.hparam_infos
    assert infos["lr"].log_scale and (infos["lr"].domain.min_value, infos["lr"].domain.max_value) == (1e-4, 1e-1)
    assert infos["units"].domain.values == (2.0, 4.0, 8.0) and infos["bias"].domain.values == (False, True)
    assert any("no end times" in n for n in exp.notes)
    h.assert_import_matches(exp, write_logdir(exp, tmp_path / "logs"), reference)


@pytest.mark.slow
def test_the_sweeps_keras_tuner_dir_agrees_with_its_tensorboard_logs(tmp_path, reference):
    """``python -m training.sweep`` writes both; what is imported from ``.keras_tuner/`` must agree."""
    space = tmp_path / "space.yaml"
    space.write_text(SWEEP_SPACE)
    logdir = tmp_path / "logs"
    proc = subprocess.run(
        [sys.executable, "-m", "training.sweep", "--space", str(space), "--logdir", str(logdir),
         "--samples-per-class", "8", "--image-size", "16", "--cache-dir", str(tmp_path / "cache"), "--no-report",
         "--quiet"], env={**_env(), "KERAS_BACKEND": "tensorflow"}, capture_output=True, text=True, timeout=900,
        cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tb = read_experiment(logdir)
    kt = read_experiment(logdir / ".keras_tuner")  # the directory holding the project "sweep"
    assert sorted(kt.sessions.index) == sorted(f"trial_{g}" for g in tb.sessions["group"])
    assert {"SUCCESS", "FAILURE"} <= set(tb.sessions["status"])
    tb_last = tb.metrics()
    for session, row in tb.sessions.iterrows():
        name = f"trial_{row['group']}"
        assert kt.sessions.loc[name, "status"] == row["status"]
        assert kt.hparams.loc[name].to_dict() == tb.hparams.loc[session].to_dict()
        ours = kt.metrics().loc[name, "validation/epoch_accuracy"]
        theirs = tb_last.loc[session, "validation/epoch_accuracy"]
        if row["status"] == "SUCCESS":
            assert ours == pytest.approx(theirs, abs=1e-7)  # keras-tuner got the last epoch's value
        else:
            assert np.isnan(ours)
    assert kt.objective == tb.objective == ("validation/epoch_accuracy", "maximize")
    assert set(kt.hparam_infos) == set(tb.hparam_infos)
    assert kt.hparam_infos["momentum"].log_scale


def _project(tmp_path) -> Path:
    project = tmp_path / "proj"
    (project / "trial_0").mkdir(parents=True)
    (project / "oracle.json").write_text(json.dumps({"hyperparameters": {"space": [
        {"class_name": "Float", "config": {"name": "lr", "min_value": 0.001, "max_value": 0.1, "sampling": "log"}}]}}))
    (project / "trial_0" / "trial.json").write_text(json.dumps({
        "trial_id": "0", "hyperparameters": {"values": {"lr": 0.01}}, "status": "COMPLETED",
        "metrics": {"metrics": {"val_loss": {"direction": "min", "observations": [{"value": [0.5], "step": 1}]}}}}))
    return project


def test_half_written_trial_is_one_error(tmp_path):
    project = _project(tmp_path)
    assert read_experiment(project).objective == ("val_loss", "minimize")
    (project / "trial_1").mkdir()
    (project / "trial_1" / "trial.json").write_text('{"trial_id": "1", "hyperparameters": {"val')
    with pytest.raises(HParamsToolsError, match=r"trial_1/trial.json is not valid JSON .*half-written") as info:
        read_experiment(project)
    assert "\n" not in str(info.value)


def test_trial_directory_without_trial_json_is_noted(tmp_path):
    project = _project(tmp_path)
    (project / "trial_1").mkdir()
    exp = read_experiment(project)
    assert list(exp.sessions.index) == ["trial_0"]
    assert any("trial_1 has no trial.json" in n for n in exp.notes)
