"""Hparam values of +-inf and NaN in session start infos: TensorBoard's backend treats them as unset.

TensorBoard's ``list_session_groups._add_session`` skips every hparam value that
``json_format_compat.is_serializable_value`` rejects (a NaN or infinite number), while
``backend_context._compute_hparam_info_from_values`` still infers the hparam's type and
interval from all values, infinities included.
"""

from __future__ import annotations

import math

import pandas as pd

from hparams_tools import read_experiment
from hparams_tools.io.writer import write_session


def test_infinite_and_nan_hparams_are_unset_like_tensorboard(tmp_path, matches_tensorboard):
    scalars = {"validation": {"epoch_accuracy": [0.5, 0.6]}}
    write_session(tmp_path / "a", {"lr": float("inf"), "opt": "adam", "mix": 1.0}, scalars=scalars)
    write_session(tmp_path / "b", {"lr": 0.01, "opt": "sgd", "mix": float("-inf")}, scalars=scalars)
    write_session(tmp_path / "c", {"lr": float("-inf"), "opt": "sgd", "mix": "x"}, scalars=scalars)
    write_session(tmp_path / "d", {"lr": 0.5, "opt": "adam", "mix": float("inf")}, scalars=scalars)
    tb = matches_tensorboard(tmp_path)
    # the cases TensorBoard really distinguishes
    assert tb["sessions"]["a"]["hparams"] == {"opt": "adam", "mix": 1.0}
    assert tb["sessions"]["b"]["hparams"] == {"lr": 0.01, "opt": "sgd"}
    assert tb["hparam_infos"]["lr"] == {"type": "float", "domain": ("interval", -math.inf, math.inf)}
    assert tb["hparam_infos"]["mix"] == {"type": "string", "domain": ("discrete", ["1.0", "x"])}
    hp = read_experiment(tmp_path).hparams
    assert math.isnan(hp.loc["a", "lr"]) and math.isnan(hp.loc["c", "lr"])
    assert list(hp.loc[["b", "d"], "lr"]) == [0.01, 0.5]
    assert pd.isna(hp.loc["b", "mix"]) and pd.isna(hp.loc["d", "mix"])
    assert hp.loc["a", "mix"] == 1.0 and hp.loc["c", "mix"] == "x"


def test_nan_hparam_is_unset(tmp_path):
    """A NaN value is unset too (TensorBoard's interval for it depends on sort order, so only ours is checked)."""
    write_session(tmp_path / "a", {"lr": float("nan"), "mix": "x"})
    write_session(tmp_path / "b", {"lr": 0.5, "mix": float("nan")})
    exp = read_experiment(tmp_path)
    assert math.isnan(exp.hparams.loc["a", "lr"]) and exp.hparams.loc["b", "lr"] == 0.5
    assert pd.isna(exp.hparams.loc["b", "mix"]) and exp.hparams.loc["a", "mix"] == "x"
    assert pd.isna(exp.table().loc["b", "mix"])
