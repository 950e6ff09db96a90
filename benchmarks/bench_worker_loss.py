"""Worker loss on loopback: a chief and 2 workers, one killed with -9 mid-trial and not restarted.

Baseline: the same sweep (``python -m training.sweep --workers 2``, chief and
workers over 127.0.0.1) without the loss, measured in the same run. Then
``tuner0`` is killed with SIGKILL after the first epoch of its first trial,
with ``--max-restarts 0``: the chief re-queues its trial once the silence limit
passes (the default adaptive limit unless ``--worker-timeout`` is given) and
``tuner1`` finishes the sweep alone. Printed: both wall times, the ratio, and
whether every trial completed exactly once.

Target (issue 8): every trial completes, in at most 2x the time without the loss.

    python benchmarks/bench_worker_loss.py                 # default: 8 trials, 32 px, 50 images/class
    python benchmarks/bench_worker_loss.py --worker-timeout 30
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPACE = """\
method: random
max_trials: {trials}
seed: 0
parameters:
  learning_rate: {{distribution: log_uniform_values, min: 3.0e-4, max: 3.0e-2}}
  epochs: {{values: [4, 8]}}
  batch_size: {{values: [16, 32, 64]}}
"""


def _sweep(args: argparse.Namespace, logdir: Path, space: Path, kill: bool) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "training.sweep", "--workers", "2", "--space", str(space), "--logdir", str(logdir),
           "--image-size", str(args.image_size), "--samples-per-class", str(args.samples_per_class),
           "--cache-dir", args.cache_dir, "--no-report", "--quiet"]
    if kill:
        cmd += ["--max-restarts", "0"]
    if args.worker_timeout:
        cmd += ["--worker-timeout", str(args.worker_timeout)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed = None
    heartbeat = logdir / ".keras_tuner" / "heartbeats" / "tuner0.json"
    while kill and killed is None and proc.poll() is None:
        try:
            beat = json.loads(heartbeat.read_text())
        except (OSError, ValueError):
            beat = {"beat": 0}
        if beat["beat"] >= 2:  # its trial started and one epoch is done
            os.kill(beat["pid"], signal.SIGKILL)
            killed = (beat["trial"], time.perf_counter() - start)
        time.sleep(0.1)
    out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    statuses = {}
    for f in (logdir / ".keras_tuner" / "sweep").glob("trial_*/trial.json"):
        t = json.loads(f.read_text())
        statuses[t["trial_id"]] = t["status"]
    sessions = sorted(p.name for p in logdir.glob("trial-*"))
    return {"seconds": seconds, "rc": proc.returncode, "completed": list(statuses.values()).count("COMPLETED"),
            "sessions": len(sessions), "killed": killed,
            "requeue": [line for line in out.splitlines() if "re-queued" in line or "not restarted" in line]}


def main(argv: list[str] | None = None) -> int:
    """Run both sweeps; print times and the ratio; returns 0 when the target is met, 1 otherwise."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--samples-per-class", type=int, default=50)
    p.add_argument("--worker-timeout", type=float, help="passed to the sweep (default: its adaptive limit)")
    p.add_argument("--cache-dir", default=str(ROOT / "logs" / ".cache"))
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-loss-"))
    space = tmp / "space.yaml"
    space.write_text(SPACE.format(trials=args.trials), encoding="utf-8")
    base = _sweep(args, tmp / "baseline", space, kill=False)
    print(f"baseline (2 workers, no loss): {base['seconds']:.1f} s, {base['completed']}/{args.trials} completed, "
          f"{base['sessions']} sessions, exit {base['rc']}", flush=True)
    loss = _sweep(args, tmp / "loss", space, kill=True)
    print(f"tuner0 killed -9 in trial {loss['killed'][0]} at {loss['killed'][1]:.1f} s, not restarted"
          if loss["killed"] else "tuner0 was never seen mid-trial (not killed)")
    for line in loss["requeue"]:
        print(f"  {line}")
    print(f"with the loss: {loss['seconds']:.1f} s, {loss['completed']}/{args.trials} completed, "
          f"{loss['sessions']} sessions, exit {loss['rc']}")
    ratio = loss["seconds"] / base["seconds"]
    ok = (loss["killed"] is not None and loss["rc"] == 0 and loss["completed"] == loss["sessions"] == args.trials
          and ratio <= 2)
    print(f"ratio (loss / baseline): {ratio:.2f}  (target <= 2 with every trial complete once: "
          f"{'met' if ok else 'NOT met'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
