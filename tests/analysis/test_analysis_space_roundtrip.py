"""The suggested space is exactly what the sweep reads: hparams_tools.space and training.space accept it."""

from __future__ import annotations

import pytest

from hparams_tools.space import dump_space, load_space, parse_space, save_space


def test_written_space_reads_back_equal(gt_result, tmp_path):
    path = save_space(gt_result.next_space, tmp_path / "next.yaml", comments=gt_result.next_space_comments,
                      header=gt_result.next_space_header)
    assert load_space(path) == gt_result.next_space
    assert gt_result.space_yaml() == path.read_text()
    assert parse_space(gt_result.to_json()["next_space"]) == gt_result.next_space


def test_edge_space_reads_back_equal(edge_result, tmp_path):
    text = dump_space(edge_result.next_space, comments=edge_result.next_space_comments)
    (tmp_path / "s.yaml").write_text(text)
    assert load_space(tmp_path / "s.yaml") == edge_result.next_space


def test_training_converts_the_suggested_space(gt_result, tmp_path):
    pytest.importorskip("keras_tuner")
    training_space = pytest.importorskip("training.space")
    space = load_space(save_space(gt_result.next_space, tmp_path / "next.yaml"))
    hps = training_space.to_keras_tuner(space, method=space.method)
    names = {hp.name for hp in hps.space}
    assert names == set(space.parameters)
    lr = next(hp for hp in hps.space if hp.name == "learning_rate")
    if space.method != "grid":
        assert lr.sampling == "log" and lr.min_value == space.parameters["learning_rate"].min
    hparams = training_space.to_hparams(space)
    assert {h.name for h in hparams} == set(space.parameters)
