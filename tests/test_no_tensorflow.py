"""hparams_tools never imports TensorFlow, Keras or keras-tuner (only training/ may)."""

from __future__ import annotations

import subprocess
import sys

CODE = r"""
import importlib, pkgutil, sys
import hparams_tools
names = ["hparams_tools"]
for info in pkgutil.walk_packages(hparams_tools.__path__, "hparams_tools."):
    if info.name.endswith("__main__"):  # runs the CLI
        continue
    importlib.import_module(info.name)
    names.append(info.name)
# also read a logdir end to end, so lazily imported reader code is covered
import tempfile
from hparams_tools.io.writer import write_session
with tempfile.TemporaryDirectory() as d:
    write_session(d + "/run", {"lr": 0.1}, scalars={"": {"loss": [1.0, 0.5]}})
    hparams_tools.read_experiment(d).table()
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "keras_tuner", "tf_keras"))
print(len(names), "modules imported")
print("FORBIDDEN:", bad)
"""


def test_no_tensorflow_in_hparams_tools():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    assert "FORBIDDEN: []" in out, out
    assert int(out.split()[0]) > 10  # the walk really imported the package's modules
