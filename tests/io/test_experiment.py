"""Experiment semantics: TensorBoard's rules (checked against its own HParams backend where it
has an opinion) and what we add (value modes, group table, objective, errors)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from hparams_tools import read_experiment
from hparams_tools.errors import HParamsToolsError, LogdirError, NoHParamsDataError, UnknownMetricError
from hparams_tools.io.experiment import Discrete, HParamInfo, Interval, MetricInfo, parse_value_mode
from hparams_tools.io.writer import EventWriter, write_experiment, write_session

ACC = [0.5, 0.7, 0.6, 0.9]
LOSS = [1.0, 0.4, float("nan"), 0.3]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Repeats sharing a group, a session without group, all statuses, a NaN, mixed/missing hparams."""
    logs = tmp_path_factory.mktemp("sweep") / "logs"
    write_session(logs / "a-rep0", {"lr": 0.1, "opt": "adam", "units": 32}, group="a", status="SUCCESS",
                  start_time=10.0, end_time=20.0,
                  scalars={"train": {"epoch_loss": LOSS}, "validation": {"epoch_accuracy": ACC}})
    write_session(logs / "a-rep1", {"lr": 0.1, "opt": "adam", "units": 32}, group="a", status="FAILURE",
                  start_time=11.0, end_time=21.0,
                  scalars={"train": {"epoch_loss": [2.0, 1.0]}, "validation": {"epoch_accuracy": [0.2, 0.4]}})
    write_session(logs / "b", {"lr": 0.01, "opt": 3, "flag": True}, status=None, start_time=12.0,
                  scalars={"validation": {"epoch_accuracy": [0.1, 0.3, 0.2]}})
    write_session(logs / "c", {"lr": 0.001, "opt": "sgd", "units": 64}, status="RUNNING", start_time=13.0,
                  end_time=23.0, scalars={"validation": {"epoch_accuracy": [0.8]}, "": {"epoch_loss": [5.0]}})
    return logs


def test_sweep_matches_tensorboard(sweep, matches_tensorboard):
    tb = matches_tensorboard(sweep)
    # mixed types (string and number) make "opt" a string hparam; TensorBoard lists its values as strings
    assert tb["hparam_infos"]["opt"] == {"type": "string", "domain": ("discrete", ["3.0", "adam", "sgd"])}


def test_sessions_groups_statuses(sweep):
    exp = read_experiment(sweep)
    s = exp.sessions
    assert list(s.index) == ["a-rep0", "a-rep1", "b", "c"]
    assert list(s["group"]) == ["a", "a", "b", "c"]  # empty group_name: the session's own name
    assert list(s["status"]) == ["SUCCESS", "FAILURE", "UNKNOWN", "RUNNING"]
    assert s.loc["a-rep0", "start_time"] == 10.0 and s.loc["c", "end_time"] == 23.0
    assert math.isnan(s.loc["b", "end_time"])
    assert not exp.declared and exp.description == "" and exp.objective is None


def test_inferred_experiment(sweep):
    exp = read_experiment(sweep)
    infos = exp.hparam_infos
    # TensorBoard's order: hparams whose values differ first, then by name
    assert list(infos) == ["lr", "opt", "units", "flag"]
    assert infos["lr"] == HParamInfo("lr", "float", "", "", Interval(0.001, 0.1))
    assert infos["opt"].type == "string" and infos["opt"].domain == Discrete(("3.0", "adam", "sgd"))
    assert infos["units"].domain == Interval(32.0, 64.0)
    assert infos["flag"] == HParamInfo("flag", "bool", "", "", Discrete((True,)))
    # inferred metrics: (group, tag) of the sessions' scalar runs, sorted by (tag, group)
    assert [m.name for m in exp.metric_infos] == ["validation/epoch_accuracy", "epoch_loss", "train/epoch_loss"]


def test_hparams_table_types_and_missing(sweep):
    h = read_experiment(sweep).hparams
    assert h["lr"].dtype == np.float64
    assert h["units"].dtype == np.float64 and math.isnan(h.loc["b", "units"])
    assert h["opt"].dtype == object and list(h["opt"]) == ["adam", "adam", 3.0, "sgd"]  # raw values, as TB
    assert h["flag"].dtype == object and h.loc["b", "flag"] is True and h.loc["c", "flag"] is None


