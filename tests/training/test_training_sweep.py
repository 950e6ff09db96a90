"""End-to-end tiny sweeps checked through TensorBoard's own HParams backend, our reader and keras-tuner's records."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sweep_helpers import tuner_trials, write_space
from hparams_tools import read_experiment
from training.sweep import main

FAILING_SPACE = (Path(__file__).parents[1] / "data" / "failing_space.yaml").read_text()

SMALL_SPACE = """\
method: random
max_trials: 2
parameters:
  learning_rate: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}
  epochs: {value: 2}
  batch_size: {values: [8, 16]}
"""


def test_round_trip_statuses_values_metrics(tmp_path, tiny, reference):
    """Hybrid grid x random; one trial succeeds, one diverges (NaN/inf), two raise: all four sessions complete."""
    space = write_space(tmp_path / "space.yaml", FAILING_SPACE)
    logdir = tmp_path / "logs"
    assert main(["--space", space, *tiny(logdir)]) == 0

    tb = reference.assert_matches_tensorboard(logdir)  # our reader agrees with TensorBoard on everything
    trials = tuner_trials(logdir)
    assert sorted(tb["sessions"]) == [f"trial-{i}" for i in sorted(trials)] and len(trials) == 4
    for tid, trial in trials.items():
        session = tb["sessions"][f"trial-{tid}"]
        values = trial["hyperparameters"]["values"]
        assert session["group"] == tid
        assert session["hparams"] == {k: (v if isinstance(v, str) else float(v)) for k, v in values.items()}
        ok = values["learning_rate"] == 0.003 and values["conv_blocks"] == 2
        assert session["status"] == ("SUCCESS" if ok else "FAILURE")
        assert trial["status"] == ("COMPLETED" if ok else "FAILED")
        if ok:  # the score the oracle got is the last validation accuracy TensorBoard shows
            assert session["metrics"]["validation/epoch_accuracy"] == pytest.approx(trial["score"], abs=1e-7)
            assert set(session["metrics"]) == set(tb["metrics"])

    assert tb["hparam_infos"]["momentum"]["domain"] == ("interval", 0.1, 0.9)
    assert tb["hparam_infos"]["dropout"]["domain"] == ("interval", 0.0, 0.5)
    assert tb["hparam_infos"]["learning_rate"]["domain"] == ("discrete", [0.003, 1e38])
    assert tb["hparam_infos"]["optimizer"] == {"type": "string", "domain": ("discrete", ["sgd"])}
    assert "objective: validation/epoch_accuracy maximize" in tb["description"].splitlines()

    from hparams_tools import read_experiment

    exp = read_experiment(logdir)
    assert exp.objective == ("validation/epoch_accuracy", "maximize")
    assert exp.hparam_infos["momentum"].log_scale and not exp.hparam_infos["dropout"].log_scale
    assert {m.name: m.display_name for m in exp.metric_infos}["validation/epoch_accuracy"] == "Validation accuracy"
    # the diverging trial stopped at once: fewer training epochs logged than the 3 asked for
    nan_tid = next(t for t, tr in trials.items()
                   if tr["hyperparameters"]["values"]["learning_rate"] > 1 and tr["hyperparameters"]["values"]["conv_blocks"] == 2)
    s = exp.scalars
    losses = s[(s.session == f"trial-{nan_tid}") & (s.group == "train") & (s.tag == "epoch_loss")]
    assert len(losses) < 3 and not np.isfinite(losses.value).all()


def test_cross_validation_folds_are_sessions_of_one_group(tmp_path, tiny, reference):
    space = write_space(tmp_path / "space.yaml", SMALL_SPACE)
    logdir = tmp_path / "cv"
    assert main(["--space", space, "--folds", "2", *tiny(logdir)]) == 0
    tb = reference.assert_matches_tensorboard(logdir)
    trials = tuner_trials(logdir)
    assert sorted(tb["sessions"]) == sorted(f"trial-{t}/fold{k}" for t in trials for k in (0, 1))
    for tid, trial in trials.items():
        folds = [tb["sessions"][f"trial-{tid}/fold{k}"] for k in (0, 1)]
        assert {f["group"] for f in folds} == {tid} and {f["status"] for f in folds} == {"SUCCESS"}
        mean = np.mean([f["metrics"]["validation/epoch_accuracy"] for f in folds])
        assert trial["score"] == pytest.approx(mean, abs=1e-7)  # the oracle got the mean over folds
    from hparams_tools import read_experiment

    groups = read_experiment(logdir).group_table()
    assert sorted(groups.index) == sorted(trials) and (groups["count"] == 2).all()


def test_executions_per_trial_are_repeats_in_the_group(tmp_path, tiny, reference):
    space = write_space(tmp_path / "space.yaml", SMALL_SPACE.replace("max_trials: 2", "max_trials: 1\nexecutions_per_trial: 2"))
    logdir = tmp_path / "rep"
    assert main(["--space", space, "--folds", "2", *tiny(logdir)]) == 0
    tb = reference.assert_matches_tensorboard(logdir)
    assert sorted(tb["sessions"]) == [f"trial-0/run{e}/fold{k}" for e in (0, 1) for k in (0, 1)]
    assert {s["group"] for s in tb["sessions"].values()} == {"0"}
    mean = np.mean([s["metrics"]["validation/epoch_accuracy"] for s in tb["sessions"].values()])
    assert tuner_trials(logdir)["0"]["score"] == pytest.approx(mean, abs=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("strategy, seed", [("random", 0), ("bayesian", 7)])
def test_seed_makes_the_sweep_reproducible(tmp_path, tiny, strategy, seed):
    space = write_space(tmp_path / "space.yaml", SMALL_SPACE)
    runs = []
    for name in ("a", "b"):
        assert main(["--space", space, "--seed", seed, "--strategy", strategy, "--max-trials", "2",
                     *tiny(tmp_path / name)]) == 0
        runs.append({t: (tr["hyperparameters"]["values"], tr["score"]) for t, tr in tuner_trials(tmp_path / name).items()})
    assert runs[0] == runs[1]
    assert main(["--space", space, "--seed", seed + 1, "--strategy", strategy, "--max-trials", "2",
                 *tiny(tmp_path / "c")]) == 0
    other = {t: tr["hyperparameters"]["values"] for t, tr in tuner_trials(tmp_path / "c").items()}
    assert other != {t: v for t, (v, _) in runs[0].items()}


def test_grid_covers_every_combination(tmp_path, tiny):
    space = write_space(tmp_path / "space.yaml", SMALL_SPACE.replace("random", "grid"))
    logdir = tmp_path / "grid"
    assert main(["--space", space, "--grid-points", "2", "--max-trials", "99", *tiny(logdir)]) == 0
    combos = {(tr["hyperparameters"]["values"]["learning_rate"], tr["hyperparameters"]["values"]["batch_size"])
              for tr in tuner_trials(logdir).values()}
    assert combos == {(lr, bs) for lr in (1e-4, 1e-2) for bs in (8, 16)}


CONDITIONAL_GRID = """\
method: grid
parameters:
  optimizer: {values: [adam, sgd]}
  learning_rate: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-1, conditional_on: optimizer,
                  by_value: {adam: {min: 1.0e-4, max: 1.0e-3}, sgd: {min: 1.0e-2, max: 1.0e-1}}}
  epochs: {value: 1}
  batch_size: {value: 8}
