"""Sizing the workers of a GPU box without a backend: nvidia-smi's list, CUDA_VISIBLE_DEVICES, memory, environment.

Also the silence limit that decides when the chief re-queues a worker's trial.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from hparams_tools.space import load_space
from training.devices import (
    Gpu,
    describe_pinning,
    filter_visible,
    parse_nvidia_smi,
    trial_memory_mb,
    trials_per_gpu,
    worker_env,
)
from training.oracle_ops import SilenceLimit

SMI = """\
0, GPU-aaaa1111-0000, 140000, 143771
1, GPU-bbbb2222-0000, 70000, 143771
garbage line
"""


def test_nvidia_smi_lines_parse_and_cuda_visible_devices_filters_in_cuda_order():
    gpus = parse_nvidia_smi(SMI)
    assert [(g.index, g.free_mb) for g in gpus] == [(0, 140000), (1, 70000)]
    assert filter_visible(gpus, None) == gpus
    assert filter_visible(gpus, "1,0") == [gpus[1], gpus[0]]
    assert filter_visible(gpus, "GPU-bbbb") == [gpus[1]]
    assert filter_visible(gpus, "") == [] and filter_visible(gpus, "-1") == []
    assert filter_visible(gpus, "0,7,1") == [gpus[0]]  # CUDA stops at the first invalid entry


def test_memory_estimate_grows_with_batch_image_size_and_filters(tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text("parameters:\n  batch_size: {values: [16, 32]}\n")
    big = tmp_path / "big.yaml"
    big.write_text("parameters:\n  batch_size: {values: [16, 512]}\n  filters: {distribution: int_uniform, "
                   "min: 8, max: 64}\n")
    a = trial_memory_mb(load_space(small), image_size=32)
    b = trial_memory_mb(load_space(big), image_size=32)
    c = trial_memory_mb(load_space(small), image_size=180)
    assert 512 < a < b and a < c
    assert trial_memory_mb(load_space(big), image_size=32, mixed_precision=True) < b


def test_trials_per_gpu_fit_in_free_memory_and_cpus():
    gpus = [Gpu(0, "a", 10_000, 16_000), Gpu(1, "b", 4_000, 16_000)]
    assert trials_per_gpu(gpus, 1000, cpus=64) == 3          # 90% of the smallest free memory
    assert trials_per_gpu(gpus, 1000, cpus=4) == 2           # one core per worker
    assert trials_per_gpu(gpus, 50_000, cpus=64) == 1        # at least one
    assert trials_per_gpu([], 1000) == 0


def test_worker_env_pins_bounds_and_shares_the_compile_cache(tmp_path):
    env = worker_env(Gpu(3, "u", 1000, 80_000), per_gpu=4, cache_dir=tmp_path, threads=2)
    assert env["CUDA_VISIBLE_DEVICES"] == "3" and env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" and env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert float(env["XLA_PYTHON_CLIENT_MEM_FRACTION"]) == pytest.approx(0.9 / 4)
    assert env["JAX_COMPILATION_CACHE_DIR"].startswith(str(tmp_path.resolve()))
    assert env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    cpu = worker_env(None, per_gpu=0, cache_dir=tmp_path, threads=1)
    assert cpu["CUDA_VISIBLE_DEVICES"] == "-1" and "TF_XLA_FLAGS" not in cpu and cpu["OMP_NUM_THREADS"] == "1"


def test_silence_limit_follows_the_longest_gap():
    limit = SilenceLimit()
    assert limit.seconds() == 600                     # before any epoch: a cold compile may take minutes
    limit.observe(4)
    assert limit.seconds() == 60                      # the floor
    limit.observe(30)
    assert limit.seconds() == 150                     # 5x the longest gap
    fixed = SilenceLimit(10)
    assert fixed.seconds() == 10
    fixed.observe(7)
    assert fixed.seconds() == 35                      # a slow worker raised it: no repeated false alarms


def test_the_launcher_sizes_workers_without_importing_a_backend():
    code = ("import sys; from training.sweep import build_parser, resolve; from training import launch; "
            "a = build_parser().parse_args(['--workers', '3']); s, st = resolve(a); "
            "p = launch.plan(a, s, st, trials=2); print(len(p.slots)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "2" and out[1] == "[]"  # no more workers than trials; no backend imported


def test_a_pinned_worker_names_its_gpu_or_warns_when_the_backend_sees_none(tmp_path):
    env = worker_env(Gpu(3, "GPU-x", 80000, 81559), per_gpu=4, cache_dir=tmp_path, threads=1)
    note, warning = describe_pinning("jax", ["cuda:0"], env)
    assert note == "physical GPU 3, memory share 18,350 MiB" and warning == ""   # 0.9 x 81,559 / 4
    note, warning = describe_pinning("torch", [], env)
    assert note == "" and warning.startswith("warning: the launcher gave this worker GPU 3, but torch sees no GPU")
    assert describe_pinning("jax", [], worker_env(None, per_gpu=0, cache_dir=tmp_path, threads=1)) == ("", "")
    assert describe_pinning("jax", [], {}) == ("", "")   # not started by the launcher: nothing to say
