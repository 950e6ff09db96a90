"""An MLflow file store written by mlflow itself, and W&B-style run tables (CSV, JSON lines, Parquet)."""

from __future__ import annotations

import json
import math

import pytest

import sources_helpers as h
from hparams_tools import read_experiment
from hparams_tools.errors import HParamsToolsError
from hparams_tools.io.sources import write_logdir


# -- MLflow ------------------------------------------------------------------------------------------
def test_mlflow_store_matches_mlflows_own_view(mlflow_store):
    from mlflow.tracking import MlflowClient

    exp = read_experiment(mlflow_store)
    assert exp.source_kind == "mlflow"
    client = MlflowClient(tracking_uri=mlflow_store.resolve().as_uri())
    runs = client.search_runs([client.get_experiment_by_name("sweep").experiment_id])
    assert sorted(exp.sessions.index) == sorted(r.info.run_name for r in runs) == ["run-0", "run-1", "run-2"]
    status = {"FINISHED": "SUCCESS", "FAILED": "FAILURE"}
    scalars = exp.scalars
    for run in runs:
        name = run.info.run_name
        row = exp.sessions.loc[name]
        assert row["status"] == status[run.info.status]
        assert row["start_time"] == run.info.start_time / 1000 and row["end_time"] == run.info.end_time / 1000
        assert exp.hparams.loc[name, "lr"] == float(run.data.params["lr"])
        assert exp.hparams.loc[name, "optimizer"] == run.data.params["optimizer"]
        for key in ("val/accuracy", "loss"):
            history = client.get_metric_history(run.info.run_id, key)
            group, _, tag = key.rpartition("/")
            mine = scalars[(scalars.session == name) & (scalars.group == group) & (scalars.tag == tag)]
            assert list(mine.step) == [m.step for m in history]
            assert list(mine.value) == [m.value for m in history]
            assert list(mine.wall_time) == [m.timestamp / 1000 for m in history]
    assert exp.metrics().loc["run-1", "val/accuracy"] == pytest.approx(0.5 + 0.01 * 2 + 0.1)


def test_mlflow_text_params_are_honest(mlflow_store):
    exp = read_experiment(mlflow_store)
    # "007" and "x7": one looks like a number, the other does not -> all kept as text, with a note
    assert list(exp.hparams["tag"]) == ["x7", "007", "007"]
    assert any("'tag'" in n and "look like numbers" in n for n in exp.notes)
    assert any("lr" in n and "read as numbers" in n for n in exp.notes)
    assert exp.hparam_infos["lr"].type == "float" and exp.hparam_infos["optimizer"].type == "string"


def test_mlflow_import_is_what_tensorboard_shows(mlflow_store, tmp_path, reference):
    exp = read_experiment(mlflow_store)
    tb = h.assert_import_matches(exp, write_logdir(exp, tmp_path / "logs"), reference)
    assert tb["sessions"]["run-2"]["status"] == "FAILURE"
    assert "val/accuracy" in tb["metrics"] and "loss" in tb["metrics"]


def test_mlflow_several_experiments_need_a_name(mlflow_store, tmp_path):
    import shutil

    store = tmp_path / "mlruns"
    shutil.copytree(mlflow_store, store)
    exp_dir = next(p for p in store.iterdir() if (p / "meta.yaml").is_file() and p.name not in ("0", ".trash"))
    twin = store / "123"  # MLflow's ids are random: the message must not depend on their order
    shutil.copytree(exp_dir, twin)
    meta = (twin / "meta.yaml").read_text().replace("name: sweep", "name: twin").replace(exp_dir.name, "123")
    (twin / "meta.yaml").write_text(meta)
    with pytest.raises(HParamsToolsError, match=r"holds 2 MLflow experiments with runs \(sweep, twin\); pick one"):
        read_experiment(store)
    assert len(read_experiment(store, study="twin").sessions) == 3


# -- tables ------------------------------------------------------------------------------------------
def _wandb_csv(tmp_path):
    path = tmp_path / "wandb_export.csv"
    path.write_text(h.WANDB_CSV)
    return path


