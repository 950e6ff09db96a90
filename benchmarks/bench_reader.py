"""Benchmark the event-file reader against tbparse, TensorBoard's HParams backend and a bare floor.

Generates Keras-style logdirs (each session: start/end info at the run root, ``train/`` and
``validation/`` with ``epoch_accuracy`` and ``epoch_loss`` as tensor scalars for 20 epochs),
cached under the temp directory, then measures, each run in a fresh subprocess:

* ``ours``        ``read_experiment(logdir)`` + ``table()`` + ``scalars`` (default workers);
* ``ours-1proc``  the same with ``workers=1``;
* ``reread``      ``reload()`` of the unchanged logdir right after the cold read (same process);
* ``floor``       read every event file and parse every ``Event`` proto, nothing else, one process;
* ``tbparse``     ``SummaryReader(logdir, extra_columns={"dir_name", "wall_time"})`` ``.hparams`` and ``.tensors``;
* ``tensorboard`` TensorBoard's own HParams backend (multiplexer + data provider, as its tests
  build it) listing all session groups with metrics.

Wall times exclude interpreter start and imports (tbparse and TensorBoard import TensorFlow);
CPU seconds count the child and its worker processes. Peak memory is the child's
``ru_maxrss`` (and, for ours, the largest worker's).

Usage::

    python benchmarks/bench_reader.py                      # 1,000 and 10,000 sessions
    python benchmarks/bench_reader.py --sizes 1000 --repeats 3
    python benchmarks/bench_reader.py --skip tbparse --slow-cap 120
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EPOCHS = 20
FAST = ("ours", "ours-1proc", "floor")
SLOW = ("tbparse", "tensorboard")


# -- logdir generation ------------------------------------------------------------------------
def generate(n_sessions: int, cache: Path) -> Path:
    """Create (once) a Keras-style logdir with ``n_sessions`` sessions; return its path."""
    from hparams_tools.io.writer import write_session

    logdir = cache / f"keras_{n_sessions}"
    done = logdir / ".complete"
    if done.exists():
        return logdir
    print(f"generating {n_sessions} sessions in {logdir} ...", flush=True)
    rng = random.Random(n_sessions)
    for i in range(n_sessions):
        hp = {
            "learning_rate": 10 ** rng.uniform(-4, -1),
            "units": rng.choice([32, 64, 128]),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
            "dropout": rng.uniform(0.0, 0.5),
        }
        acc = [min(1.0, 0.3 + 0.03 * e + rng.uniform(-0.05, 0.05)) for e in range(EPOCHS)]
        loss = [max(0.0, 2.0 - 0.08 * e + rng.uniform(-0.1, 0.1)) for e in range(EPOCHS)]
        write_session(
            logdir / f"run-{i:05d}",
            hp,
            start_time=1.7e9 + i,
            end_time=1.7e9 + i + 60,
            scalars={
                "train": {"epoch_accuracy": acc, "epoch_loss": loss},
                "validation": {"epoch_accuracy": [a - 0.05 for a in acc], "epoch_loss": [x + 0.1 for x in loss]},
            },
        )
    done.write_text("ok")
    return logdir


# -- contenders (run in a child process) ------------------------------------------------------
def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the reader's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child_ours(logdir: str, workers: int | None) -> dict:
    from hparams_tools.io.read import read_experiment  # imports (pandas...) before the clock

    t0, c0 = time.perf_counter(), _cpu()
    exp = read_experiment(logdir, workers=workers)
    table = exp.table()
    scalars = exp.scalars
    t1, c1 = time.perf_counter(), _cpu()
    exp.reload()
    exp.table()
    t2 = time.perf_counter()
    return {"seconds": t1 - t0, "cpu": c1 - c0, "reread": t2 - t1, "sessions": len(table), "values": len(scalars)}


def child_floor(logdir: str) -> dict:
    import struct

    from tensorboard.compat.proto import event_pb2

    t0, c0 = time.perf_counter(), _cpu()
    parse = event_pb2.Event.FromString
    unpack = struct.Struct("<Q").unpack_from
    n = 0
    for dirpath, _dirs, files in os.walk(logdir):
        for name in files:
            if "tfevents" not in name:
                continue
            with open(os.path.join(dirpath, name), "rb") as fh:
                data = fh.read()
            pos = 0
            while pos + 12 <= len(data):
                (length,) = unpack(data, pos)
                parse(data[pos + 12 : pos + 12 + length])
                n += 1
                pos += 16 + length
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "records": n}


def child_tbparse(logdir: str) -> dict:
    from tbparse import SummaryReader

    t0, c0 = time.perf_counter(), _cpu()
    reader = SummaryReader(logdir, extra_columns={"dir_name", "wall_time"})
    hparams = reader.hparams
    tensors = reader.tensors
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "hparams_rows": len(hparams),
            "tensor_rows": len(tensors)}


def child_tensorboard(logdir: str) -> dict:
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, list_session_groups

    t0, c0 = time.perf_counter(), _cpu()
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, logdir)
    ctx = backend_context.Context(base_plugin.TBContext(logdir=logdir, multiplexer=mux, data_provider=provider))
    request = api_pb2.ListSessionGroupsRequest(
        start_index=0, slice_size=10**9, allowed_statuses=[0, 1, 2, 3]
    )
    response = list_session_groups.Handler(context.RequestContext(), ctx, "", request).run()
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "groups": response.total_size}


def run_child(args: argparse.Namespace) -> None:
    fn = {
        "ours": lambda d: child_ours(d, None),
        "ours-1proc": lambda d: child_ours(d, 1),
        "floor": child_floor,
        "tbparse": child_tbparse,
        "tensorboard": child_tensorboard,
    }[args.child]
    result = fn(args.logdir)
    own, kids = _peak_mb()
    result.update(peak_mb=own, workers_peak_mb=kids)
    print("RESULT " + json.dumps(result), flush=True)


# -- driver ------------------------------------------------------------------------------------
def measure(contender: str, logdir: Path, timeout: float | None) -> dict | None:
    cmd = [sys.executable, __file__, "--child", contender, "--logdir", str(logdir)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=True).stdout
    except subprocess.TimeoutExpired:
        return None
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated session counts (default 1000,10000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of ours/floor per size; median reported (default 5)")
    parser.add_argument("--slow-repeats", type=int, default=1, help="runs of tbparse/TensorBoard per size (default 1)")
    parser.add_argument("--skip", default="", help="comma-separated contenders to skip (tbparse, tensorboard)")
    parser.add_argument("--slow-cap", type=float, default=900.0,
                        help="seconds after which a tbparse/TensorBoard run is abandoned and reported as '>cap'")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hparams_tools_bench",
                        help="where generated logdirs are kept between runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--logdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args)
        return 0

    args.cache.mkdir(parents=True, exist_ok=True)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for size in (int(s) for s in args.sizes.split(",")):
        logdir = generate(size, args.cache)
        n_bytes = sum(f.stat().st_size for f in logdir.rglob("events.out.tfevents*"))
        print(f"\n== {size} sessions, {n_bytes / 1e6:.1f} MB of event files ==", flush=True)
        results: dict[str, list[dict]] = {}
        for contender in FAST + SLOW:
            if contender in skip:
                continue
            slow = contender in SLOW
            runs = []
            for _ in range(args.slow_repeats if slow else args.repeats):
                r = measure(contender, logdir, args.slow_cap if slow else None)
                if r is None:
                    print(f"  {contender}: over the {args.slow_cap:.0f} s cap, abandoned", flush=True)
                    break
                runs.append(r)
            if runs:
                results[contender] = runs
                med = statistics.median(r["seconds"] for r in runs)
                times = ", ".join(f"{r['seconds']:.3f}" for r in runs)
                peak = max(r["peak_mb"] for r in runs)
                cpu = statistics.median(r["cpu"] for r in runs)
                print(f"  {contender:12s} {med:8.3f} s wall  {cpu:8.3f} s CPU  peak {peak:5.0f} MB  (runs: {times})",
                      flush=True)
        _report(results)
    return 0


def _report(results: dict[str, list[dict]]) -> None:
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    print("  --")
    if "ours" in results:
        ours = results["ours"]
        reread = statistics.median(r["reread"] for r in ours)
        print(f"  ours: cold {med['ours']:.3f} s, unchanged re-read {reread:.3f} s "
              f"= {100 * reread / med['ours']:.1f}% of cold (target < 10%)")
        print(f"  ours peak memory {max(r['peak_mb'] for r in ours):.0f} MB main process, "
              f"{max(r['workers_peak_mb'] for r in ours):.0f} MB largest worker (target < 300 MB)")
        if "floor" in med:
            print(f"  ours / floor = {med['ours'] / med['floor']:.2f}x wall (target <= 1.5x); "
                  f"ours-1proc / floor = {med.get('ours-1proc', float('nan')) / med['floor']:.2f}x wall")
            cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in results.items()}
            print(f"  CPU seconds (all processes): ours {cpu['ours']:.2f}, ours-1proc "
                  f"{cpu.get('ours-1proc', float('nan')):.2f}, floor {cpu['floor']:.2f} "
                  "(wall exceeds CPU when other jobs share the CPUs)")
        for other in SLOW:
            if other in med:
                print(f"  {other} / ours = {med[other] / med['ours']:.1f}x slower "
                      f"(peak {max(r['peak_mb'] for r in results[other]):.0f} MB)")


if __name__ == "__main__":
    sys.exit(main())