def test_value_modes(sweep):
    exp = read_experiment(sweep)
    last = exp.metrics()
    assert last.loc["a-rep0", "validation/epoch_accuracy"] == pytest.approx(0.9)
    assert math.isnan(last.loc["b", "train/epoch_loss"])  # never logged
    assert last.loc["c", "epoch_loss"] == 5.0 and math.isnan(last.loc["a-rep0", "epoch_loss"])
    f32 = lambda xs: np.asarray(xs, dtype=np.float32).astype(float)  # noqa: E731 (values are float32 on disk)
    assert exp.metrics("max").loc["a-rep0", "validation/epoch_accuracy"] == f32(ACC).max()
    assert exp.metrics("min").loc["a-rep0", "train/epoch_loss"] == np.nanmin(f32(LOSS))  # NaN ignored
    assert exp.metrics("mean-last-2").loc["a-rep0", "validation/epoch_accuracy"] == pytest.approx(f32(ACC)[-2:].mean())
    assert exp.metrics("mean-last-2").loc["a-rep0", "train/epoch_loss"] == pytest.approx(f32(LOSS)[-1])
    assert exp.metrics("mean-last-99").loc["b", "validation/epoch_accuracy"] == pytest.approx(f32([0.1, 0.3, 0.2]).mean())
    assert list(exp.metrics("max").columns) == [m.name for m in exp.metric_infos]


def test_nan_last_value_is_nan(tmp_path):
    write_session(tmp_path / "r", {"x": 1.0}, scalars={"": {"loss": [1.0, float("nan")]}})
    exp = read_experiment(tmp_path)
    assert math.isnan(exp.metrics().loc["r", "loss"])
    assert exp.metrics("min").loc["r", "loss"] == 1.0


@pytest.mark.parametrize("mode", ["", "mean", "mean-last-0", "mean-last-x", "best", None])
def test_bad_value_mode(mode):
    with pytest.raises(HParamsToolsError, match="mean-last-K"):
        parse_value_mode(mode)
    assert parse_value_mode("mean-last-12") == ("mean-last", 12)


def test_group_table(sweep):
    exp = read_experiment(sweep)
    g = exp.group_table()
    assert list(g.index) == ["a", "b", "c"]
    assert list(g["count"]) == [2, 1, 1]
    acc = np.float32([0.9, 0.4]).astype(float)
    assert g.loc["a", "validation/epoch_accuracy"] == pytest.approx(acc.mean())
    assert g.loc["a", "validation/epoch_accuracy:std"] == pytest.approx(acc.std(ddof=1))
    assert math.isnan(g.loc["b", "validation/epoch_accuracy:std"])
    # TensorBoard's mean leaves out sessions without the metric but keeps a logged NaN
    assert g.loc["a", "train/epoch_loss"] == pytest.approx((0.3 + 1.0) / 2, rel=1e-6)
    assert math.isnan(g.loc["b", "train/epoch_loss"])


def test_table_joins_and_prefixes_collisions(tmp_path):
    write_session(tmp_path / "r", {"status": "x", "loss": 2.0}, scalars={"": {"loss": [1.0]}})
    t = read_experiment(tmp_path).table()
    assert list(t.columns) == ["group", "status", "start_time", "end_time", "loss", "hparam:status", "metric:loss"]
    assert t.loc["r", "hparam:status"] == "x"
    assert t.loc["r", "metric:loss"] == 1.0 and t.loc["r", "loss"] == 2.0