def test_wandb_csv_defaults(tmp_path):
    exp = read_experiment(_wandb_csv(tmp_path))
    assert exp.source_kind == "table"
    assert list(exp.sessions.index) == ["foggy-4", "misty-2", "rainy-3", "sunny-1"]
    assert dict(exp.sessions["status"]) == {"sunny-1": "SUCCESS", "misty-2": "SUCCESS", "rainy-3": "FAILURE",
                                            "foggy-4": "RUNNING"}
    assert list(exp.hparams.columns) == ["batch_size", "lr", "optimizer"]
    assert exp.hparam_infos["lr"].display_name == "config.lr"
    m = exp.metrics()
    assert list(m.columns) == ["loss", "val_acc"]
    assert m.loc["sunny-1", "val_acc"] == 0.81 and math.isnan(m.loc["rainy-3", "val_acc"])
    assert exp.sessions.loc["sunny-1", "start_time"] == 1714557600.0
    assert exp.sessions.loc["sunny-1", "end_time"] == 1714557600.0 + 120
    s = exp.scalars
    assert set(s[s.session == "rainy-3"].step) == {2}  # summary._step
    assert exp.choices[1] == "hyperparameters: config.lr, config.batch_size, config.optimizer"
    assert exp.choices[2] == "metrics: summary.val_acc, summary.loss"
    assert any("no history" in n for n in exp.notes)


def test_wandb_api_export_with_json_columns(tmp_path):
    """The export script of W&B's docs: ``summary``/``config`` columns holding dicts (pandas writes their repr)."""
    import pandas as pd

    rows = [{"summary": {"acc": 0.5 + i / 10, "_step": 3}, "config": {"lr": 10.0 ** -i, "arch": "cnn"},
             "name": f"r{i}"} for i in range(3)]
    path = tmp_path / "project.csv"
    pd.DataFrame(rows).to_csv(path)
    exp = read_experiment(path)
    assert list(exp.hparams.columns) == ["arch", "lr"] and list(exp.metrics().columns) == ["acc"]
    assert "JSON in column config, summary expanded" in exp.choices[0]
    jsonl = tmp_path / "runs.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert read_experiment(jsonl).hparams.equals(exp.hparams)
    pq = tmp_path / "runs.parquet"
    pd.DataFrame({"name": ["a", "b"], "lr": [0.1, 0.2], "opt": ["x", "y"], "acc": [0.3, 0.4]}).to_parquet(pq)
    exp = read_experiment(pq, metrics=["acc"])
    assert list(exp.hparams.columns) == ["lr", "opt"] and exp.metrics().loc["b", "acc"] == 0.4


def test_plain_csv_needs_metrics_named(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("run,lr,opt,val_loss,val_acc\na,0.1,adam,0.5,0.7\nb,0.01,sgd,0.4,0.8\n")
    with pytest.raises(HParamsToolsError, match=r"has no metric column .*--metrics") as info:
        read_experiment(path)
    assert "\n" not in str(info.value)
    exp = read_experiment(path, metrics=["val_*"])
    assert list(exp.hparams.columns) == ["lr", "opt"] and list(exp.metrics().columns) == ["val_acc", "val_loss"]
    exp = read_experiment(path, metrics=["val_acc"], hparams=["lr"])
    assert list(exp.hparams.columns) == ["lr"]
    with pytest.raises(HParamsToolsError, match="'opt' is not numeric"):
        read_experiment(path, metrics=["opt"])
    with pytest.raises(HParamsToolsError, match="--metrics 'acc' matches no column"):
        read_experiment(path, metrics=["acc"])
    with pytest.raises(HParamsToolsError, match="apply to other sources"):
        read_experiment(tmp_path / "nothing-here", metrics=["acc"])


def test_table_import_is_what_tensorboard_shows(tmp_path, reference):
    exp = read_experiment(_wandb_csv(tmp_path))
    tb = h.assert_import_matches(exp, write_logdir(exp, tmp_path / "logs"), reference)
    assert tb["hparam_infos"]["optimizer"]["domain"] == ("discrete", ["adam", "sgd"])
