"""Bad input through the real CLI: one line on stderr, exit status 2, no traceback, nothing written."""

from __future__ import annotations

import pytest

from sweep_helpers import run_cli, write_space

GOOD = "parameters:\n  learning_rate: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}\n"
BAD_SPACES = {
    "min-above-max": ("parameters:\n  dropout: {distribution: uniform, min: 0.6, max: 0.1}\n", "greater than max"),
    "missing-bound": ("parameters:\n  dropout: {distribution: uniform, min: 0.1}\n", "missing 'max'"),
    "log-non-positive": ("parameters:\n  learning_rate: {distribution: log_uniform_values, min: 0, max: 1}\n",
                         "min > 0"),
    "unknown-distribution": ("parameters:\n  lr: {distribution: gamma, min: 0, max: 1}\n", "unknown distribution"),
    "unknown-key": (GOOD + "budget: 3\n", "unknown key"),
    "not-yaml": ("parameters: [unclosed\n", "not valid YAML"),
}


def _assert_one_line_error(proc, needle: str) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("training.sweep: error: "), proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("case", sorted(BAD_SPACES))
def test_malformed_space_file(tmp_path, case):
    text, needle = BAD_SPACES[case]
    space = write_space(tmp_path / "space.yaml", text)
    proc = run_cli(["--space", space, "--logdir", tmp_path / "logs"])
    _assert_one_line_error(proc, needle)
    assert not (tmp_path / "logs").exists()


def test_missing_space_file(tmp_path):
    _assert_one_line_error(run_cli(["--space", tmp_path / "nope.yaml", "--logdir", tmp_path / "logs"]),
                           "does not exist")


def test_unknown_strategy(tmp_path):
    proc = run_cli(["--strategy", "annealing", "--logdir", tmp_path / "logs"])
    _assert_one_line_error(proc, "unknown strategy 'annealing'")
    assert not (tmp_path / "logs").exists()


def _folder(tmp_path, classes: dict[str, int]):
    from PIL import Image

    root = tmp_path / "data"
    root.mkdir()
    for name, n in classes.items():
        (root / name).mkdir()
        for i in range(n):
            Image.new("RGB", (8, 8), (i * 20, 0, 0)).save(root / name / f"{i}.png")
    return root


@pytest.mark.parametrize("classes, needle", [
    (None, "does not exist"),
    ({}, "holds no images"),
    ({"a": 0, "b": 0}, "holds no images"),
    ({"roses": 3}, "only one class"),
])
def test_bad_data_folder(tmp_path, classes, needle):
    data = tmp_path / "missing" if classes is None else _folder(tmp_path, classes)
    proc = run_cli(["--data", data, "--logdir", tmp_path / "logs", "--no-report"])
    _assert_one_line_error(proc, needle)
    assert not (tmp_path / "logs").exists()  # the data is checked before anything is written


def test_unwritable_logdir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    proc = run_cli(["--logdir", blocker / "logs"])
    _assert_one_line_error(proc, "cannot write to logdir")
    assert blocker.read_text() == "a file where a directory should be"


def test_logdir_of_something_else_is_left_alone(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "precious.txt").write_text("keep me")
    proc = run_cli(["--logdir", tmp_path / "logs", "--overwrite"])
    _assert_one_line_error(proc, "is not a sweep of this tool")
    assert (tmp_path / "logs" / "precious.txt").read_text() == "keep me"


def test_help_explains_the_options():
    proc = run_cli(["--help"])
    assert proc.returncode == 0
    for word in ("--space", "--strategy", "--folds", "--overwrite", "hyperband", "KERASTUNER_TUNER_ID",
                 "--samples-per-class", "--image-size", "--mixed-precision", "log_uniform_values"):
        assert word in proc.stdout


def test_tfds_without_the_package_or_network_is_one_line(tmp_path):
    # An empty TFDS data dir and a probe at a closed local port: offline, whatever this machine's network.
    env = {"TFDS_DATA_DIR": str(tmp_path / "tfds"), "TRAINING_NET_PROBE": "127.0.0.1:9"}
    proc = run_cli(["--data", "tfds:tf_flowers", "--backend", "tensorflow", "--logdir", tmp_path / "logs"],
                   timeout=300, env=env)
    _assert_one_line_error(proc, "tfds:tf_flowers")
    try:
        import tensorflow_datasets  # noqa: F401
    except ImportError:
        assert "pip install" in proc.stderr
    else:
        assert "network is unreachable" in proc.stderr and str(tmp_path / "tfds") in proc.stderr
    assert not (tmp_path / "logs").exists()


def test_unknown_tfds_dataset_is_one_line(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    proc = run_cli(["--data", "tfds:no_such_flowers", "--backend", "tensorflow", "--logdir", tmp_path / "logs"],
                   timeout=300)
    _assert_one_line_error(proc, "unknown tfds dataset 'no_such_flowers'")


def test_tfds_on_another_backend_is_one_line(tmp_path):
    proc = run_cli(["--data", "tfds:tf_flowers", "--backend", "torch", "--logdir", tmp_path / "logs"])
    _assert_one_line_error(proc, "needs the TensorFlow backend")
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_unknown_backend_is_one_line(tmp_path, how):
    args, env = (["--backend", "theano"], {}) if how == "flag" else ([], {"KERAS_BACKEND": "theano"})
    proc = run_cli([*args, "--logdir", tmp_path / "logs"], env=env)
    _assert_one_line_error(proc, "'theano' is not a Keras backend; use one of tensorflow, jax, torch")
    assert not (tmp_path / "logs").exists()


def test_backend_not_installed_is_one_line(tmp_path):
    """A missing backend package (hidden here the way Python hides a module: sys.modules[name] = None)."""
    script = ("import sys; sys.modules['jax'] = None\n"
              "from training.sweep import main\n"
              f"sys.exit(main(['--backend', 'jax', '--logdir', {str(tmp_path / 'logs')!r}]))")
    proc = run_cli(["-c", script], module=None, env={"KERAS_BACKEND": ""})
    _assert_one_line_error(proc, "--backend jax: the jax package is not installed")
    assert not (tmp_path / "logs").exists()


def test_without_tensorflow_the_default_backend_is_an_installed_one():
    """A box with JAX and PyTorch but no TensorFlow (hidden as Python hides a module) runs on JAX, then PyTorch."""
    script = ("import sys, importlib.util\n"
              "sys.modules['tensorflow'] = None\n"
              "from training._backend import choose_backend\n"
              "first = choose_backend(None)\n"
              "sys.modules['jax'] = None\n"
              "import os; del os.environ['KERAS_BACKEND']\n"
              "print(first, choose_backend(None))")
    proc = run_cli(["-c", script], module=None, env={"KERAS_BACKEND": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["jax", "torch"]


def test_bad_training_option_is_a_config_error_not_a_strategy_error(tmp_path):
    from training.errors import ConfigError, StrategyError
    from training.sweep import build_parser, run_sweep

    with pytest.raises(ConfigError, match="unknown --augment 'sideways'") as info:
        run_sweep(build_parser().parse_args(["--augment", "sideways", "--logdir", str(tmp_path / "logs")]))
    assert not isinstance(info.value, StrategyError)
