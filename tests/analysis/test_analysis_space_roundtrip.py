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


def test_next_experiment_names_and_the_one_command():
    from hparams_tools.space import next_experiment_name, next_logdir, next_space_command

    assert [next_experiment_name(n) for n in ("default", "default-next", "default-next2", "a-nextb")] == [
        "default-next", "default-next2", "default-next3", "a-nextb-next"]
    assert str(next_logdir("logs/flowers/default")) == "logs/flowers/default-next"
    assert next_space_command("my space.yaml", "logs/flowers/default") == (
        "python -m training.sweep --space 'my space.yaml' --logdir logs/flowers/default-next")


CONDITIONAL = {"parameters": {
    "optimizer": {"values": ["adam", "sgd", True]},
    "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1, "conditional_on": "optimizer",
           "by_value": {"adam": {"min": 1e-4, "max": 1e-3}, "true": {"min": 1e-2, "max": 1e-1}}},
}}


def test_conditional_ranges_parse_dump_and_read_back():
    space = parse_space(CONDITIONAL)
    lr = space.parameters["lr"]
    assert lr.conditional_on == "optimizer" and lr.range_for("adam") == (1e-4, 1e-3)
    assert lr.range_for(True) == (1e-2, 1e-1) and lr.range_for("sgd") == (1e-4, 1e-1)   # unlisted: min/max
    assert parse_space(__import__("yaml").safe_load(dump_space(space))) == space


@pytest.mark.parametrize("change, message", [
    ({"conditional_on": "nope"}, "conditional_on must name another parameter"),
    ({"conditional_on": "lr"}, "conditional_on must name another parameter"),
    ({"by_value": {"rmsprop": {"min": 1e-4, "max": 1e-3}}}, "not one of the values of 'optimizer'"),
    ({"by_value": {"adam": {"min": 1e-3, "max": 1e-4}}}, "min 0.001 is greater than max"),
    ({"by_value": {"adam": {"min": 0.0, "max": 1e-4}}}, "log_uniform_values needs min > 0"),
    ({"by_value": {"adam": {"low": 1e-4}}}, "must be {min: .., max: ..}"),
    ({"by_value": {}}, "by_value must map values"),
])
def test_conditional_ranges_are_validated(change, message):
    from hparams_tools.errors import SpaceFileError

    bad = {"parameters": {**CONDITIONAL["parameters"], "lr": {**CONDITIONAL["parameters"]["lr"], **change}}}
    with pytest.raises(SpaceFileError, match=__import__("re").escape(message)):
        parse_space(bad)


def test_a_conditional_range_needs_a_distribution_and_a_list_parent():
    from hparams_tools.errors import SpaceFileError

    with pytest.raises(SpaceFileError, match="need a distribution"):
        parse_space({"parameters": {"a": {"values": [1, 2]}, "b": {"values": [1], "conditional_on": "a"}}})
    with pytest.raises(SpaceFileError, match="must be a parameter given as 'values'"):
        parse_space({"parameters": {"a": {"distribution": "uniform", "min": 0, "max": 1},
                                    "b": {"distribution": "uniform", "min": 0, "max": 1, "conditional_on": "a",
                                          "by_value": {"x": {"min": 0, "max": 1}}}}})
