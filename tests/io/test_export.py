"""Export (JSON/CSV/Parquet) against a logdir whose content is known because we wrote it.

The expected values below come from what the writer was told to write (exact binary fractions,
so float32 storage is exact), not from the reader.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from hparams_tools import read_experiment
from hparams_tools.errors import HParamsToolsError, OutputError
from hparams_tools.io.export import export, flat_table, render, resolve_format, session_records
from hparams_tools.io.writer import write_session

INF = float("inf")
NAN = float("nan")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    write_session(root / "a" / "run-0", {"lr": 0.1, "opt": "adam", "bn": True}, group="g1",
                  start_time=1000.0, end_time=1010.0,
                  scalars={"validation": {"epoch_accuracy": [0.25, 0.75, 0.5]},
                           "train": {"epoch_loss": [1.0, 0.5, 0.25]}})
    write_session(root / "a" / "run-1", {"lr": 0.1, "opt": "adam", "bn": True}, group="g1", status="FAILURE",
                  start_time=1001.0, end_time=1011.0,
                  scalars={"validation": {"epoch_accuracy": [0.5, NAN]}, "train": {"epoch_loss": [2.0, INF]}})
    write_session(root / "run-2", {"lr": 0.01, "opt": "sgd"}, group="", status=None, start_time=1002.0,
                  scalars={"validation": {"epoch_accuracy": [0.125]}})
    return root


@pytest.fixture(scope="module")
def experiment(logdir):
    return read_experiment(logdir)


EXPECTED_LAST = [
    {"session": "a/run-0", "group": "g1", "status": "SUCCESS", "start_time": 1000.0, "end_time": 1010.0,
     "hparams": {"lr": 0.1, "opt": "adam", "bn": True},
     "metrics": {"train/epoch_loss": 0.25, "validation/epoch_accuracy": 0.5}},
    {"session": "a/run-1", "group": "g1", "status": "FAILURE", "start_time": 1001.0, "end_time": 1011.0,
     "hparams": {"lr": 0.1, "opt": "adam", "bn": True},
     "metrics": {"train/epoch_loss": None, "validation/epoch_accuracy": None}},  # inf and NaN -> null
    # no group name: TensorBoard's rule makes the session its own group; no end info -> UNKNOWN
    {"session": "run-2", "group": "run-2", "status": "UNKNOWN", "start_time": 1002.0, "end_time": None,
     "hparams": {"lr": 0.01, "opt": "sgd"},  # bn missing -> omitted
     "metrics": {"train/epoch_loss": None, "validation/epoch_accuracy": 0.125}},
]


def test_json_is_exactly_the_documented_list(experiment):
    text = render(experiment, "json")
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data == EXPECTED_LAST
    assert [list(obj) for obj in data] == [
        ["session", "group", "status", "start_time", "end_time", "hparams", "metrics"]] * 3
    assert isinstance(data[0]["hparams"]["bn"], bool)


@pytest.mark.parametrize(
    "value, session, expected",
    [
        ("max", "a/run-0", {"train/epoch_loss": 1.0, "validation/epoch_accuracy": 0.75}),
        ("min", "a/run-0", {"train/epoch_loss": 0.25, "validation/epoch_accuracy": 0.25}),
        ("mean-last-2", "a/run-0", {"train/epoch_loss": 0.375, "validation/epoch_accuracy": 0.625}),
        ("max", "run-2", {"train/epoch_loss": None, "validation/epoch_accuracy": 0.125}),
    ],
)
def test_value_modes(experiment, value, session, expected):
    records = {r["session"]: r for r in session_records(experiment, value)}
    assert records[session]["metrics"] == expected


def test_csv_is_the_flat_table(experiment, tmp_path):
    path = export(experiment, tmp_path / "out.csv")
    table = pd.read_csv(path)
    assert list(table.columns[:5]) == ["session", "group", "status", "start_time", "end_time"]
    assert set(table.columns[5:]) == {"lr", "opt", "bn", "train/epoch_loss", "validation/epoch_accuracy"}
    table = table.set_index("session")
    assert list(table.index) == ["a/run-0", "a/run-1", "run-2"]
    for obj in EXPECTED_LAST:
        row = table.loc[obj["session"]]
        assert row["group"] == obj["group"] and row["status"] == obj["status"]
        assert row["start_time"] == obj["start_time"]
        for name, value in obj["metrics"].items():
            if value is None:
                assert math.isnan(row[name]) or math.isinf(row[name])
            else:
                assert row[name] == value
        assert row["lr"] == obj["hparams"]["lr"] and row["opt"] == obj["hparams"]["opt"]
    assert pd.isna(table.loc["run-2", "bn"]) and pd.isna(table.loc["run-2", "end_time"])
    # same content as the library's table
    assert path.read_text() == flat_table(experiment).to_csv(index=False, lineterminator="\n")


def test_parquet_round_trip(experiment, tmp_path):
    pytest.importorskip("pyarrow")
    path = export(experiment, tmp_path / "out.parquet")
    table = pd.read_parquet(path)
    assert list(table.columns) == list(flat_table(experiment).columns)
    assert list(table["session"]) == ["a/run-0", "a/run-1", "run-2"]
    assert list(table["validation/epoch_accuracy"].iloc[[0, 2]]) == [0.5, 0.125]
    assert table.loc[0, "opt"] == "adam" and table.loc[2, "lr"] == 0.01


def test_parquet_mixed_type_hparam_becomes_strings(tmp_path):
    pytest.importorskip("pyarrow")
    write_session(tmp_path / "logs" / "a", {"x": 1.5}, scalars={"": {"m": [1.0]}})
    write_session(tmp_path / "logs" / "b", {"x": "big"}, scalars={"": {"m": [2.0]}})
    write_session(tmp_path / "logs" / "c", {"x": True}, scalars={"": {"m": [3.0]}})
    exp = read_experiment(tmp_path / "logs")
    table = pd.read_parquet(export(exp, tmp_path / "mixed.parquet"))
    assert list(table["x"]) == ["1.5", "big", "true"]
    # JSON keeps each session's own type
    assert [r["hparams"]["x"] for r in session_records(exp)] == [1.5, "big", True]


@pytest.mark.parametrize(
    "output, fmt, expected",
    [("r.csv", None, "csv"), ("r.JSON", None, "json"), ("r.parquet", None, "parquet"), ("r.pq", None, "parquet"),
     ("r.txt", "json", "json"), (None, None, "csv"), (None, "JSON", "json")],
)
def test_resolve_format(output, fmt, expected):
    assert resolve_format(output, fmt) == expected


@pytest.mark.parametrize("output, fmt", [("r.txt", None), ("r", None), ("r.csv", "xml")])
def test_resolve_format_errors(output, fmt):
    with pytest.raises(HParamsToolsError, match="format"):
        resolve_format(output, fmt)


def test_failed_export_leaves_existing_file_untouched(experiment, tmp_path):
    target = tmp_path / "keep.json"
    target.write_text("precious")
    with pytest.raises(HParamsToolsError):
        export(experiment, target, value="best-of-nothing")
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]


def test_export_replaces_existing_file(experiment, tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    export(experiment, target)
    assert json.loads(target.read_text()) == EXPECTED_LAST


def test_export_into_missing_directory(experiment, tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        export(experiment, tmp_path / "nope" / "out.csv")
