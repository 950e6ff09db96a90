"""Optuna storages (SQLite and journal) made by Optuna itself, read without Optuna and imported."""

from __future__ import annotations

import hashlib
import math
import shutil

import numpy as np
import pytest

import sources_helpers as h
from hparams_tools import read_experiment
from hparams_tools.errors import HParamsToolsError
from hparams_tools.io.sources import write_logdir

STATUS = {"COMPLETE": "SUCCESS", "PRUNED": "FAILURE", "FAIL": "FAILURE", "RUNNING": "RUNNING", "WAITING": "UNKNOWN"}


def _check_against_optuna(exp, study):
    """Every trial of Optuna's own view: state, params, value, intermediate values, times."""
    trials = study.get_trials(deepcopy=False)
    width = len(str(trials[-1].number))
    assert list(exp.sessions.index) == [f"trial-{t.number:0{width}d}" for t in trials]
    states = {t.state.name for t in trials}
    assert {"COMPLETE", "PRUNED", "FAIL"} <= states  # the study really has all three
    hp = exp.hparams
    metrics = exp.metrics("last")
    scalars = exp.scalars
    for t in trials:
        name = f"trial-{t.number:0{width}d}"
        row = exp.sessions.loc[name]
        assert row["status"] == STATUS[t.state.name]
        assert row["start_time"] == pytest.approx(t.datetime_start.timestamp())
        assert row["end_time"] == pytest.approx(t.datetime_complete.timestamp())
        for pname, value in t.params.items():
            assert hp.loc[name, pname] == (value if isinstance(value, str) else pytest.approx(float(value), rel=1e-15))
        if t.value is None:
            assert math.isnan(metrics.loc[name, "value"])
        else:
            assert metrics.loc[name, "value"] == t.value
        mine = scalars[(scalars.session == name) & (scalars.tag == "intermediate_value")]
        assert list(mine.step) == sorted(t.intermediate_values)
        assert list(mine.value) == [t.intermediate_values[s] for s in sorted(t.intermediate_values)]


def test_sqlite_study_matches_optunas_own_view(optuna_sqlite):
    url, study = optuna_sqlite
    exp = read_experiment(url, study="study")
    _check_against_optuna(exp, study)
    infos = exp.hparam_infos
    assert infos["lr"].domain.min_value == 1e-5 and infos["lr"].domain.max_value == 1e-1
    assert infos["lr"].log_scale and not infos["dropout"].log_scale  # log-uniform -> "log scale"
    assert infos["opt"].domain.values == ("adam", "sgd") and infos["opt"].type == "string"
    assert infos["layers"].domain.min_value == 1 and infos["layers"].domain.max_value == 4
    assert exp.objective == ("value", "maximize")
    assert any("pruned" in n for n in exp.notes)
    assert exp.source_kind == "optuna"


def test_journal_equals_sqlite_and_optuna(optuna_journal, optuna_sqlite):
    path, study = optuna_journal
    exp = read_experiment(path)  # one study in the file: no --study needed
    _check_against_optuna(exp, study)
    other = read_experiment(optuna_sqlite[0], study="study")
    # the same seeded study in both storages: the same params, states and values
    assert exp.hparams.equals(other.hparams)
    assert exp.sessions["status"].equals(other.sessions["status"])
    assert np.array_equal(exp.metrics().to_numpy(), other.metrics().to_numpy(), equal_nan=True)


@pytest.mark.parametrize("storage", ["sqlite", "journal"])
def test_imported_logdir_is_what_tensorboard_shows(storage, optuna_sqlite, optuna_journal, tmp_path, reference):
    src = optuna_sqlite[0] if storage == "sqlite" else optuna_journal[0]
    exp = read_experiment(src, study="study")
    out = write_logdir(exp, tmp_path / "logs")
    tb = h.assert_import_matches(exp, out, reference)
    assert tb["hparam_infos"]["lr"]["domain"] == ("interval", 1e-5, 1e-1)
    assert tb["hparam_infos"]["opt"]["domain"] == ("discrete", ["adam", "sgd"])
    assert {s["status"] for s in tb["sessions"].values()} == {"SUCCESS", "FAILURE"}
    # every step of the history survives the round trip
    back = read_experiment(out)
    s1, s2 = exp.scalars, back.scalars
    assert len(s1) == len(s2) and list(s1.step) == list(s2.step)
    np.testing.assert_allclose(s2.value.to_numpy(), s1.value.to_numpy(), rtol=1e-6)  # float32 in event files
    assert back.objective == ("value", "maximize")


def test_rdb_url_through_sqlalchemy_reads_the_same(optuna_sqlite):
    """A URL other than sqlite:/// goes through SQLAlchemy (the path PostgreSQL/MySQL take)."""
    url, _ = optuna_sqlite
    direct = read_experiment(url, study="study")
    other = read_experiment(url.replace("sqlite:///", "sqlite+pysqlite:///"), study="study")
    assert other.table().equals(direct.table())
    with pytest.raises(HParamsToolsError, match="cannot read the Optuna storage"):
        read_experiment("sqlite+pysqlite:////nonexistent/dir/x.db")


