"""The same tiny sweeps on every installed Keras backend: TensorBoard's own HParams backend reads the same logs.

Each backend runs in its own process (Keras fixes the backend at import): a
hold-out sweep where one trial diverges (NaN/inf: FAILURE) and a Hyperband
sweep whose promoted trials continue from their parents' ``.weights.h5``; then the first
sweep is run again (a resume of a finished sweep: nothing is added). The
logs are read by TensorBoard's HParams backend (``tests/io/tensorboard_reference.py``)
and must give the same sessions, groups, hparams, metric names and statuses
on every backend; only the metric values differ. On JAX and PyTorch the
process must end without TensorFlow in ``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from sweep_helpers import run_cli, write_space
from training._backend import BACKENDS

INSTALLED = [b for b, package in BACKENDS.items() if importlib.util.find_spec(package) is not None]

DIVERGING = """\
method: hybrid
metric: {name: validation/epoch_accuracy, goal: maximize}
seed: 5
parameters:
  learning_rate: {values: [0.003, 1.0e+38]}
  optimizer: {value: sgd}
  dropout: {distribution: uniform, min: 0.0, max: 0.5}
  epochs: {value: 2}
  batch_size: {value: 8}
"""

HYPERBAND = """\
method: hyperband
seed: 1
parameters:
  learning_rate: {distribution: log_uniform_values, min: 1.0e-3, max: 1.0e-2}
  epochs: {values: [1, 2]}
  batch_size: {value: 8}
"""

# 6 images per class: 24 training images in 3 batches of 8 and 6 validation images in one batch, so that JAX
# compiles one train step and one eval step per fit (a partial batch would be another shape to compile).
# Runs both sweeps in one process and reports what the process imported.
SCRIPT = """
import json, sys
from training.sweep import main
common = sys.argv[3:]
codes = [main(["--space", sys.argv[1], "--logdir", sys.argv[2] + "/diverging", *common]),
         main(["--space", sys.argv[2] + "/../hyperband.yaml", "--hyperband-factor", "2",
               "--logdir", sys.argv[2] + "/hyperband", *common]),
         main(["--space", sys.argv[1], "--logdir", sys.argv[2] + "/diverging", *common])]  # resumes: nothing left
import keras
print(json.dumps({"codes": codes, "backend": keras.backend.backend(),
                  "tensorflow": sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow")[:3]}))
"""


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory, data_cache):
    """Backend -> (the process's report, its logdir root); each backend's sweeps run once."""
    root = tmp_path_factory.mktemp("backends")
    space = write_space(root / "diverging.yaml", DIVERGING)
    write_space(root / "hyperband.yaml", HYPERBAND)
    out = {}
    for backend in INSTALLED:
        logs = root / backend
        logs.mkdir()
        proc = run_cli(["-c", SCRIPT, space, logs, "--samples-per-class", "6", "--image-size", "16",
                        "--cache-dir", data_cache, "--no-report", "--quiet"], module=None,
                       env={"KERAS_BACKEND": backend}, timeout=1800)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out[backend] = (json.loads(proc.stdout.strip().splitlines()[-1]), logs)
    return out


def _shape(view: dict) -> dict:
    """A TensorBoard view without the numbers that legitimately differ between backends."""
    sessions = {name: {"group": s["group"], "status": s["status"], "hparams": s["hparams"],
                       "metrics": sorted(s["metrics"])} for name, s in view["sessions"].items()}
    return {"hparam_infos": view["hparam_infos"], "metrics": view["metrics"], "sessions": sessions,
            # the backend is named in it, and the first process generated the data the others load from the cache
            "description": view["description"].replace(_backend_phrase(view["description"]), "").replace(", cached", "")}


def _backend_phrase(description: str) -> str:
    return next(f"Keras backend {b}" for b in BACKENDS if f"Keras backend {b}" in description)


@pytest.mark.slow
@pytest.mark.parametrize("backend", INSTALLED)
def test_each_backend_logs_what_tensorboard_reads(sweeps, reference, backend):
    report, logs = sweeps[backend]
    assert report["codes"] == [0, 0, 0] and report["backend"] == backend
    if backend != "tensorflow":  # the JAX and PyTorch path never imports TensorFlow
        assert report["tensorflow"] == []

    tb = reference.assert_matches_tensorboard(logs / "diverging")  # our reader agrees with TensorBoard too
    statuses = {s["hparams"]["learning_rate"]: s["status"] for s in tb["sessions"].values()}
    assert statuses == {0.003: "SUCCESS", 1e38: "FAILURE"} and len(tb["sessions"]) == 2  # the resume added none
    assert f"Keras backend {backend}" in tb["description"]
    ok = next(s for s in tb["sessions"].values() if s["status"] == "SUCCESS")
    assert set(ok["metrics"]) == {"train/epoch_accuracy", "train/epoch_loss", "validation/epoch_accuracy",
                                  "validation/epoch_loss"}  # the declared metrics, each with a value

    from hparams_tools import read_experiment

    s = read_experiment(logs / "diverging").scalars
    steps = s[(s.group == "train") & (s.tag == "epoch_loss")].groupby("session").step.apply(list)
    lr = {name: session["hparams"]["learning_rate"] for name, session in tb["sessions"].items()}
    assert {lr[name]: list(v) for name, v in steps.items()} == {0.003: [0, 1], 1e38: [0]}  # diverged: stopped at once

    hb = reference.assert_matches_tensorboard(logs / "hyperband")
    assert {s["status"] for s in hb["sessions"].values()} == {"SUCCESS"} and len(hb["sessions"]) == 5
    exp = read_experiment(logs / "hyperband")
    trials = [json.loads(t.read_text()) for t in (logs / "hyperband/.keras_tuner/sweep").glob("trial_*/trial.json")]
    promoted = [t for t in trials if t["hyperparameters"]["values"].get("tuner/initial_epoch", 0) > 0]
    assert promoted  # factor 2 over epochs 1..2 promotes at least one trial
    steps = exp.scalars[(exp.scalars.group == "train") & (exp.scalars.tag == "epoch_loss")]
    for t in promoted:  # it continued from its parent's weights: its epochs start where the parent stopped
        first = steps[steps.session == f"trial-{t['trial_id']}"].step.min()
        assert first == t["hyperparameters"]["values"]["tuner/initial_epoch"]


@pytest.mark.slow
@pytest.mark.skipif(len(INSTALLED) < 2, reason="only one Keras backend installed")
def test_all_backends_give_tensorboard_the_same_experiment(sweeps, reference):
    for sweep in ("diverging", "hyperband"):
        shapes = {b: _shape(reference.tensorboard_view(logs / sweep)) for b, (_, logs) in sweeps.items()}
        first = shapes[INSTALLED[0]]
        for backend in INSTALLED[1:]:
            assert shapes[backend] == first, (sweep, backend)
