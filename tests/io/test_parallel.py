"""Forked parsing: several processes give exactly the one-process result, also when a child fails."""

from __future__ import annotations

import os
import random

import pandas as pd
import pytest

from hparams_tools import read_experiment
from hparams_tools.io import _parallel
from hparams_tools.io.writer import write_session


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("par") / "logs"
    rng = random.Random(3)
    for i in range(60):
        write_session(root / f"s{i:02d}", {"lr": rng.random(), "opt": rng.choice(["a", "b"])},
                      group=f"g{i % 7}", status=rng.choice(["SUCCESS", "FAILURE", None]),
                      scalars={"train": {"loss": [rng.random() for _ in range(rng.randint(1, 9))]},
                               "validation": {"acc": [rng.random() for _ in range(3)]}})
    return root


def _same(a, b):
    pd.testing.assert_frame_equal(a.table("mean-last-2"), b.table("mean-last-2"))
    pd.testing.assert_frame_equal(a.scalars, b.scalars)
    pd.testing.assert_frame_equal(a.group_table(), b.group_table())


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_workers_equal_one_process(logs, workers):
    many = read_experiment(logs, workers=workers)
    assert many.parse_stats.files == 180  # the children's counts are added here
    _same(read_experiment(logs, workers=1), many)


def test_a_failing_child_is_replaced_by_this_process(logs, monkeypatch):
    parent = os.getpid()
    real = _parallel._parse_chunk

    def fails_in_children(chunk, context):
        if os.getpid() != parent:
            raise RuntimeError("simulated crash")
        return real(chunk, context)

    monkeypatch.setattr(_parallel, "_parse_chunk", fails_in_children)
    _same(read_experiment(logs, workers=1), read_experiment(logs, workers=2))


def test_idle_workers_reads_the_machine(monkeypatch):
    monkeypatch.setattr(_parallel, "default_workers", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    ticks = iter([(150, 200)])  # since (100, 100): 50 of 100 ticks idle = one idle CPU of two
    monkeypatch.setattr(_parallel, "cpu_times", lambda: next(ticks))
    assert _parallel.idle_workers((100, 100)) == 2
    ticks = iter([(102, 200)])  # another job keeps the second CPU busy
    assert _parallel.idle_workers((100, 100)) == 1
