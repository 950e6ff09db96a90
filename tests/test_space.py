"""The space-file schema: what the sweep reads and `suggest` writes."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from hparams_tools.errors import HParamsToolsError, SpaceFileError
from hparams_tools.space import dump_space, load_space, parse_space, save_space

ISSUE_EXAMPLE = """
method: random            # grid | random | bayesian | hyperband | hybrid
metric: {name: validation/epoch_accuracy, goal: maximize}
max_trials: 16
parameters:
  learning_rate: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-1}
  epochs: {values: [2, 4, 8, 12]}
  batch_size: {values: [16, 32, 64, 128]}
  optimizer: {values: [adam, sgd, rmsprop]}
  dropout: {distribution: uniform, min: 0.0, max: 0.5}
  filters: {distribution: int_uniform, min: 8, max: 32}
  augment: {value: true}
"""


def test_issue_example_parses(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(ISSUE_EXAMPLE)
    space = load_space(path)
    assert space.method == "random"
    assert space.metric == "validation/epoch_accuracy" and space.goal == "maximize"
    assert space.max_trials == 16
    lr = space.parameters["learning_rate"]
    assert lr.is_log and (lr.min, lr.max) == (1e-5, 1e-1)
    assert space.parameters["epochs"].values == (2, 4, 8, 12)
    assert space.parameters["filters"].kind == "int_uniform" and isinstance(space.parameters["filters"].min, int)
    assert space.parameters["augment"].is_fixed and space.parameters["augment"].values == (True,)
    assert list(space.parameters) == ["learning_rate", "epochs", "batch_size", "optimizer", "dropout", "filters", "augment"]


def test_dump_round_trips_with_comments(tmp_path):
    space = parse_space(yaml.safe_load(ISSUE_EXAMPLE))
    text = dump_space(space, comments={"learning_rate": "best trials near 1e-3\nnarrowed"}, header="suggested")
    assert text.startswith("# suggested\n")
    assert "  # best trials near 1e-3\n  # narrowed\n  learning_rate:" in text
    assert parse_space(yaml.safe_load(text)) == space
    out = save_space(space, tmp_path / "next.yaml")
    assert load_space(out) == space


def test_float_values_stay_floats():
    space = parse_space({"parameters": {"x": {"values": [1.0, 2.5]}, "y": {"distribution": "uniform", "min": 0, "max": 1}}})
    again = parse_space(yaml.safe_load(dump_space(space)))
    assert again.parameters["x"].values == (1.0, 2.5)
    assert all(isinstance(v, float) for v in again.parameters["x"].values)
    assert isinstance(again.parameters["y"].min, float)


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("parameters: {lr: {distribution: uniform, min: 0.1}}", "missing 'max'"),
        ("parameters: {lr: {distribution: uniform, min: 1, max: 0.1}}", "greater than max"),
        ("parameters: {lr: {distribution: log_uniform_values, min: 0, max: 1}}", "min > 0"),
        ("parameters: {lr: {distribution: normal, min: 0, max: 1}}", "unknown distribution 'normal'"),
        ("parameters: {lr: {values: [1], colour: red}}", "unknown key"),
        ("parameters: {lr: {values: []}}", "non-empty list"),
        ("method: annealing\nparameters: {lr: {value: 1}}", "unknown method 'annealing'"),
        ("parameters: {}", "non-empty mapping"),
        ("metric: {name: acc, goal: up}\nparameters: {lr: {value: 1}}", "maximize' or 'minimize"),
        ("max_trials: 0\nparameters: {lr: {value: 1}}", "positive integer"),
        ("trials: 3\nparameters: {lr: {value: 1}}", "unknown key(s) ['trials']"),
        ("parameters: {n: {distribution: int_uniform, min: 1.5, max: 3}}", "integer min and max"),
        ("parameters: [1, 2]", "non-empty mapping"),
        ("- just a list", "must be a YAML mapping"),
    ],
)
def test_malformed_spaces_are_one_clear_error(tmp_path, body, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(body))
    with pytest.raises(SpaceFileError) as info:
        load_space(path)
    message = str(info.value)
    assert fragment in message and str(path) in message and "\n" not in message
    assert isinstance(info.value, HParamsToolsError)


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(SpaceFileError, match="does not exist"):
        load_space(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters: {lr: [unclosed\n")
    with pytest.raises(SpaceFileError, match="not valid YAML at line"):
        load_space(bad)


def test_yaml_never_constructs_python_objects(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("parameters: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(SpaceFileError):
        load_space(evil)


def test_the_space_example_in_the_sweeps_help_is_valid():
    """`python -m training.sweep --help` shows a space file; it must be one the parser accepts."""
    from training.sweep import EPILOG  # no TensorFlow import at module level

    lines = EPILOG.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("space file")) + 1
    block = []
    for line in lines[start:]:
        if not line.startswith("  ") or line.strip().startswith("The model reads"):
            break
        block.append(line[2:])
    space = parse_space(yaml.safe_load("\n".join(block)), source="--help example")
    assert {"learning_rate", "epochs", "batch_size", "optimizer", "dropout"} <= set(space.parameters)
    assert space.options.get("folds") == 3
