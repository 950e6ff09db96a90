"""The GPUs of this box, how many trials fit on each, and the environment that pins and bounds a worker.

Nothing here imports TensorFlow, JAX or PyTorch: the launcher sizes the sweep
before any backend starts (a backend that grabs a GPU in the launcher would
steal the memory the workers need). GPUs come from ``nvidia-smi`` filtered by
``CUDA_VISIBLE_DEVICES``; a trial's memory is estimated from the CNN's shape
(:mod:`training.model`) at the space's largest batch size.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .model import MODEL_HPARAMS

__all__ = ["Gpu", "visible_gpus", "trial_memory_mb", "trials_per_gpu", "worker_env", "apply_memory_limit",
           "describe_pinning", "cpu_threads", "MEMORY_FRACTION_ENV", "MEMORY_MB_ENV"]

MEMORY_FRACTION_ENV = "HPARAMS_TOOLS_GPU_MEMORY_FRACTION"  # set by the launcher, read by the worker
MEMORY_MB_ENV = "HPARAMS_TOOLS_GPU_MEMORY_MB"

# A process on a GPU costs its CUDA context, cuDNN/cuBLAS workspaces and the framework's own pools
# before the model allocates anything (about 300-500 MiB on current drivers): counted once per worker.
PROCESS_OVERHEAD_MB = 512
SAFETY_FACTOR = 1.5       # on the model's own estimate: allocator fragmentation, XLA temporaries
USABLE_FRACTION = 0.9     # of the free memory: leave room for other users of the GPU
MAX_PER_GPU = 32          # beyond this the GPU's scheduler, not memory, is the limit for a CNN this small


@dataclass(frozen=True)
class Gpu:
    """One visible GPU as ``nvidia-smi`` reports it (memory in MiB)."""

    index: int
    uuid: str
    free_mb: int
    total_mb: int


def visible_gpus(env: Mapping[str, str] | None = None) -> list[Gpu]:
    """The GPUs a worker may use: ``nvidia-smi``'s list filtered (and ordered) by ``CUDA_VISIBLE_DEVICES``.

    Returns an empty list when ``nvidia-smi`` is missing or fails, or when
    ``CUDA_VISIBLE_DEVICES`` hides every GPU ("" or "-1").
    """
    env = os.environ if env is None else env
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=index,uuid,memory.free,memory.total",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    if out.returncode != 0:
        return []
    gpus = parse_nvidia_smi(out.stdout)
    return filter_visible(gpus, env.get("CUDA_VISIBLE_DEVICES"))


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """Parse ``index, uuid, memory.free, memory.total`` CSV lines (lines that do not parse are skipped)."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4:
            continue
        try:
            gpus.append(Gpu(int(parts[0]), parts[1], int(float(parts[2])), int(float(parts[3]))))
        except ValueError:
            continue
    return gpus


def filter_visible(gpus: list[Gpu], cuda_visible: str | None) -> list[Gpu]:
    """Apply ``CUDA_VISIBLE_DEVICES`` (indices or UUIDs, CUDA's order; unset: all) to ``nvidia-smi``'s list."""
    if cuda_visible is None:
        return list(gpus)
    chosen = []
    for item in (s.strip() for s in cuda_visible.split(",")):
        if not item or item == "-1":
            break  # CUDA stops at the first invalid entry
        match = [g for g in gpus if str(g.index) == item or g.uuid == item or g.uuid.startswith(item)]
        if not match:
            break
        if match[0] not in chosen:
            chosen.append(match[0])
    return chosen


