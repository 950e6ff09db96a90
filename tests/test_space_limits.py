"""Hostile and malformed space files: one line, SpaceFileError / exit 2, bounded memory, nothing written.

Every case runs twice: through the library (:func:`load_space` raises
:class:`SpaceFileError`) and through ``python -m training.sweep --space``
in a subprocess whose address space and CPU time are capped (RLIMIT_AS,
RLIMIT_CPU: loose bounds that a YAML bomb or a quadratic loop would hit, not
a wall-clock limit), which must exit 2 with one line and leave ``logs/`` alone.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from hparams_tools.errors import SpaceFileError
from hparams_tools.space import MAX_FILE_BYTES, MAX_TRIALS, load_space

OK_PARAMS = "parameters: {lr: {value: 0.1}}\n"
LAUGHS = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
BOMB = "l0: &l0 lol\n" + LAUGHS  # 9^9 "lol"s when expanded


def _deep_list(n: int) -> str:
    return "parameters: {a: {values: " + "[" * n + "1" + "]" * n + "}}\n"


def _deep_map(n: int, block: int = 300) -> str:
    # block-style levels first (indentation grows the file quadratically), then flow-style ones
    lines = "".join("  " * (i + 2) + "k:\n" for i in range(block))
    return "parameters:\n  a:\n" + lines + "  " * (block + 2) + "{k: " * n + "1" + "}" * n + "\n"


CASES = {
    "name-int": ("name: 42\n" + OK_PARAMS, "name must be"),
    "name-list": ("name: [a, b]\n" + OK_PARAMS, "name must be"),
    "name-path": ("name: ../../etc\n" + OK_PARAMS, "one directory name"),
    "hyperband-int": ("hyperband: 5\n" + OK_PARAMS, "'hyperband' must be a mapping"),
    "hyperband-factor-text": ("hyperband: {factor: x}\n" + OK_PARAMS, "hyperband factor must be"),
    "hyperband-unknown-key": ("hyperband: {factor: 3, speed: 1}\n" + OK_PARAMS, "'hyperband' must be a mapping"),
    "hyperband-factor-1": ("hyperband: {factor: 1}\n" + OK_PARAMS, "from 2 to 100"),
    "folds-text": ("folds: x\n" + OK_PARAMS, "folds must be"),
    "folds-bool": ("folds: true\n" + OK_PARAMS, "folds must be"),
    "folds-1": ("folds: 1\n" + OK_PARAMS, "or 0 for a hold-out split"),
    "executions-0": ("executions_per_trial: 0\n" + OK_PARAMS, "executions_per_trial must be"),
    "max-trials-huge": (f"max_trials: {10**30}\n" + OK_PARAMS, f"from 1 to {MAX_TRIALS}"),
    "max-trials-float": ("max_trials: 1.5\n" + OK_PARAMS, "max_trials must be"),
    "seed-negative": ("seed: -1\n" + OK_PARAMS, "seed must be"),
    "description-int": ("description: 42\n" + OK_PARAMS, "description must be text"),
    "description-long": ("description: " + "x" * 20_000 + "\n" + OK_PARAMS, "description must be text"),
    "metric-int-name": ("metric: {name: 42}\n" + OK_PARAMS, "metric name must be"),
    "metric-list": ("metric: [a]\n" + OK_PARAMS, "'metric' must be"),
    "param-description-list": ("parameters: {lr: {value: 1, description: [a]}}\n", "description must be text"),
    "value-long-string": ("parameters: {lr: {values: [" + "y" * 20_000 + "]}}\n", "is not a finite number, bool or string"),
    "min-huge-int": (f"parameters: {{lr: {{distribution: uniform, min: {10**30}, max: {10**31}}}}}\n",
                     "'min' must be a finite number"),
    "too-many-values": ("parameters: {lr: {values: [" + ", ".join(map(str, range(10_001))) + "]}}\n",
                        "at most 10000"),
    "too-many-parameters": ("parameters:\n" + "".join(f"  p{i}: {{value: 1}}\n" for i in range(1_001)),
                            "at most 1000"),
    "int-of-5000-digits": ("max_trials: " + "9" * 5000 + "\n" + OK_PARAMS, "unusable value"),
    "nested-lists": (_deep_list(5_000), "nested deeper than"),
    "nested-maps": (_deep_map(3_000), "nested deeper than"),
    "alias-bomb-in-metric": (BOMB + "metric: *l9\n" + OK_PARAMS, "aliases"),
    "alias-bomb-in-max-trials": (BOMB + "max_trials: *l9\n" + OK_PARAMS, "aliases"),
    "alias-bomb-in-values": (BOMB + "parameters: {a: {values: *l9}}\n", "aliases"),
    "alias-bomb-in-description": (BOMB + "description: *l9\n" + OK_PARAMS, "aliases"),
    "merge-key": ("base: &b {value: 1}\nparameters: {a: {<<: *b}}\n", "aliases"),
    "python-tag": ("parameters: !!python/object/apply:os.system ['touch pwned']\n", "not valid YAML"),
    "too-large": ("# " + "x" * MAX_FILE_BYTES + "\n" + OK_PARAMS, "limit"),
    "not-utf8": (b"name: \xff\xfe\n" + OK_PARAMS.encode(), "not UTF-8"),
    "unknown-keys-mixed-types": ("1: a\nfoo: b\n" + OK_PARAMS, "unknown key(s)"),
}


def _write(tmp_path, body) -> str:
    path = tmp_path / "space.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return str(path)


@pytest.mark.parametrize("case", sorted(CASES))
def test_library_raises_one_short_line(tmp_path, case):
    body, needle = CASES[case]
    with pytest.raises(SpaceFileError) as info:
        load_space(_write(tmp_path, body))
    message = str(info.value)
    assert needle in message and "\n" not in message
    assert len(message) < 400  # a huge value is quoted by its first ~80 characters only


def _bounded():
    # loose bounds: the sweep's imports need ~0.5 GB of address space; a YAML bomb needs far more
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


@pytest.mark.parametrize("case", sorted(CASES))
def test_sweep_cli_exit_2_one_line_nothing_written(tmp_path, case):
    body, needle = CASES[case]
    space = _write(tmp_path, body)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "training.sweep", "--space", space, "--quiet"], cwd=work,
                          capture_output=True, text=True, preexec_fn=_bounded, env=env, timeout=600)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("training.sweep: error: ") and needle in lines[0], lines[:3]
    assert len(lines[0]) < 600
    assert list(work.iterdir()) == []  # no logs/ directory, nothing else


def test_device_as_space_file_is_refused_without_reading_it_all():
    with pytest.raises(SpaceFileError, match="larger than the limit"):
        load_space("/dev/zero")


def test_directory_as_space_file(tmp_path):
    with pytest.raises(SpaceFileError, match="is a directory"):
        load_space(tmp_path)
