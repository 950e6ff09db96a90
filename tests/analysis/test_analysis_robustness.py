"""Odd data never crashes the analysis: it either gives a result whose JSON and space file are valid,
or says in one InsufficientDataError why there is nothing to analyse."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from hparams_tools.analysis.core import analyze_prepared
from hparams_tools.analysis.prepare import prepare
from hparams_tools.analysis.target import Rows
from hparams_tools.errors import InsufficientDataError
from hparams_tools.space import parse_space

KINDS = ("float", "neg", "int", "log", "cat", "bool", "const", "grid", "mixed")


def _column(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    return {
        "float": lambda: rng.uniform(0, 1, n),
        "neg": lambda: rng.uniform(-5, 5, n),
        "int": lambda: rng.integers(1, 9, n).astype(float),
        "log": lambda: 10 ** rng.uniform(-6, 0, n),
        "cat": lambda: rng.choice(["a b", "c=d", "yes", "ñ"], n).astype(object),
        "bool": lambda: (rng.uniform(size=n) < 0.5).astype(object),
        "const": lambda: np.full(n, 2.0),
        "grid": lambda: rng.choice([16.0, 32.0, 64.0], n),
        "mixed": lambda: np.array([1.0 if i % 2 else "x" for i in range(n)], dtype=object),
    }[kind]()


@pytest.mark.parametrize("case", range(12))
def test_random_odd_sweeps(case):
    rng = np.random.default_rng(case)
    n = int(rng.choice([3, 4, 7, 12, 25]))
    hp = {}
    for j in range(int(rng.integers(1, 5))):
        kind = str(rng.choice(KINDS))
        v = pd.Series(_column(kind, n, rng))
        if rng.uniform() < 0.5 and n > 3:
            v[rng.choice(n, max(1, n // 5), replace=False)] = None if v.dtype == object else np.nan
        hp[f"h{j}_{kind}"] = v.to_numpy()
    y = rng.normal(size=n)
    if rng.uniform() < 0.3:
        y[rng.choice(n, max(1, n // 4), replace=False)] = np.nan
    idx = pd.Index([f"s{i}" for i in range(n)], name="session")
    rows = Rows(pd.DataFrame(hp, index=idx), pd.Series(y, index=idx),
                pd.Series(rng.choice(["SUCCESS", "FAILURE", "RUNNING"], n, p=[0.8, 0.1, 0.1]), index=idx),
                pd.Series([f"g{i // 2}" if rng.uniform() < 0.3 else f"s{i}" for i in range(n)], index=idx))
    try:
        prep = prepare(rows, {}, target="acc", goal=str(rng.choice(["maximize", "minimize"])))
    except InsufficientDataError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    r = analyze_prepared(prep, seed=case, top=float(rng.choice([0.1, 0.2, 0.5])))
    json.dumps(r.to_json(), allow_nan=False)
    assert parse_space(yaml.safe_load(r.space_yaml())) == r.next_space
    assert set(r.next_space.parameters) >= set(prep.hparams)
    assert r.findings and r.notes
