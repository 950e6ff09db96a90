"""The sweep on a GPU box against bare Keras: trials/min and images/s, per Keras backend present.

In one run, for every backend installed (JAX, PyTorch, TensorFlow; a box with
JAX and PyTorch but no TensorFlow works: nothing here imports a backend, each
measurement runs in a child process with ``KERAS_BACKEND`` set):

- **images/s, bare Keras** ``fit`` of the sweep's CNN (``training/model.py``)
  at 32 px and 180 px (the Keras flowers tutorial's size), batch 128, fp32 and
  mixed precision (``mixed_float16`` on a GPU, ``mixed_bfloat16`` on the CPU);
  steady epochs only, the first (compilation) epoch reported apart.
- **trials/min, bare Keras ceiling**: trials drawn from the default space
  (learning rate, epochs, batch size) trained one after another in one
  process, and the same number split over the automatic parallelism's
  processes (pinned like the sweep's workers, sharing the compilation cache).
- **trials/min, the sweep**: ``python -m training.sweep`` with ``--workers 1``
  and with the automatic parallelism (every GPU times the trials that fit;
  ``--workers`` on the CPU), a random sweep over the default space on the
  built-in data, timed from the command's start to its end (start-up and
  compilation included), every trial checked COMPLETED.

The table goes to ``--out FILE`` as markdown and to ``FILE`` with ``.json``
(and to stdout).

When you have a GPU (about 5 minutes per backend on one H200)::

    python benchmarks/bench_gpu.py --out benchmarks/results/gpu-h200.md
    python benchmarks/bench_gpu.py --backends jax --out gpu-jax.md   # one backend

Target (issue 8): the 64-trial random sweep at >= 40 trials/min with the
automatic parallelism on one H200 (bare ceilings measured there before: 13.5
cold, 63.5 warm). On a CPU, ``--quick`` checks that everything runs (tiny
data, 4 trials, 2 workers).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BACKENDS = ("jax", "torch", "tensorflow")
SPACE = """\
method: random
metric: {{name: validation/epoch_accuracy, goal: maximize}}
seed: 0
parameters:
  learning_rate: {{distribution: log_uniform_values, min: 3.0e-4, max: 3.0e-2}}
  epochs: {{values: {epochs}}}
  batch_size: {{values: [16, 32, 64]}}
"""


def present_backends() -> list[str]:
    """Keras backends importable here (found, not imported)."""
    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


def draw_trials(n: int, epochs: list[int], seed: int = 0) -> list[dict]:
    """``n`` trials drawn like the default space: log-uniform learning rate, epochs and batch size from lists."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [{"learning_rate": float(np.exp(rng.uniform(np.log(3e-4), np.log(3e-2)))),
             "epochs": int(rng.choice(epochs)), "batch_size": int(rng.choice([16, 32, 64]))} for _ in range(n)]


# ----------------------------------------------------------------------------- children (one backend each)
def _child_images(spec: dict) -> dict:
    """Bare ``fit`` throughput of the CNN on random images: steady images/s and the first epoch's seconds."""
    import keras
    import numpy as np

    from training.model import build_model

    if spec["mixed"]:
        keras.mixed_precision.set_global_policy(spec["policy"])
    px, n = spec["px"], spec["n"]
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, px, px, 3), dtype=np.uint8).astype("float32")
    y = rng.integers(0, 5, size=n).astype("int32")
    model = build_model({}, image_size=px, num_classes=5, mixed_precision=spec["mixed"])
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x, y, batch_size=spec["batch"], epochs=spec["epochs"], verbose=0, callbacks=[Clock()])
    steady = statistics.median(times[1:]) if len(times) > 1 else times[0]
    return {"images_per_s": n / steady, "first_epoch_s": times[0]}


def _child_bare(spec: dict) -> dict:
    """Train ``spec['trials']`` one after another on the built-in data (hold-out 0.2), like a sweep's trials."""
    import keras

    from training.data import holdout_split, load_data
    from training.model import build_model

    data = load_data("builtin", image_size=spec["px"], samples_per_class=spec["samples"], seed=0,
                     cache_dir=spec["cache"])
    tr, va = holdout_split(len(data.y), 0.2, 0)
    start = time.perf_counter()
    for t in spec["trials"]:
        model = build_model(t, image_size=spec["px"], num_classes=len(data.class_names))
        model.fit(data.x[tr].astype("float32"), data.y[tr], validation_data=(data.x[va].astype("float32"),
                  data.y[va]), batch_size=t["batch_size"], epochs=t["epochs"], verbose=0)
        keras.backend.clear_session()
    return {"seconds": time.perf_counter() - start, "trials": len(spec["trials"])}