"""


def test_conditional_grid_counts_and_names_what_it_runs(tmp_path, tiny, capsys):
    space = write_space(tmp_path / "space.yaml", CONDITIONAL_GRID)
    logdir = tmp_path / "cond"
    args = [a for a in tiny(logdir) if a != "--quiet"]
    assert main(["--space", space, "--grid-points", "2", *args]) == 0
    out = capsys.readouterr().out
    # 2 optimizers x 2 learning rates of their own: 4 trials, announced and counted as 4 (not 2 x 2 x 2)
    assert ", 4 trials, " in out and "trial 4/4 " in out and "/8" not in out
    assert "learning_rate=" in out and "[optimizer=" not in out  # the space's name, not keras-tuner's copy
    table = read_experiment(logdir).table()
    runs = sorted(zip(table["optimizer"], table["learning_rate"]))
    assert [o for o, _ in runs] == ["adam", "adam", "sgd", "sgd"]   # each optimizer's own grid, ends included
    assert [lr for _, lr in runs] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])


def test_hyperband_owns_the_epochs(tmp_path, tiny, reference):
    space = write_space(tmp_path / "space.yaml", SMALL_SPACE.replace("epochs: {value: 2}", "epochs: {values: [1, 3]}"))
    logdir = tmp_path / "hb"
    assert main(["--space", space, "--strategy", "hyperband", *tiny(logdir)]) == 0
    from training.tuner import hyperband_trial_count

    tb = reference.assert_matches_tensorboard(logdir)
    assert len(tb["sessions"]) == hyperband_trial_count(3, 3) == len(tuner_trials(logdir))
    assert tb["hparam_infos"]["epochs"]["domain"] == ("discrete", [1.0, 3.0])
    epochs = sorted(s["hparams"]["epochs"] for s in tb["sessions"].values())
    assert set(epochs) == {1.0, 3.0}
    assert all(s["status"] == "SUCCESS" for s in tb["sessions"].values())
    assert not any(k.startswith("tuner/") for s in tb["sessions"].values() for k in s["hparams"])


def test_image_folder_end_to_end(tmp_path, tiny):
    from PIL import Image

    from training.data import load_image_folder

    colours = {"blue": (20, 40, 230), "green": (20, 200, 40), "red": (230, 30, 30)}
    for name, rgb in colours.items():
        (tmp_path / "flowers" / name).mkdir(parents=True)
        for i in range(6):
            img = Image.new("RGB", (20 + i, 24), rgb)
            img.save(tmp_path / "flowers" / name / (f"{i}.png" if i % 2 else f"{i}.jpg"))
    (tmp_path / "flowers" / "notes.txt").write_text("not an image folder")
    ds = load_image_folder(tmp_path / "flowers", image_size=12)
    assert ds.class_names == ("blue", "green", "red") and ds.x.shape == (18, 12, 12, 3)
    assert np.bincount(ds.y).tolist() == [6, 6, 6]
    for label, rgb in enumerate(colours.values()):
        assert np.abs(ds.x[ds.y == label].reshape(-1, 3).mean(0) - rgb).max() < 6  # decoded the right files

    space = write_space(tmp_path / "space.yaml", SMALL_SPACE.replace("max_trials: 2", "max_trials: 1"))
    logdir = tmp_path / "logs"
    assert main(["--space", space, "--data", tmp_path / "flowers", *tiny(logdir)]) == 0
    from hparams_tools import read_experiment

    exp = read_experiment(logdir)
    assert exp.sessions.status.tolist() == ["SUCCESS"]
    assert not math.isnan(exp.metrics().loc["trial-0", "validation/epoch_accuracy"])


@pytest.mark.slow
def test_mixed_precision_and_xla_flags_train(tmp_path, tiny):
    """--mixed-precision sets the mixed_float16 policy (in a subprocess: the policy is process-global)."""
    from sweep_helpers import run_cli

    space = write_space(tmp_path / "space.yaml", SMALL_SPACE.replace("max_trials: 2", "max_trials: 1")
                        .replace("epochs: {value: 2}", "epochs: {value: 1}"))
    proc = run_cli(["--space", space, "--mixed-precision", "--xla", "off", *tiny(tmp_path / "mp")[:-1]])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "mixed precision (mixed_float16), XLA off" in proc.stdout
    assert tuner_trials(tmp_path / "mp")["0"]["status"] == "COMPLETED"


@pytest.mark.slow
def test_equal_seeds_give_equal_scores_across_processes(tmp_path, tiny):
    """Separate processes (fresh TF state) with the same seed, with random augmentation: identical results."""
    from sweep_helpers import run_cli

    space = write_space(tmp_path / "space.yaml", SMALL_SPACE.replace("max_trials: 2", "max_trials: 1"))
    runs = []
    for name in ("a", "b"):
        proc = run_cli(["--space", space, "--augment", "full", *tiny(tmp_path / name)])
        assert proc.returncode == 0, proc.stderr[-2000:]
        s = read_experiment(tmp_path / name).scalars
        runs.append(s[s.group == "validation"].sort_values(["tag", "step"]).value.tolist())
    assert runs[0] and runs[0] == runs[1]