def _largest(space: Any, name: str) -> Any:
    """The largest value a space parameter can take (the model default when the space omits it)."""
    p = getattr(space, "parameters", {}).get(name)
    if p is None:
        return MODEL_HPARAMS[name]
    if p.kind in ("values", "value"):
        numbers = [v for v in p.values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return max(numbers) if numbers else MODEL_HPARAMS[name]
    return p.max


def trial_memory_mb(space: Any, *, image_size: int, num_classes: int = 5, mixed_precision: bool = False) -> float:
    """Estimated GPU memory of one trial (MiB) at the space's largest filters, blocks, dense units and batch.

    Weights count four times (weights, gradients, two Adam moments); activations
    of every conv and pooling output three times (forward, its gradient, the
    framework's saved copy), for the largest batch; all times
    :data:`SAFETY_FACTOR`, plus :data:`PROCESS_OVERHEAD_MB` per process.
    """
    filters = int(_largest(space, "filters"))
    blocks = int(_largest(space, "conv_blocks"))
    dense = int(_largest(space, "dense_units"))
    batch = int(_largest(space, "batch_size"))
    params, acts = 0, 2 * image_size * image_size * 3  # the input and its rescaled copy
    side, channels = image_size, 3
    for b in range(blocks):
        out = filters * 2**b
        params += 9 * channels * out + out
        acts += side * side * out           # conv + relu output
        side = max(1, side // 2)
        acts += side * side * out           # pooling output
        channels = out
    flat = side * side * channels
    params += flat * dense + dense + dense * num_classes + num_classes
    acts += flat + dense + num_classes
    act_bytes = 2 if mixed_precision else 4
    model_mb = (params * 4 * 4 + batch * acts * act_bytes * 3) / 2**20
    return model_mb * SAFETY_FACTOR + PROCESS_OVERHEAD_MB


def trials_per_gpu(gpus: list[Gpu], trial_mb: float, *, cpus: int | None = None) -> int:
    """How many trials run at once on each GPU: what fits in the smallest GPU's free memory, capped by CPUs.

    Each worker is one Python process feeding its GPU, so all workers together
    get at most one CPU core each; at least one trial per GPU.
    """
    if not gpus:
        return 0
    free = min(g.free_mb for g in gpus) * USABLE_FRACTION
    fit = int(free // max(trial_mb, 1.0))
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(fit, MAX_PER_GPU, max(1, cpus // len(gpus))))


def worker_env(gpu: Gpu | None, *, per_gpu: int, cache_dir: Path, threads: int) -> dict[str, str]:
    """Environment variables that pin a worker to ``gpu`` (or the CPU) and bound its memory and threads.

    Args:
        gpu: The worker's GPU, or None for a CPU worker (GPUs hidden).
        per_gpu: Workers sharing that GPU (each gets 1/per_gpu of its memory).
        cache_dir: Root of the compilation caches shared by all workers (and later sweeps).
        threads: CPU threads this worker may use for its own ops.
    """
    cache = Path(cache_dir).resolve() / "compile"
    env = {
        "CUDA_DEVICE_ORDER": "PCI_BUS_ID",  # nvidia-smi's numbering, so the index below is the GPU we sized
        "CUDA_VISIBLE_DEVICES": str(gpu.index) if gpu is not None else "-1",
        # TensorFlow: allocate as needed instead of grabbing the whole GPU at start
        "TF_FORCE_GPU_ALLOW_GROWTH": "true",
        # JAX: no up-front 75% grab; the fraction caps this process's pool
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{USABLE_FRACTION / max(1, per_gpu):.4f}",
        # JAX: one persistent compilation cache for all workers; cache even small, fast-compiling programs
        # (the CNN's train step is both), so only the first worker of a shape pays the compile
        "JAX_COMPILATION_CACHE_DIR": str(cache / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        # PyTorch: fewer fragments among many small processes; the fraction is applied in the worker
        "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True",
        "TORCHINDUCTOR_CACHE_DIR": str(cache / "torchinductor"),
        # CPU threads: N workers on C cores must not each start C threads
        "OMP_NUM_THREADS": str(threads),
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": str(min(2, threads)),
    }
    if gpu is not None:
        env[MEMORY_FRACTION_ENV] = env["XLA_PYTHON_CLIENT_MEM_FRACTION"]
        env[MEMORY_MB_ENV] = str(int(gpu.total_mb * USABLE_FRACTION / max(1, per_gpu)))
        env["TF_XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("TF_XLA_FLAGS", ""),
                                                     f"--tf_xla_persistent_cache_directory={cache / 'tf'}"]))
    return env


def apply_memory_limit(backend: str, env: Mapping[str, str] | None = None) -> None:
    """In a worker, cap the backend's GPU memory to the launcher's share (no-op without one).

    JAX reads its cap from the environment already; PyTorch needs a call
    before its first allocation, so this runs before the sweep starts.
    """
    env = os.environ if env is None else env
    fraction, mb = env.get(MEMORY_FRACTION_ENV), env.get(MEMORY_MB_ENV)
    if not fraction or not mb:
        return
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_per_process_memory_fraction(float(fraction), 0)
    # TensorFlow: TF_FORCE_GPU_ALLOW_GROWTH bounds it to what it uses; a hard logical-device limit would
    # conflict with memory growth (TensorFlow refuses both), so it is not set here.


def describe_pinning(backend: str, accelerators: list[str], env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """What a worker tells about the GPU the launcher gave it: ``(note, warning)``, each ``""`` when none.

    ``note`` names the physical GPU and the memory share (for the worker's start line). ``warning``
    is one line when the launcher pinned this worker to a GPU but the backend sees none: a CPU-only
    build of JAX or PyTorch on a GPU box would otherwise run every worker on the CPU unnoticed.
    """
    env = os.environ if env is None else env
    mb = env.get(MEMORY_MB_ENV)
    if not mb:  # not a launcher's GPU worker
        return "", ""
    index = env.get("CUDA_VISIBLE_DEVICES", "?")
    if accelerators:
        return f"physical GPU {index}, memory share {int(mb):,} MiB", ""
    return "", (f"warning: the launcher gave this worker GPU {index}, but {backend} sees no GPU (a CPU-only "
                f"build?): training on the CPU. Install {backend} with CUDA support, or pass --cpu")


def cpu_threads(workers: int, cpus: int | None = None) -> int:
    """CPU threads per worker when ``workers`` share ``cpus`` cores (at least one)."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, math.floor(cpus / max(1, workers)))
