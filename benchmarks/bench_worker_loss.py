"""Worker loss on loopback: a chief and 2 workers, one lost mid-trial and not restarted.

Baseline: the same sweep (``python -m training.sweep --workers 2``, chief and
workers over 127.0.0.1) without the loss, measured in the same run. Then two
losses of ``tuner0`` after the first epoch of its first trial, with
``--max-restarts 0``:

* **killed** (SIGKILL): the launcher sees the process die and reports it; the
  chief re-queues its trial at once (``training/gone.py``);
* **hung** (SIGSTOP, alive but silent, as a hung GPU or a worker on another
  machine whose network went away): only the chief's silence limit catches it
  (the default adaptive limit unless ``--worker-timeout`` is given). The paused
  worker is let go (SIGCONT) once the chief has finished, and drops its stale
  trial; the time counted is until the chief's ``finished`` line.

``tuner1`` finishes each sweep alone. Printed: the wall times, the ratios, and
whether every trial completed exactly once.

Target (issue 8): every trial completes, in at most 2x the time without the loss.

    python benchmarks/bench_worker_loss.py                 # default: 8 trials, 32 px, 50 images/class
    python benchmarks/bench_worker_loss.py --worker-timeout 30
    python benchmarks/bench_worker_loss.py --by-hand       # chief and workers started by hand, no launcher
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.launch import free_port  # noqa: E402

SPACE = """\
method: random
max_trials: {trials}
seed: 0
parameters:
  learning_rate: {{distribution: log_uniform_values, min: 3.0e-4, max: 3.0e-2}}
  epochs: {{values: [4, 8]}}
  batch_size: {{values: [16, 32, 64]}}
"""


def _sweep(args: argparse.Namespace, logdir: Path, space: Path, loss: str | None) -> dict:
    """Run one sweep; ``loss`` None, "killed" or "hung" (what happens to tuner0 after its first epoch)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "training.sweep", "--space", str(space), "--logdir", str(logdir),
           "--image-size", str(args.image_size), "--samples-per-class", str(args.samples_per_class),
           "--cache-dir", args.cache_dir, "--no-report"]
    if args.worker_timeout:
        cmd += ["--worker-timeout", str(args.worker_timeout)]
    if args.by_hand:  # keras-tuner's own way: three processes and its env variables, no launcher
        env.update(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(free_port()))
        roles = ["chief", "tuner0", "tuner1"]
    else:
        cmd += ["--workers", "2"] + (["--max-restarts", "0"] if loss else [])
        roles = [None]
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, env={**env, "KERASTUNER_TUNER_ID": role} if role else env, cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for role in roles]
    proc = procs[0]  # the launcher, or the chief
    lines: list[str] = []
    finished: list[float] = []

    def read(stream: Any) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))
            if re.match(r"(\[chief\] )?finished in ", line):
                finished.append(time.perf_counter() - start)

    readers = [threading.Thread(target=read, args=(p.stdout,), daemon=True) for p in procs]
    for reader in readers:
        reader.start()
    hit = None
    heartbeat = logdir / ".keras_tuner" / "heartbeats" / "tuner0.json"
    while loss and hit is None and proc.poll() is None:
        try:
            beat = json.loads(heartbeat.read_text())
        except (OSError, ValueError):
            beat = {"beat": 0}
        if beat["beat"] >= 2:  # its trial started and one epoch is done
            os.kill(beat["pid"], signal.SIGKILL if loss == "killed" else signal.SIGSTOP)
            hit = (beat["trial"], time.perf_counter() - start, beat["pid"])
        time.sleep(0.1)
    if loss == "hung" and hit is not None:
        while not finished and proc.poll() is None:
            time.sleep(0.1)
        os.kill(hit[2], signal.SIGCONT)  # the sweep is done; let the stale worker find out and leave
    for p in procs:
        p.wait()
    for reader in readers:
        reader.join(timeout=30)
    seconds = finished[0] if finished else time.perf_counter() - start
    statuses = {}
    for f in (logdir / ".keras_tuner" / "sweep").glob("trial_*/trial.json"):
        t = json.loads(f.read_text())
        statuses[t["trial_id"]] = t["status"]
    sessions = sorted(p.name for p in logdir.glob("trial-*"))
    return {"seconds": seconds, "exit_seconds": time.perf_counter() - start, "rc": proc.returncode,
            "completed": list(statuses.values()).count("COMPLETED"), "sessions": len(sessions), "hit": hit,
            "requeue": [line for line in lines if "re-queued" in line or "not restarted" in line]}


def main(argv: list[str] | None = None) -> int:
    """Run both sweeps; print times and the ratio; returns 0 when the target is met, 1 otherwise."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--samples-per-class", type=int, default=50)
    p.add_argument("--worker-timeout", type=float, help="passed to the sweep (default: its adaptive limit)")
    p.add_argument("--cache-dir", default=str(ROOT / "logs" / ".cache"))
    p.add_argument("--by-hand", action="store_true", help="start the chief and both workers by hand (keras-tuner's "
                   "KERASTUNER_* variables) instead of through the launcher: nobody restarts or reports a worker")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-loss-"))
    space = tmp / "space.yaml"
    space.write_text(SPACE.format(trials=args.trials), encoding="utf-8")
    base = _sweep(args, tmp / "baseline", space, loss=None)
    print(f"baseline (2 workers{' started by hand' if args.by_hand else ''}, no loss): {base['seconds']:.1f} s to the chief's end, {base['completed']}/"
          f"{args.trials} completed, {base['sessions']} sessions, exit {base['rc']}", flush=True)
    met = True
    for loss in ("killed", "hung"):
        run = _sweep(args, tmp / loss, space, loss=loss)
        how = "killed -9" if loss == "killed" else "paused (SIGSTOP)"
        print(f"tuner0 {how} in trial {run['hit'][0]} at {run['hit'][1]:.1f} s, not restarted"
              if run["hit"] else f"tuner0 was never seen mid-trial (not {loss})")
        for line in run["requeue"]:
            print(f"  {line}")
        ratio = run["seconds"] / base["seconds"]
        ok = (run["hit"] is not None and run["rc"] == 0 and run["completed"] == run["sessions"] == args.trials
              and ratio <= 2)
        met = met and ok
        print(f"{loss}: {run['seconds']:.1f} s to the chief's end (process exit {run['exit_seconds']:.1f} s), "
              f"{run['completed']}/{args.trials} completed, {run['sessions']} sessions, exit {run['rc']}; "
              f"ratio {ratio:.2f} (target <= 2 with every trial complete once: {'met' if ok else 'NOT met'})",
              flush=True)
    return 0 if met else 1

if __name__ == "__main__":
    sys.exit(main())
