"""Choosing and importing the Keras backend (TensorFlow, JAX or PyTorch), quietly.

Keras 3 reads ``KERAS_BACKEND`` once, when ``keras`` is first imported, so the
choice must be made before anything imports keras or keras-tuner. The rule:
``--backend`` wins, then ``KERAS_BACKEND``, then the backend of a keras this
process already imported (a notebook, or a test session, has chosen), then
:data:`DEFAULT_BACKEND` (chosen by the CPU measurements in the README). ``~/.keras/keras.json`` is not
consulted on purpose: Keras writes ``"backend": "tensorflow"`` into it on its
first import, so on most machines it records an accident, not a choice.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
from typing import Iterator

from .errors import BackendError

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "choose_backend", "native_stderr_captured", "import_keras",
           "hide_gpus", "set_random_seed"]

# Keras backend name -> the package it needs (the name pip and importlib know it by).
BACKENDS: dict[str, str] = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
DEFAULT_BACKEND = "tensorflow"
# Without TensorFlow (a CUDA image that ships JAX and PyTorch only) the first of these that is installed:
# JAX first, the faster on GPUs by issue 8's H200 measurements (26,800 img/s against PyTorch's 2,100).
FALLBACK_BACKENDS = ("jax", "torch")
_INSTALL = {"tensorflow": "pip install 'hparams-tools[train]'", "jax": "pip install 'hparams-tools[jax]'",
            "torch": "pip install 'hparams-tools[torch]'"}


def choose_backend(flag: str | None) -> str:
    """Decide the backend and set ``KERAS_BACKEND`` for it (before keras is imported).

    Args:
        flag: The ``--backend`` value, or ``None``.

    Returns:
        The backend name.

    Raises:
        BackendError: for an unknown name, a backend whose package is not installed, or a
            process that already imported keras with another backend.
    """
    loaded = sys.modules.get("keras")
    current = loaded.backend.backend() if loaded is not None else None
    env = os.environ.get("KERAS_BACKEND")
    name = flag or env or current or installed_default()
    where = "--backend" if flag else ("KERAS_BACKEND" if env else "backend")
    if name not in BACKENDS:
        raise BackendError(f"{where} {name!r} is not a Keras backend; use one of {', '.join(BACKENDS)}")
    if current is not None:
        if current != name:
            raise BackendError(f"{where} {name}: keras is already loaded with the {current} backend in this "
                               "process; start a new process (or set KERAS_BACKEND before importing keras)")
        return name
    if importlib.util.find_spec(BACKENDS[name]) is None:
        raise BackendError(f"{where} {name}: the {BACKENDS[name]} package is not installed; {_INSTALL[name]} "
                           f"or choose another of {', '.join(BACKENDS)}")
    os.environ["KERAS_BACKEND"] = name
    if name == "torch":
        # PyTorch's OpenMP threads spin-wait between ops by default. On a CPU shared with other processes
        # (other helpers' jobs, or parallel sweep workers) that made one training batch of the default
        # sweep 7-11 s instead of 0.12-0.23 s with passive waiting (README, backends section). Read by
        # libgomp when torch loads, so it is set here; a user's own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return name


def installed_default() -> str:
    """The backend used when nothing chooses one: TensorFlow if installed, else the first installed of
    :data:`FALLBACK_BACKENDS`, else TensorFlow (whose absence :func:`choose_backend` then reports)."""
    for name in (DEFAULT_BACKEND, *FALLBACK_BACKENDS):
        if importlib.util.find_spec(BACKENDS[name]) is not None:
            return name
    return DEFAULT_BACKEND


def hide_gpus() -> None:
    """Make every backend see no GPU (``--cpu``); effective only before the backend is imported."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ["JAX_PLATFORMS"] = "cpu"


@contextlib.contextmanager
def native_stderr_captured(enabled: bool = True) -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the duration; replay it if the block fails.

    TensorFlow 2.21's C++ runtime writes oneDNN notes, CUDA probes and absl's
    "log messages before InitializeLog" banner straight to fd 2 while importing
    and initialising devices, whatever ``TF_CPP_MIN_LOG_LEVEL`` says (JAX and
    PyTorch print their own CUDA-probe notes). On a CPU laptop that is half a
    dozen alarming lines before every sweep (and before a one-line error
    message). Nothing is lost when something goes wrong: the captured text is
    written back before the exception propagates.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_keras(verbose: bool = False) -> list[str]:
    """Import keras on the chosen backend and initialise its devices, quietly unless ``verbose``.

    Returns:
        The names of the accelerators the backend sees (empty on a CPU).
    """
    with native_stderr_captured(enabled=not verbose):
        import keras

        return _accelerators(keras.backend.backend())


def _accelerators(backend: str) -> list[str]:
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_logical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform != "cpu"]
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed`` without importing TensorFlow on the JAX and PyTorch backends.

    Keras seeds ``tf.random`` whenever TensorFlow is merely *installed* ("many
    workflows leverage tf.data"): 2-4 s and hundreds of MB for nothing on those
    backends. While it asks, ``import tensorflow`` is made to fail (Python's
    documented ``sys.modules[name] = None`` blocker); Keras then records
    TensorFlow as absent and takes the path a machine without TensorFlow takes,
    here and in its later checks. A TensorFlow already imported is left alone.
    """
    import keras

    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    sys.modules["tensorflow"] = None  # type: ignore[assignment]
    try:
        keras.utils.set_random_seed(seed)
    finally:
        del sys.modules["tensorflow"]  # Keras' in_tf_graph() asks `"tensorflow" in sys.modules`