def test_declared_experiment_and_objective(tmp_path, matches_tensorboard):
    write_experiment(
        tmp_path,
        [HParamInfo("opt", "string", "Optimizer", "", Discrete(("adam", "sgd"))),
         HParamInfo("lr", "float", "Learning rate", "log-uniform", Interval(1e-4, 1e-1))],
        [MetricInfo("validation", "epoch_accuracy", "Val acc", ""), MetricInfo("", "never_logged", "", "")],
        description="Flowers sweep\nobjective: validation/epoch_accuracy maximize\n",
    )
    write_session(tmp_path / "r0", {"lr": 0.01, "opt": "adam", "extra": 1},
                  scalars={"validation": {"epoch_accuracy": [0.5, 0.6]}, "train": {"epoch_loss": [1.0]}})
    matches_tensorboard(tmp_path)
    exp = read_experiment(tmp_path)
    assert exp.declared and exp.objective == ("validation/epoch_accuracy", "maximize")
    assert list(exp.hparam_infos) == ["lr", "opt"]  # TensorBoard sorts by name
    assert exp.hparam_infos["lr"].log_scale and exp.hparam_infos["lr"].display_name == "Learning rate"
    assert exp.hparam_infos["opt"].domain == Discrete(("adam", "sgd"))
    # declared metrics are the metrics, logged or not; an undeclared hparam is an extra column
    assert [m.name for m in exp.metric_infos] == ["validation/epoch_accuracy", "never_logged"]
    assert list(exp.hparams.columns) == ["lr", "opt", "extra"]
    assert exp.metrics().loc["r0", "validation/epoch_accuracy"] == pytest.approx(0.6)


def test_nested_sessions_and_several_files_per_run(tmp_path, matches_tensorboard):
    write_session(tmp_path / "outer", {"x": 1.0}, scalars={"train": {"loss": [3.0, 2.0]}})
    write_session(tmp_path / "outer" / "inner", {"x": 2.0}, scalars={"train": {"loss": [9.0]}})
    # a second event file in outer/train continues the series (files are read in name order)
    with EventWriter(tmp_path / "outer" / "train") as w:
        w.add_scalar("loss", 1.5, 2, wall_time=50.0)
    write_session(tmp_path / "deep" / "er" / "s", {"x": 3.0}, scalars={"": {"loss": [7.0]}})
    matches_tensorboard(tmp_path)
    exp = read_experiment(tmp_path)
    assert list(exp.sessions.index) == ["deep/er/s", "outer", "outer/inner"]
    m = exp.metrics()
    assert m.loc["outer", "train/loss"] == 1.5 and m.loc["outer/inner", "train/loss"] == 9.0
    assert m.loc["deep/er/s", "loss"] == 7.0
    sc = exp.scalars
    outer = sc[(sc.session == "outer") & (sc.group == "train")]
    assert list(outer.step) == [0, 1, 2] and list(outer.value) == [3.0, 2.0, 1.5]
    assert set(sc.columns) == {"session", "group", "tag", "step", "wall_time", "value"}
    assert sc["step"].dtype == np.int64 and sc["value"].dtype == np.float64


def test_tag_metadata_in_an_earlier_file_of_the_run(tmp_path, matches_tensorboard):
    """The scalars metadata sits only in the run's first file; values in a later file still count."""
    write_session(tmp_path / "r", {"x": 1.0}, scalars={"": {"acc": [0.1]}})
    from tensorboard.compat.proto import event_pb2, tensor_pb2, tensor_shape_pb2

    with EventWriter(tmp_path / "r") as w:  # raw tensor without metadata, as a restarted writer may
        ev = event_pb2.Event(wall_time=9.0, step=1)
        ev.summary.value.add(tag="acc", tensor=tensor_pb2.TensorProto(
            dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[0.75]))
        w.write_event(ev)
    matches_tensorboard(tmp_path)
    assert read_experiment(tmp_path).metrics().loc["r", "acc"] == 0.75


def test_root_session(tmp_path):
    write_session(tmp_path, {"x": 1.0}, scalars={"": {"loss": [2.0]}, "validation": {"acc": [0.5]}})
    exp = read_experiment(tmp_path)
    assert list(exp.sessions.index) == ["."]
    assert exp.metrics().loc["."].to_dict() == {"validation/acc": 0.5, "loss": 2.0}