def test_a_mistyped_sqlite_url_creates_nothing(tmp_path):
    for url in (f"sqlite:///{tmp_path / 'typo.db'}", f"sqlite+pysqlite:///{tmp_path / 'typo.db'}"):
        with pytest.raises(HParamsToolsError):
            read_experiment(url)
    assert list(tmp_path.iterdir()) == []


def test_several_studies_need_a_name(optuna_sqlite):
    url, _ = optuna_sqlite
    with pytest.raises(HParamsToolsError, match=r"holds 2 studies \(study, other\); pick one with --study NAME"):
        read_experiment(url)
    with pytest.raises(HParamsToolsError, match="has no study 'nope'; studies: study, other"):
        read_experiment(url, study="nope")
    assert len(read_experiment(url, study="other").sessions) == 3


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_storage_is_opened_read_only(optuna_sqlite, tmp_path):
    """Reading never writes: the database bytes are unchanged and no journal/WAL file appears."""
    db = tmp_path / "copy.db"
    shutil.copy(optuna_sqlite[0][len("sqlite:///"):], db)
    before = _digest(db)
    read_experiment(f"sqlite:///{db}", study="study")
    read_experiment(db, study="other")  # a plain path to the file works too
    assert _digest(db) == before and sorted(p.name for p in tmp_path.iterdir()) == ["copy.db"]


def test_corrupt_sqlite_file_is_one_error_and_left_alone(optuna_sqlite, tmp_path):
    db = tmp_path / "broken.db"
    data = bytearray(open(optuna_sqlite[0][len("sqlite:///"):], "rb").read())
    data[100:4096] = b"\xff" * (4096 - 100)  # the header survives, the schema page does not
    db.write_bytes(bytes(data))
    before = _digest(db)
    with pytest.raises(HParamsToolsError, match="not a readable Optuna SQLite storage") as info:
        read_experiment(f"sqlite:///{db}")
    assert "\n" not in str(info.value)
    foreign = tmp_path / "foreign.sqlite"
    import sqlite3

    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(HParamsToolsError, match="no such table: studies"):
        read_experiment(foreign)
    assert _digest(db) == before


def test_truncated_journal_keeps_complete_operations(optuna_journal, tmp_path):
    path = tmp_path / "cut.log"
    data = optuna_journal[0].read_bytes()
    path.write_bytes(data[: len(data) - 25])  # a writer killed mid-line
    exp = read_experiment(path)
    assert any("last line is incomplete" in n for n in exp.notes)
    assert len(exp.sessions) == h.N_TRIALS
    garbage = tmp_path / "bad.log"
    garbage.write_bytes(data.split(b"\n", 1)[0] + b"\n{not json\n" + data.split(b"\n", 1)[1])
    with pytest.raises(HParamsToolsError, match="line 2 is not JSON"):
        read_experiment(garbage)


@pytest.mark.slow
def test_analyze_ranks_parameters_like_optuna(optuna_sqlite):
    """Our consensus importance ranks the parameters as Optuna's own fANOVA importance does.

    Measured on this study (TPE seeds 0, 1, 2): Spearman 1.0 and the same top parameter (lr) on all
    three; the assertion leaves room for one swap of neighbours (Spearman 0.8 with 4 parameters).
    """
    import optuna
    from scipy.stats import spearmanr

    from hparams_tools.analysis import analyze

    url, study = optuna_sqlite
    theirs = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    ours = analyze(read_experiment(url, study="study"), seed=0).importance["consensus"]
    names = list(theirs)
    rho = spearmanr([theirs[n] for n in names], [ours[n] for n in names]).statistic
    assert ours.idxmax() == names[0] == "lr"
    assert rho >= 0.8, (dict(theirs), ours.to_dict())


def test_multi_objective_study_with_metric_names_and_a_none_choice(tmp_path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    path = tmp_path / "multi.log"
    study = optuna.create_study(study_name="multi", storage=h.journal_storage(path),
                                directions=["minimize", "maximize"], sampler=optuna.samplers.RandomSampler(seed=0))
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        study.set_metric_names(["loss", "accuracy"])

    def objective(trial):
        act = trial.suggest_categorical("act", [None, "relu"])
        x = trial.suggest_int("units", 8, 64, log=True)
        return x / 64, 1.0 if act else 0.5

    study.optimize(objective, n_trials=8)
    exp = read_experiment(path)
    assert [m.name for m in exp.metric_infos] == ["loss", "accuracy"]
    assert exp.objective is None and any("2 objectives (loss, accuracy)" in n for n in exp.notes)
    assert any("the choice None" in n for n in exp.notes)
    assert exp.hparam_infos["units"].log_scale and exp.hparam_infos["act"].domain.values == ("relu",)
    for t in study.trials:
        name = f"trial-{t.number}"
        assert exp.metrics().loc[name, "loss"] == t.values[0] and exp.metrics().loc[name, "accuracy"] == t.values[1]
        got = exp.hparams.loc[name, "act"]
        assert got == t.params["act"] if t.params["act"] else got is None or got != got  # unset: None/NaN