def _child_main(kind: str, spec_json: str) -> int:
    spec = json.loads(spec_json)
    result = {"images": _child_images, "bare": _child_bare}[kind](spec)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# ----------------------------------------------------------------------------- parent
def _env(backend: str, extra: dict | None = None) -> dict:
    return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT),
            **(extra or {})}


def _start_child(backend: str, kind: str, spec: dict, extra: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", kind, json.dumps(spec)],
                            env=_env(backend, extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)


def _result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    for line in reversed(out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    last = [line for line in out.splitlines() if line.strip()]
    return {"error": (last[-1] if last else f"exit status {proc.returncode}")[:200]}


def measure_images(backend: str, *, px: int, mixed: bool, gpu: bool, quick: bool) -> dict:
    """images/s of bare fit at ``px`` pixels."""
    n = (16 if px > 64 else 128) if quick else (2048 if px > 64 else 8192)
    spec = {"px": px, "n": n, "batch": (8 if px > 64 else 32) if quick else 128, "epochs": 2 if quick else 4,
            "mixed": mixed,
            "policy": "mixed_float16" if gpu else "mixed_bfloat16"}
    return _result(_start_child(backend, "images", spec))


def measure_bare(backend: str, trials: list[dict], *, slots: list, per_gpu: int, common: dict) -> dict:
    """trials/min of bare Keras: the trials split over ``slots`` processes (one slot: one after another)."""
    from training.devices import cpu_threads, worker_env

    start = time.perf_counter()
    procs = []
    for i, gpu in enumerate(slots):
        env = worker_env(gpu, per_gpu=per_gpu, cache_dir=Path(common["cache"]), threads=cpu_threads(len(slots)))
        procs.append(_start_child(backend, "bare", {**common, "trials": trials[i::len(slots)]}, env))
    results = [_result(p) for p in procs]
    seconds = time.perf_counter() - start
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return {"error": errors[0]}
    return {"trials_per_min": 60 * len(trials) / seconds, "seconds": seconds, "processes": len(slots)}


def measure_sweep(backend: str, *, trials: int, workers: int | None, space: Path, logdir: Path, extra: list[str]
                  ) -> dict:
    """trials/min of ``python -m training.sweep`` from start to end; checks every trial COMPLETED."""
    cmd = [sys.executable, "-m", "training.sweep", "--space", str(space), "--max-trials", str(trials), "--logdir",
           str(logdir), "--overwrite", "--no-report", "--quiet", *extra]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=_env(backend), capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    recorded = [json.loads(f.read_text()) for f in (logdir / ".keras_tuner" / "sweep").glob("trial_*/trial.json")]
    done = sum(t["status"] == "COMPLETED" for t in recorded)
    if proc.returncode != 0 or done != trials:
        # why: the first failed trial's exception (its last line), else the command's last line
        why = [(t.get("message") or "").strip().splitlines()[-1:] for t in recorded if t["status"] != "COMPLETED"]
        last = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
        reason = next((w[0] for w in why if w), (last or [""])[-1])
        return {"error": f"exit {proc.returncode}, {done}/{trials} completed: {reason[:160]}"}
    return {"trials_per_min": 60 * trials / seconds, "seconds": seconds}


def run(args: argparse.Namespace) -> dict:
    """Every measurement for every selected backend; returns the results as a dict."""
    from training.devices import trial_memory_mb, trials_per_gpu, visible_gpus
    from hparams_tools.space import load_space

    gpus = visible_gpus()
    tmp = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    cache = Path(args.cache_dir).resolve()
    epochs = [1, 2] if args.quick else [4, 8, 16]
    space = tmp / "space.yaml"
    space.write_text(SPACE.format(epochs=json.dumps(epochs)), encoding="utf-8")
    px, samples = (16, 8) if args.quick else (32, 250)
    data_args = ["--image-size", str(px), "--samples-per-class", str(samples), "--cache-dir", str(cache)]
    if gpus:
        per_gpu = trials_per_gpu(gpus, trial_memory_mb(load_space(space), image_size=px))
        slots = [gpus[i % len(gpus)] for i in range(per_gpu * len(gpus))]
        auto = None  # the sweep's own automatic parallelism
    else:
        per_gpu, slots, auto = 0, [None] * args.cpu_workers, args.cpu_workers
    out = {"machine": {"gpus": [g.__dict__ for g in gpus], "cpus": os.cpu_count(),
                       "parallel_slots": len(slots), "per_gpu": per_gpu},
           "settings": {"quick": args.quick, "trials": args.trials, "serial_trials": args.serial_trials,
                        "image_size": px, "samples_per_class": samples, "epochs": epochs}, "backends": {}}
    for backend in args.backends:
        row: dict = {}
        out["backends"][backend] = row
        for size in (32, 180):
            for mixed in (False, True):
                key = f"images_per_s_{size}px_{'mixed' if mixed else 'fp32'}"
                row[key] = measure_images(backend, px=size, mixed=mixed, gpu=bool(gpus), quick=args.quick)
                print(f"{backend} {key}: {row[key]}", flush=True)
        common = {"px": px, "samples": samples, "cache": str(cache)}
        serial = draw_trials(args.serial_trials, epochs)
        row["bare_serial"] = measure_bare(backend, serial, slots=[gpus[0] if gpus else None], per_gpu=1,
                                          common=common)
        print(f"{backend} bare_serial: {row['bare_serial']}", flush=True)
        row["bare_parallel"] = measure_bare(backend, draw_trials(args.trials, epochs), slots=slots,
                                            per_gpu=max(1, per_gpu), common=common)
        print(f"{backend} bare_parallel: {row['bare_parallel']}", flush=True)
        row["sweep_1_worker"] = measure_sweep(backend, trials=args.serial_trials, workers=1, space=space,
                                              logdir=tmp / f"{backend}-1", extra=data_args)
        print(f"{backend} sweep_1_worker: {row['sweep_1_worker']}", flush=True)
        row["sweep_parallel"] = measure_sweep(backend, trials=args.trials, workers=auto, space=space,
                                              logdir=tmp / f"{backend}-auto", extra=data_args)
        print(f"{backend} sweep_parallel: {row['sweep_parallel']}", flush=True)
    return out


def _cell(result: dict, key: str, fmt: str) -> str:
    return format(result[key], fmt) if key in result else f"error: {result.get('error', '?')}"


def markdown(results: dict) -> str:
    """The results as one markdown table (one row per backend)."""
    m = results["machine"]
    where = (", ".join(f"GPU {g['index']} ({g['total_mb']} MiB)" for g in m["gpus"]) or "no GPU") + \
        f", {m['cpus']} CPUs; parallelism {m['parallel_slots']} ({m['per_gpu']} per GPU)"
    s = results["settings"]
    lines = [f"machine: {where}; sweep: {s['trials']} trials (1 worker: {s['serial_trials']}), "
             f"{s['image_size']} px, {s['samples_per_class']}/class, epochs {s['epochs']}"
             + (" (--quick)" if s["quick"] else ""), "",
             "| backend | img/s 32px fp32 | 32px mixed | 180px fp32 | 180px mixed | bare trials/min serial | "
             "bare parallel | sweep 1 worker | sweep parallel |", "|---" * 9 + "|"]
    for backend, r in results["backends"].items():
        cells = [_cell(r[f"images_per_s_{k}"], "images_per_s", ",.0f")
                 for k in ("32px_fp32", "32px_mixed", "180px_fp32", "180px_mixed")]
        cells += [_cell(r[k], "trials_per_min", ".1f") for k in ("bare_serial", "bare_parallel", "sweep_1_worker",
                                                                 "sweep_parallel")]
        lines.append(f"| {backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write the table; returns 0."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1], argv[2])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backends", nargs="+", default=None, help=f"backends to measure (default: every one present "
                   f"of {', '.join(BACKENDS)})")
    p.add_argument("--out", required=True, help="markdown file to write (and FILE.json beside it)")
    p.add_argument("--trials", type=int, default=64, help="trials of the parallel sweep (default 64)")
    p.add_argument("--serial-trials", type=int, default=8, help="trials of the 1-worker runs (default 8)")
    p.add_argument("--cpu-workers", type=int, default=2, help="parallelism without a GPU (default 2)")
    p.add_argument("--cache-dir", default="logs/.cache", help="data and compilation caches (default logs/.cache)")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a check that it runs, e.g. on a CPU)")
    args = p.parse_args(argv)
    present = present_backends()
    args.backends = args.backends or present
    missing = [b for b in args.backends if b not in present]
    if missing:
        print(f"bench_gpu: error: backend(s) not installed: {', '.join(missing)} (present: {', '.join(present)})",
              file=sys.stderr)
        return 2
    if args.quick and args.trials == 64:
        args.trials, args.serial_trials = 4, 2
    results = run(args)
    table = markdown(results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