def test_parallel_parse_equals_single_process(sweep):
    one = read_experiment(sweep, workers=1)
    two = read_experiment(sweep, workers=2)
    pd.testing.assert_frame_equal(one.table("max"), two.table("max"))
    pd.testing.assert_frame_equal(one.scalars, two.scalars)


def test_progress_bar(sweep, capsys):
    read_experiment(sweep, progress=True)
    assert "reading" in capsys.readouterr().err


def test_bad_logdirs(tmp_path):
    with pytest.raises(LogdirError, match="does not exist"):
        read_experiment(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(LogdirError, match="not a directory"):
        read_experiment(tmp_path / "file")
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(LogdirError, match="no TensorBoard event files"):
        read_experiment(tmp_path / "empty")


def test_scalars_without_hparams(tmp_path):
    for run in ("r1", "r2"):
        with EventWriter(tmp_path / run) as w:
            w.add_scalar("loss", 1.0, 0)
    with pytest.raises(NoHParamsDataError, match="scalars for 2 runs but no HParams session data"):
        read_experiment(tmp_path)


def test_damage_is_reported_with_a_warning(tmp_path):
    write_session(tmp_path / "r", {"x": 1.0}, scalars={"": {"loss": [1.0, 2.0]}})
    (tmp_path / "r" / "events.out.tfevents.9.junk").write_bytes(b"\x01" * 100)
    with pytest.warns(UserWarning, match="events.out.tfevents.9.junk"):
        exp = read_experiment(tmp_path)
    assert [d.offset for d in exp.damage] == [0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same damage is not warned about twice
        exp.reload()


def test_metric_steps_is_every_value_of_one_metric_per_session(sweep):
    """metric_steps equals the matching rows of the long scalars table, sorted by session."""
    exp = read_experiment(sweep)
    name = exp.metric_infos[0].name
    got = exp.metric_steps(name)
    m = exp.metric_infos[0]
    s = exp.scalars
    want = s[(s["group"] == m.group) & (s["tag"] == m.tag)][["session", "step", "wall_time", "value"]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_categorical=False)
    assert list(got["session"].astype(str)) == sorted(got["session"].astype(str))
    assert len(got) > len(exp.sessions)  # several steps per session


def test_metric_steps_unknown_and_undeclared_metrics(tmp_path):
    write_experiment(tmp_path, ["lr"], [("validation", "acc")])
    write_session(tmp_path / "r0", {"lr": 0.1}, scalars={"validation": {"acc": [0.5, 0.75]}, "train": {"loss": [2.0]}})
    exp = read_experiment(tmp_path)
    assert exp.metric_steps("validation/acc")["value"].tolist() == [0.5, 0.75]
    assert exp.metric_steps("train/loss")["value"].tolist() == [2.0]  # logged, not declared
    with pytest.raises(UnknownMetricError, match="nope"):
        exp.metric_steps("nope")


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_hparams_named_like_table_columns_export(tmp_path, fmt):
    """Hyperparameters named session, group, status, count... and a metric named session: one
    naming rule (prefix when taken) keeps every column, in table(), group_table() and exports."""
    from hparams_tools.io.export import render

    hp = {"session": "s1", "group": 3.0, "status": True, "count": 1.0, "start_time": 0.5}
    write_session(tmp_path / "r", hp, scalars={"": {"session": [1.0], "count": [2.0]}})
    exp = read_experiment(tmp_path)
    t = exp.table()
    assert len(set(t.columns)) == len(t.columns)
    assert t.loc["r", "hparam:session"] == "s1" and t.loc["r", "hparam:group"] == 3.0 and t.loc["r", "group"] == "r"
    assert t.loc["r", "metric:session"] == 1.0 and t.loc["r", "count"] == 1.0 and t.loc["r", "metric:count"] == 2.0
    g = exp.group_table()
    assert g.loc["r", "count"] == 1 and g.loc["r", "metric:count"] == 2.0 and g.loc["r", "session"] == 1.0
    out = render(exp, fmt)
    if fmt == "csv":
        header = out.splitlines()[0].split(",")
        assert header[0] == "session" and len(set(header)) == len(header) and "hparam:session" in header
    elif fmt == "json":
        import json

        (rec,) = json.loads(out)
        assert rec["session"] == "r" and rec["hparams"]["session"] == "s1" and rec["metrics"]["session"] == 1.0
    else:
        import io

        frame = pd.read_parquet(io.BytesIO(out))
        assert list(frame["session"]) == ["r"] and list(frame["hparam:session"]) == ["s1"]


def _restarted_run(logdir):
    """A run restarted after a crash: attempt 1 (lr 0.1) ends FAILURE, attempt 2 (lr 0.05, a new
    event file in the same run directory, as every TensorBoard writer makes) ends SUCCESS."""
    run = logdir / "trial-0"
    with EventWriter(run) as w:
        w.add_session_start({"lr": 0.1}, group="trial-0", start_time=100.0)
        for step, v in enumerate([0.5, 0.6]):
            w.add_scalar("acc", v, step, wall_time=100.0 + step)
        w.add_session_end("FAILURE", end_time=110.0)
    with EventWriter(run) as w:
        w.add_session_start({"lr": 0.05}, group="trial-0", start_time=200.0)
        for step, v in enumerate([0.25, 0.75]):
            w.add_scalar("acc", v, step, wall_time=200.0 + step)
        w.add_session_end("SUCCESS", end_time=210.0)
    write_session(logdir / "trial-1", {"lr": 0.2}, status="SUCCESS", scalars={"": {"acc": [0.5]}})
    return logdir


def test_restarted_run_first_attempt_is_tensorboards_rule(tmp_path, matches_tensorboard):
    logdir = _restarted_run(tmp_path)
    tb = matches_tensorboard(logdir)  # the default agrees with TensorBoard ...
    assert tb["sessions"]["trial-0"]["status"] == "FAILURE"  # ... which shows the crashed attempt
    exp = read_experiment(logdir)
    assert exp.hparams.loc["trial-0", "lr"] == 0.1 and exp.sessions.loc["trial-0", "status"] == "FAILURE"
    assert exp.metrics().loc["trial-0", "acc"] == 0.75  # the last value read is the restart's


def test_restarted_run_last_attempt_option(tmp_path):
    logdir = _restarted_run(tmp_path)
    exp = read_experiment(logdir, attempts="last")
    row = exp.table().loc["trial-0"]
    assert row["lr"] == 0.05 and row["status"] == "SUCCESS"
    assert row["start_time"] == 200.0 and row["end_time"] == 210.0
    assert exp.table().loc["trial-1", "lr"] == 0.2  # runs with one attempt are unchanged
    with EventWriter(logdir / "trial-0") as w:  # a third attempt, still running: no end info yet
        w.add_session_start({"lr": 0.01}, group="trial-0", start_time=300.0)
    exp.reload()
    assert exp.sessions.loc["trial-0", "status"] == "UNKNOWN" and exp.hparams.loc["trial-0", "lr"] == 0.01
    with pytest.raises(HParamsToolsError, match="attempts"):
        read_experiment(logdir, attempts="newest")


def test_runs_declaring_different_experiments_warn_once(tmp_path, capsys):
    """Each run declares its own experiment (as Lightning and tensorboardX write): the first run
    by name is used, one warning says so, a reload does not repeat it; the CLI says it in one line."""
    from hparams_tools.cli import main
    from hparams_tools.errors import ExperimentConflictWarning

    for name, metric in (("a", "acc"), ("b", "loss")):
        write_experiment(tmp_path / name, ["lr"], [metric])
        write_session(tmp_path / name, {"lr": 0.1}, scalars={"": {metric: [0.5]}})
    with pytest.warns(ExperimentConflictWarning, match="using the one of run 'a'") as caught:
        exp = read_experiment(tmp_path)
    assert len([w for w in caught if issubclass(w.category, ExperimentConflictWarning)]) == 1
    assert [m.name for m in exp.metric_infos] == ["acc"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExperimentConflictWarning)
        exp.reload()
    assert main(["export", str(tmp_path), "-q", "-o", str(tmp_path / "out.json")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hparams-tools export: warning: 2 runs declare 2 different experiments")
