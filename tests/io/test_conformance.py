"""Conformance: for logdirs written by real writers, the reader reports what TensorBoard reports.

Every case writes a logdir with a real writer (Keras' TensorBoard callback + ``hp.KerasCallback``,
the ``tf.summary`` + ``hp.hparams_config`` tutorial pattern, keras-tuner's TensorBoard integration,
raw TF summaries for repeats/statuses/NaN/mixed types/nesting, tensorboardX, PyTorch, and our own
writer) and compares the reader with TensorBoard's own HParams backend (``conftest.tensorboard_view``)
session by session: names, groups, statuses, start/end times, hparams, metric names, last values,
and the experiment's hparam types and domains. Each case also checks that it really exercises what
it claims (e.g. TensorBoard does see a FAILURE session), so a broken fixture cannot pass silently.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from tensorboard_reference import assert_matches_tensorboard, reader_view, typed

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# --------------------------------------------------------------------------------------------
# TensorFlow-written logdirs (one TF import, tiny models, module-scoped)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def hp(tf):
    from tensorboard.plugins.hparams import api

    return api


def _tiny_data(seed: int = 0):
    rng = np.random.RandomState(seed)
    x = rng.rand(32, 4).astype("float32")
    y = (x.sum(axis=1) > 2.0).astype("int32")
    return x, y


def _tiny_model(keras, units: int, optimizer: str):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(units, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def tf_session(tf, hp, run_dir, hparams, *, trial_id=None, status="SUCCESS", scalars=None):
    """Write one session the way hand-written TF2 code does: hp.hparams, tf.summary.scalar, end pb."""
    from tensorboard.plugins.hparams import api_pb2, summary as hp_summary

    writers = []
    root = tf.summary.create_file_writer(str(run_dir))
    writers.append(root)
    with root.as_default():
        hp.hparams(hparams, trial_id=trial_id)
    for group, tags in (scalars or {}).items():
        writer = root if not group else tf.summary.create_file_writer(str(run_dir / group))
        writers.append(writer)
        with writer.as_default():
            for tag, values in tags.items():
                for step, value in enumerate(values):
                    tf.summary.scalar(tag, value, step=step)
    if status is not None:
        pb = hp_summary.session_end_pb(getattr(api_pb2, f"STATUS_{status}"))
        with root.as_default():
            tf.summary.experimental.write_raw_pb(pb.SerializeToString(), step=0)
    for writer in writers:
        writer.close()


@pytest.fixture(scope="module")
def keras_fit_logdir(tf, hp, tmp_path_factory):
    """(a) model.fit with keras.callbacks.TensorBoard + hp.KerasCallback, two sessions, 2 epochs."""
    keras = tf.keras
    logdir = tmp_path_factory.mktemp("keras_fit")
    x, y = _tiny_data()
    histories = {}
    for i, (units, optimizer, dropout) in enumerate([(4, "adam", 0.0), (8, "sgd", 0.25)]):
        keras.utils.set_random_seed(i)
        model = _tiny_model(keras, units, optimizer)
        run = str(logdir / f"run-{i}")
        history = model.fit(
            x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
            callbacks=[keras.callbacks.TensorBoard(run),
                       hp.KerasCallback(run, {"units": units, "optimizer": optimizer, "dropout": dropout})],
        )
        histories[f"run-{i}"] = history.history
    return logdir, histories


def test_keras_fit_callbacks(keras_fit_logdir):
    logdir, histories = keras_fit_logdir
    tb = assert_matches_tensorboard(logdir)
    assert set(tb["sessions"]) == {"run-0", "run-1"}
    assert {"train/epoch_loss", "validation/epoch_accuracy", "validation/epoch_loss"} <= set(tb["metrics"])
    for name, history in histories.items():
        session = tb["sessions"][name]
        assert session["status"] == "SUCCESS"
        # Ground truth from Keras itself: the last epoch's logged values (float32 in the file).
        assert session["metrics"]["validation/epoch_accuracy"] == pytest.approx(history["val_accuracy"][-1], rel=1e-6)
        assert session["metrics"]["train/epoch_loss"] == pytest.approx(history["loss"][-1], rel=1e-6)
    assert tb["sessions"]["run-1"]["hparams"] == {"units": 8.0, "optimizer": "sgd", "dropout": 0.25}


@pytest.fixture(scope="module")
def tutorial_logdir(tf, hp, tmp_path_factory):
    """(b) The TensorBoard HParams tutorial: hp.hparams_config at the root, hp.hparams + tf.summary.scalar."""
    logdir = tmp_path_factory.mktemp("tutorial")
    hp_units = hp.HParam("num_units", hp.Discrete([16, 32]), display_name="Units")
    hp_dropout = hp.HParam("dropout", hp.RealInterval(0.1, 0.2), description="log-uniform? no: linear")
    hp_optimizer = hp.HParam("optimizer", hp.Discrete(["adam", "sgd"]))
    with tf.summary.create_file_writer(str(logdir)).as_default():
        hp.hparams_config(
            hparams=[hp_units, hp_dropout, hp_optimizer],
            metrics=[hp.Metric("accuracy", display_name="Accuracy")],
        )
    session = 0
    for units in hp_units.domain.values:
        for dropout in (hp_dropout.domain.min_value, hp_dropout.domain.max_value):
            for optimizer in hp_optimizer.domain.values:
                hparams = {hp_units: units, hp_dropout: dropout, hp_optimizer: optimizer}
                with tf.summary.create_file_writer(str(logdir / f"run-{session}")).as_default():
                    hp.hparams(hparams)
                    accuracy = 0.5 + units / 100 - dropout + (0.05 if optimizer == "adam" else 0.0)
                    tf.summary.scalar("accuracy", accuracy, step=1)
                session += 1
    return logdir


def test_tutorial_pattern(tutorial_logdir):
    tb = assert_matches_tensorboard(tutorial_logdir)
    assert len(tb["sessions"]) == 8
    assert tb["metrics"] == ["accuracy"]
    assert tb["hparam_infos"]["num_units"]["domain"] == ("discrete", [16.0, 32.0])
    assert tb["hparam_infos"]["dropout"]["domain"] == ("interval", 0.1, 0.2)
    # The tutorial writes no session end info: TensorBoard (and we) say UNKNOWN.
    assert {s["status"] for s in tb["sessions"].values()} == {"UNKNOWN"}
    run0 = tb["sessions"]["run-0"]
    assert run0["metrics"]["accuracy"] == pytest.approx(0.5 + 0.16 - 0.1 + 0.05, rel=1e-6)
    # Declared experiment: display names and declared order come through.
    from hparams_tools import read_experiment

    exp = read_experiment(tutorial_logdir)
    assert exp.declared
    assert set(exp.hparam_infos) == {"num_units", "dropout", "optimizer"}
    assert exp.hparam_infos["num_units"].display_name == "Units"
    assert [m.display_name for m in exp.metric_infos] == ["Accuracy"]


@pytest.fixture(scope="module")
def keras_tuner_logdir(tf, tmp_path_factory):
    """(c) keras-tuner RandomSearch, 2 trials, tuner.search(callbacks=[keras.callbacks.TensorBoard(...)])."""
    kt = pytest.importorskip("keras_tuner")
    keras = tf.keras
    root = tmp_path_factory.mktemp("keras_tuner")
    logdir = root / "logs"
    x, y = _tiny_data(1)

    def build(hps):
        units = hps.Choice("units", [4, 8])
        lr = hps.Float("lr", 1e-3, 1e-1, sampling="log")
        use_bias = hps.Boolean("use_bias")
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(units, activation="relu", use_bias=use_bias),
            keras.layers.Dense(2, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=2, seed=3, directory=str(root / "kt"),
                            project_name="p", overwrite=True)
    tuner.search(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                 callbacks=[keras.callbacks.TensorBoard(str(logdir))])
    trials = {t.trial_id: t for t in tuner.oracle.trials.values()}
    return logdir, trials


def test_keras_tuner_tensorboard_integration(keras_tuner_logdir):
    logdir, trials = keras_tuner_logdir
    tb = assert_matches_tensorboard(logdir)
    # keras-tuner patches the callback's log_dir to <log_dir>/<trial_id>/execution0 and groups by trial id.
    assert set(tb["sessions"]) == {f"{tid}/execution0" for tid in trials}
    for tid, trial in trials.items():
        session = tb["sessions"][f"{tid}/execution0"]
        assert session["group"] == tid and session["status"] == "SUCCESS"
        values = trial.hyperparameters.values
        assert session["hparams"]["units"] == float(values["units"])
        assert session["hparams"]["lr"] == pytest.approx(values["lr"])
        assert session["hparams"]["use_bias"] is values["use_bias"]
    # keras-tuner writes no experiment config: TensorBoard infers it (lr -> float interval, use_bias -> bools)
    assert tb["hparam_infos"]["use_bias"]["type"] == "bool"
    assert "validation/epoch_accuracy" in tb["metrics"]


# --------------------------------------------------------------------------------------------
# Edge cases written with raw TF2 summaries (no training)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def repeats_logdir(tf, hp, tmp_path_factory):
    """(d)+(h) repeats sharing a group (trial_id), some nested two directories deep."""
    logdir = tmp_path_factory.mktemp("repeats")
    for seed, acc in enumerate([0.5, 0.7, 0.9]):
        tf_session(tf, hp, logdir / "cfgA" / f"seed-{seed}", {"lr": 0.1, "opt": "adam"}, trial_id="cfgA",
                   scalars={"validation": {"epoch_accuracy": [0.1, acc]}})
    tf_session(tf, hp, logdir / "deep" / "er" / "cfgB", {"lr": 0.01, "opt": "sgd"}, trial_id="cfgB",
               scalars={"validation": {"epoch_accuracy": [0.2]}, "train": {"epoch_loss": [2.0, 1.0]}})
    return logdir


def test_repeats_share_group_and_nested_runs(repeats_logdir):
    tb = assert_matches_tensorboard(repeats_logdir)
    groups = {name: s["group"] for name, s in tb["sessions"].items()}
    assert groups == {"cfgA/seed-0": "cfgA", "cfgA/seed-1": "cfgA", "cfgA/seed-2": "cfgA", "deep/er/cfgB": "cfgB"}
    assert tb["sessions"]["cfgA/seed-2"]["metrics"] == {"validation/epoch_accuracy": pytest.approx(0.9)}
    from hparams_tools import read_experiment

    group_table = read_experiment(repeats_logdir).group_table()
    assert group_table.loc["cfgA", "count"] == 3
    assert group_table.loc["cfgA", "validation/epoch_accuracy"] == pytest.approx(np.mean(np.float32([0.5, 0.7, 0.9])))


@pytest.fixture(scope="module")
def statuses_logdir(tf, hp, tmp_path_factory):
    """(e) SUCCESS, FAILURE, RUNNING and no end info (UNKNOWN); (f) a NaN last value."""
    logdir = tmp_path_factory.mktemp("statuses")
    metric = {"validation": {"epoch_accuracy": [0.25, 0.5]}}
    tf_session(tf, hp, logdir / "ok", {"lr": 0.1}, scalars=metric)
    tf_session(tf, hp, logdir / "failed", {"lr": 0.2}, status="FAILURE", scalars=metric)
    tf_session(tf, hp, logdir / "running", {"lr": 0.3}, status="RUNNING", scalars=metric)
    tf_session(tf, hp, logdir / "unknown", {"lr": 0.4}, status=None, scalars=metric)
    tf_session(tf, hp, logdir / "nan", {"lr": 0.5}, scalars={"validation": {"epoch_accuracy": [0.25, float("nan")]}})
    return logdir


def test_statuses_and_nan(statuses_logdir):
    tb = assert_matches_tensorboard(statuses_logdir)
    assert {n: s["status"] for n, s in tb["sessions"].items()} == {
        "ok": "SUCCESS", "failed": "FAILURE", "running": "RUNNING", "unknown": "UNKNOWN", "nan": "SUCCESS"}
    assert tb["sessions"]["unknown"]["end_time"] is None
    from hparams_tools import read_experiment

    exp = read_experiment(statuses_logdir)
    # TensorBoard's last value is NaN (its view drops NaN like a missing value); ours is NaN too,
    # while max still sees the earlier finite value.
    raw = tensorboard_view_raw_last(statuses_logdir, "nan", "validation", "epoch_accuracy")
    assert math.isnan(raw)
    assert math.isnan(exp.metrics("last").loc["nan", "validation/epoch_accuracy"])
    assert exp.metrics("max").loc["nan", "validation/epoch_accuracy"] == 0.25
    assert math.isnan(exp.sessions.loc["unknown", "end_time"])


def tensorboard_view_raw_last(logdir, session, group, tag) -> float:
    """TensorBoard's scalar accessor's last value for one run/tag (NaN kept)."""
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(logdir / session / group))
    acc.Reload()
    from tensorboard.util import tensor_util

    return float(tensor_util.make_ndarray(acc.Tensors(tag)[-1].tensor_proto))


@pytest.fixture(scope="module")
def mixed_logdir(tf, hp, tmp_path_factory):
    """(g) one hparam with number, string and bool values across sessions; sessions missing hparams."""
    logdir = tmp_path_factory.mktemp("mixed")
    metric = {"": {"score": [1.0, 2.0]}}
    tf_session(tf, hp, logdir / "a", {"x": 1.0, "opt": "adam", "n": 3}, scalars=metric)
    tf_session(tf, hp, logdir / "b", {"x": "big", "n": 4}, scalars=metric)
    tf_session(tf, hp, logdir / "c", {"x": True, "flag": False}, scalars=metric)
    return logdir


def test_mixed_and_missing_hparams(mixed_logdir):
    tb = assert_matches_tensorboard(mixed_logdir)
    # TensorBoard's inference: mixed types -> string type with a discrete domain of strings
    assert tb["hparam_infos"]["x"]["type"] == "string"
    assert tb["hparam_infos"]["n"] == {"type": "float", "domain": ("interval", 3.0, 4.0)}
    assert tb["hparam_infos"]["flag"]["type"] == "bool"
    assert "opt" not in tb["sessions"]["b"]["hparams"] and "flag" not in tb["sessions"]["a"]["hparams"]
    assert tb["metrics"] == ["score"]


# --------------------------------------------------------------------------------------------
# Writers without TensorFlow: our writer, tensorboardX, PyTorch
# --------------------------------------------------------------------------------------------
SWEEP = [
    ({"lr": 0.1, "opt": "adam", "bn": True}, {"hparam/accuracy": 0.5, "hparam/loss": 1.5}),
    ({"lr": 0.01, "opt": "sgd", "bn": False}, {"hparam/accuracy": 0.75, "hparam/loss": 0.25}),
    ({"lr": 0.001, "opt": "adam", "bn": False}, {"hparam/accuracy": 0.125, "hparam/loss": 3.0}),
]


def write_sweep_tensorboardx(logdir):
    tbx = pytest.importorskip("tensorboardX")
    with tbx.SummaryWriter(str(logdir)) as writer:
        for i, (hparams, metrics) in enumerate(SWEEP):
            writer.add_hparams(dict(hparams), dict(metrics), name=f"run-{i}")


def write_sweep_torch(logdir):
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    with tensorboard.SummaryWriter(str(logdir)) as writer:
        for i, (hparams, metrics) in enumerate(SWEEP):
            writer.add_hparams(dict(hparams), dict(metrics), run_name=f"run-{i}")


def write_sweep_ours(logdir):
    from hparams_tools.io.writer import EventWriter

    for i, (hparams, metrics) in enumerate(SWEEP):
        with EventWriter(logdir / f"run-{i}") as writer:
            writer.add_experiment(list(hparams), list(metrics))
            writer.add_session_start(hparams)
            writer.add_session_end("SUCCESS")
            for tag, value in metrics.items():
                writer.add_scalar(tag, value, 0, kind="simple")


SWEEP_WRITERS = {"tensorboardX": write_sweep_tensorboardx, "torch": write_sweep_torch, "ours": write_sweep_ours}


@pytest.mark.parametrize("writer", list(SWEEP_WRITERS))
def test_non_tensorflow_writers(writer, tmp_path):
    SWEEP_WRITERS[writer](tmp_path)
    tb = assert_matches_tensorboard(tmp_path)
    assert set(tb["sessions"]) == {"run-0", "run-1", "run-2"}
    assert tb["sessions"]["run-1"]["metrics"] == {"hparam/accuracy": 0.75, "hparam/loss": 0.25}
    # PyTorch's add_hparams logs a bool as the number 0.0/1.0 (and declares it float); the others as a bool
    bn = 0.0 if writer == "torch" else False
    assert typed(tb["sessions"]["run-1"]["hparams"]) == typed({"lr": 0.01, "opt": "sgd", "bn": bn})


def test_cross_writer_frames_equal(tmp_path):
    """The same logical sweep written by tensorboardX, PyTorch and our writer gives equal tables."""
    from hparams_tools import read_experiment

    tables = {}
    for name, write in SWEEP_WRITERS.items():
        write(tmp_path / name)
        table = read_experiment(tmp_path / name).table()
        assert table["bn"].dtype == (float if name == "torch" else bool)  # PyTorch logs bools as 0.0/1.0
        table["bn"] = table["bn"].astype(float)
        tables[name] = table.drop(columns=["start_time", "end_time"]).sort_index(axis=1)
    import pandas.testing as pdt

    pdt.assert_frame_equal(tables["tensorboardX"], tables["ours"])
    pdt.assert_frame_equal(tables["torch"], tables["ours"])
    assert list(tables["ours"].index) == ["run-0", "run-1", "run-2"]
    assert tables["ours"].loc["run-2", "hparam/loss"] == 3.0


@pytest.fixture(scope="module", params=["tensor", "tensor-first", "simple"])
def our_writer_logdir(request, tmp_path_factory):
    """A Keras-shaped sweep from our writer with a declared experiment, in each scalar encoding."""
    from hparams_tools.io.experiment import Discrete, HParamInfo, Interval, MetricInfo
    from hparams_tools.io.writer import write_experiment, write_session

    logdir = tmp_path_factory.mktemp("ours")
    write_experiment(
        logdir,
        [HParamInfo("lr", "float", "Learning rate", "log-uniform", Interval(1e-4, 1e-1)),
         HParamInfo("opt", "string", "", "", Discrete(("adam", "sgd")))],
        [MetricInfo("validation", "epoch_accuracy", "Val accuracy", ""), MetricInfo("train", "epoch_loss", "", "")],
        description="a sweep\nobjective: validation/epoch_accuracy maximize",
    )
    rng = np.random.RandomState(0)
    for i in range(6):
        acc = rng.rand(3)
        # two sessions per group, sharing the group's hparams (TensorBoard keeps hparams per group)
        write_session(logdir / f"run-{i}", {"lr": 10 ** -(1 + i // 2), "opt": ["adam", "sgd"][i // 2 % 2]},
                      group=f"g{i // 2}", status=["SUCCESS", "FAILURE", None][i % 3],
                      scalars={"validation": {"epoch_accuracy": acc}, "train": {"epoch_loss": 1 - acc}},
                      kind=request.param)
    return logdir


def test_our_writer_matches_tensorboard(our_writer_logdir):
    tb = assert_matches_tensorboard(our_writer_logdir)
    assert len(tb["sessions"]) == 6 and {s["group"] for s in tb["sessions"].values()} == {"g0", "g1", "g2"}
    assert tb["hparam_infos"]["lr"] == {"type": "float", "domain": ("interval", 1e-4, 1e-1)}
    assert tb["description"].endswith("objective: validation/epoch_accuracy maximize")
    from hparams_tools import read_experiment

    assert read_experiment(our_writer_logdir).objective == ("validation/epoch_accuracy", "maximize")


def test_our_writer_protos_equal_tensorflow(tf, hp, tmp_path):
    """Our scalar and session-start summaries are the same protos TF2 writes (wall times aside)."""
    from hparams_tools.io.writer import EventWriter
    from tensorboard.backend.event_processing import event_file_loader

    def summaries(directory):
        (path,) = sorted(directory.glob("events.out.tfevents.*"))
        events = list(event_file_loader.LegacyEventFileLoader(str(path)).Load())
        assert events[0].file_version == "brain.Event:2"
        return [(e.step, v) for e in events[1:] for v in e.summary.value]

    hparams = {"lr": 0.5, "opt": "adam", "bn": True}
    with tf.summary.create_file_writer(str(tmp_path / "tf")).as_default() as writer:
        hp.hparams(hparams, trial_id="t1", start_time_secs=123.0)
        for step, value in enumerate([0.25, 0.5]):
            tf.summary.scalar("epoch_loss", value, step=step)
        writer.flush()
    with EventWriter(tmp_path / "ours") as ours:
        ours.add_session_start(hparams, group="t1", start_time=123.0)
        for step, value in enumerate([0.25, 0.5]):
            ours.add_scalar("epoch_loss", value, step)
    assert summaries(tmp_path / "ours") == summaries(tmp_path / "tf")


def test_several_event_files_per_run_and_step_order(tmp_path):
    """Resumed training (a second file continuing the steps), a restart (a second file going back
    to step 0: TensorBoard's last value is the last one written) and out-of-order steps in a file."""
    from hparams_tools.io.writer import EventWriter, write_session

    write_session(tmp_path / "resume", {"a": 1}, scalars={"validation": {"acc": [0.25, 0.5]}})
    with EventWriter(tmp_path / "resume" / "validation") as w:
        w.add_scalar("acc", 0.75, 2)
        w.add_scalar("acc", 0.875, 3)
    write_session(tmp_path / "restart", {"a": 2}, scalars={"validation": {"acc": [0.25, 0.5, 0.625]}})
    with EventWriter(tmp_path / "restart" / "validation") as w:
        w.add_scalar("acc", 0.125, 0)
        w.add_scalar("acc", 0.375, 1)
    with EventWriter(tmp_path / "unordered") as w:
        w.add_session_start({"a": 3})
        w.add_scalar("acc", 0.5, 5)
        w.add_scalar("acc", 0.25, 3)
    tb = assert_matches_tensorboard(tmp_path)
    assert [tb["sessions"][s]["metrics"] for s in ("resume", "restart", "unordered")] == [
        {"validation/acc": 0.875}, {"validation/acc": 0.375}, {"acc": 0.25}]
    assert len(list((tmp_path / "resume" / "validation").glob("events.out.tfevents.*"))) == 2


def test_reader_view_on_empty_metrics_session(tmp_path):
    """A session without any scalars: TensorBoard lists it with no metric values; so do we."""
    from hparams_tools.io.writer import write_session

    write_session(tmp_path / "lonely", {"a": 1})
    write_session(tmp_path / "other", {"a": 2}, scalars={"": {"m": [1.0]}})
    tb = assert_matches_tensorboard(tmp_path)
    assert tb["sessions"]["lonely"]["metrics"] == {}
    assert reader_view(tmp_path)["sessions"]["other"]["metrics"] == {"m": 1.0}


@pytest.fixture
def tensorboard_server(tmp_path):
    """A real ``tensorboard --logdir`` process on 127.0.0.1 (ephemeral port); yields (logdir, url)."""
    import re
    import subprocess
    import sys

    logdir = tmp_path / "logs"
    logdir.mkdir()

    def start(load_fast: str):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1",
             "--port", "0", "--reload_interval", "1", f"--load_fast={load_fast}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        procs.append(proc)
        for line in proc.stderr:
            match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            if match:
                return match.group(1)
        raise AssertionError("tensorboard did not start")

    procs: list = []
    yield logdir, start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", ["true", "false"])
def test_real_tensorboard_server_http_api(tensorboard_server, load_fast):
    """What a real `tensorboard --logdir` serves at /data/plugin/hparams/{experiment,session_groups}
    equals the reader's view (and the in-process backend's) for a mixed logdir, with TensorBoard's
    Rust data server (load_fast=true) and with its Python multiplexer (load_fast=false)."""
    import time

    from hparams_tools.io.writer import EventWriter, write_experiment, write_session
    from tensorboard_reference import tensorboard_http_view

    logdir, start = tensorboard_server
    write_experiment(logdir, ["lr", "opt"], [("validation", "acc"), ("train", "loss")], description="http")
    for i in range(6):
        group = f"cfg{i // 2}"
        write_session(logdir / "sweep" / group / f"seed-{i % 2}", {"lr": 10.0 ** -(i // 2), "opt": ["a", "b"][i // 4]},
                      group=group, status=["SUCCESS", "FAILURE", None][i % 3], kind=["tensor", "simple"][i % 2],
                      scalars={"validation": {"acc": [0.25, i / 8]}, "train": {"loss": [1.0, float("nan")]}})
    with EventWriter(logdir / "sweep" / "cfg0" / "seed-0" / "validation") as w:  # a second file in one run
        w.add_scalar("acc", 0.875, 2)
    assert_matches_tensorboard(logdir)  # the in-process backend agrees too
    expected = reader_view(logdir)
    url = start(load_fast)
    # The server loads the logdir in the background: poll (for liveness only) until it has all of it.
    for _ in range(120):
        served = tensorboard_http_view(url)
        if len(served["sessions"]) == 6 and all(s["metrics"] for s in served["sessions"].values()):
            break
        time.sleep(0.5)
    for session in served["sessions"].values():
        session["hparams"] = typed(session["hparams"])
    for session in expected["sessions"].values():
        session["hparams"] = typed(session["hparams"])
    assert served == expected
    assert served["sessions"]["sweep/cfg0/seed-0"]["metrics"]["validation/acc"] == 0.875
