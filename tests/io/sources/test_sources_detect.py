"""What kind of source a path or URL is, and ``source_kind`` overriding it."""

from __future__ import annotations

import json

import pytest

from hparams_tools.errors import SourceError
from hparams_tools.io.sources import detect_kind
from hparams_tools.io.writer import write_experiment


def test_each_kind_is_detected(tmp_path):
    logdir = tmp_path / "logs"
    write_experiment(logdir, ["lr"], ["acc"])
    (logdir / "proj").mkdir()
    (logdir / "proj" / "oracle.json").write_text("{}")  # event files at the top win: still a logdir
    assert detect_kind(logdir) == "tensorboard"
    kt = tmp_path / "kt"
    (kt / "proj").mkdir(parents=True)
    (kt / "proj" / "oracle.json").write_text("{}")
    assert detect_kind(kt) == detect_kind(kt / "proj") == "keras-tuner"
    ml = tmp_path / "mlruns" / "0"
    ml.mkdir(parents=True)
    (ml / "meta.yaml").write_text("experiment_id: '0'\nname: Default\n")
    assert detect_kind(ml.parent) == detect_kind(ml) == "mlflow"
    assert detect_kind("sqlite:///anything.db") == detect_kind("postgresql://u@h/db") == "optuna"
    journal = tmp_path / "j.log"
    journal.write_text(json.dumps({"op_code": 0, "study_name": "s", "directions": [1]}) + "\n")
    db = tmp_path / "x.bin"
    db.write_bytes(b"SQLite format 3\x00" + bytes(100))
    assert detect_kind(journal) == detect_kind(db) == "optuna"
    for name in ("runs.csv", "runs.tsv", "runs.parquet", "runs.jsonl"):
        (tmp_path / name).write_text("a\n")
        assert detect_kind(tmp_path / name) == "table"
    assert detect_kind(tmp_path / "missing") == "tensorboard"  # the reader says it does not exist
    (tmp_path / "empty").mkdir()
    assert detect_kind(tmp_path / "empty") == "tensorboard"


def test_override_and_unknown(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(SourceError, match="not a directory .* nor a file hparams-tools reads"):
        detect_kind(other)
    assert detect_kind(other, "table") == "table"
    with pytest.raises(SourceError, match="unknown source kind 'wandb'; use one of tensorboard, keras-tuner"):
        detect_kind(other, "wandb")
