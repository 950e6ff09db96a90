"""Trials in parallel on one box, and no trial lost: real chief/worker processes over 127.0.0.1, real signals.

Each test runs a tiny sweep (8 images per class, 16 px) through ``python -m training.sweep --workers 2`` and,
for the fault tests, kills (-9) or pauses a real worker in the middle of a trial, found through the heartbeat
file the worker writes after every epoch.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sweep_helpers import ROOT, tuner_trials, write_space

SPACE = """\
method: random
max_trials: 4
seed: 3
parameters:
  learning_rate: {distribution: log_uniform_values, min: 1.0e-3, max: 1.0e-2}
  epochs: {value: EPOCHS}
  batch_size: {values: [8, 16]}
"""


class Sweep:
    """``python -m training.sweep`` running in the background, its output collected line by line."""

    def __init__(self, args: list, env: dict | None = None) -> None:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), **(env or {})}
        for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID", "CUDA_VISIBLE_DEVICES"):
            env.pop(name, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "training.sweep", *map(str, args)], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait(self, timeout: float = 900) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=30)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_until(condition, what: str, sweep: Sweep, limit: float = 600):
    """Poll ``condition()`` until it returns something truthy (the sweep must still be running)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert sweep.proc.poll() is None, f"sweep ended before {what}:\n{sweep.output[-3000:]}"
        time.sleep(0.1)
    raise AssertionError(f"no {what} after {limit} s:\n{sweep.output[-3000:]}")


def mid_trial(logdir: Path, tuner: str):
    """(trial id, pid) once ``tuner`` has finished the first epoch of a trial (its heartbeat's second beat)."""
    try:
        beat = json.loads((logdir / ".keras_tuner" / "heartbeats" / f"{tuner}.json").read_text())
    except (OSError, ValueError):
        return None
    return (beat["trial"], beat["pid"]) if beat["beat"] >= 2 else None


def ran_by(output: str, tuner: str) -> set[str]:
    """Trial ids a worker reported as finished in its progress lines."""
    return set(re.findall(rf"^\[{tuner}\] trial (\d+) \(", output, re.M))


def assert_every_trial_once(logdir: Path, output: str, reference, trials: int = 4) -> dict:
    """Every trial COMPLETED, exactly one SUCCESS session each, counted once by the chief."""
    kt = tuner_trials(logdir)
    assert len(kt) == trials and {t["status"] for t in kt.values()} == {"COMPLETED"}, output[-3000:]
    tb = reference.assert_matches_tensorboard(logdir)
    assert sorted(tb["sessions"]) == sorted(f"trial-{t}" for t in kt)
    assert all(s["status"] == "SUCCESS" for s in tb["sessions"].values())
    for t in kt:  # a rerun replaced the partial session instead of adding a second event file
        assert len(list((logdir / f"trial-{t}").glob("events.out.tfevents.*"))) == 1, t
    chief = re.findall(r"^\[chief\] trial (\d+)/(\d+) \[(\d+)\]", output, re.M)
    assert sorted(c[2] for c in chief) == sorted(kt) and [int(c[0]) for c in chief] == list(range(1, trials + 1))
    assert len(re.findall(r"^\[chief\] finished in ", output, re.M)) == 1
    return kt


def sweep_args(tmp_path: Path, data_cache: Path, epochs: int, *extra) -> tuple[Path, list]:
    space = write_space(tmp_path / "space.yaml", SPACE.replace("EPOCHS", str(epochs)))
    logdir = tmp_path / "logs"
    return logdir, ["--workers", "2", "--space", space, "--logdir", logdir, "--samples-per-class", "8",
                    "--image-size", "16", "--cache-dir", data_cache, "--no-report", *extra]


@pytest.mark.slow
def test_two_workers_on_cpu_finish_every_trial_once(tmp_path, data_cache, reference):
    logdir, args = sweep_args(tmp_path, data_cache, 2)
    sweep = Sweep(args)
    try:
        assert sweep.wait() == 0, sweep.output[-3000:]
    finally:
        sweep.kill()
    out = sweep.output
    kt = assert_every_trial_once(logdir, out, reference)
    assert "[launch] 2 workers on the CPU" in out
    assert ran_by(out, "tuner0") and ran_by(out, "tuner1") and not ran_by(out, "tuner0") & ran_by(out, "tuner1")
    assert ran_by(out, "tuner0") | ran_by(out, "tuner1") == set(kt)
    assert all(re.match(r"\[(chief|tuner\d|launch)\] ", line) for line in out.splitlines())  # whole, prefixed


# A stand-in for the one GPU tool the launcher asks (this machine has no GPU): two 80 GB GPUs, as
# `nvidia-smi --query-gpu=index,uuid,memory.free,memory.total --format=csv,noheader,nounits` prints them.
FAKE_NVIDIA_SMI = """#!/bin/sh
echo "0, GPU-00000000-fake, 80000, 81559"
echo "1, GPU-11111111-fake, 80000, 81559"
"""


@pytest.mark.slow
def test_with_gpus_visible_the_default_command_runs_trials_in_parallel(tmp_path, data_cache, reference):
    """The GPU-box path end to end on the CPU: sized from nvidia-smi, one worker per slot pinned round-robin.

    The backends here are CPU builds, so each pinned worker must say it sees no GPU and train on the CPU.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text(FAKE_NVIDIA_SMI)
    (bin_dir / "nvidia-smi").chmod(0o755)
    logdir, args = sweep_args(tmp_path, data_cache, 2)
    args = args[2:]  # no --workers: the GPUs decide
    sweep = Sweep(args, env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    try:
        assert sweep.wait() == 0, sweep.output[-3000:]
    finally:
        sweep.kill()
    out = sweep.output
    launch = re.search(r"^\[launch\] (\d+) workers on 2 GPU\(s\) \[0, 1\], (\d+) per GPU", out, re.M)
    assert launch, out[-3000:]
    workers = int(launch[1])
    assert 2 <= workers <= 4 and int(launch[2]) == -(-workers // 2)  # >= 1 per GPU, capped by the 4 trials
    pinned = dict(re.findall(r"^\[(tuner\d+)\] warning: the launcher gave this worker GPU (\d+), but \w+ sees "
                             r"no GPU", out, re.M))
    assert pinned == {f"tuner{i}": str(i % 2) for i in range(workers)}, out[-3000:]  # round-robin over the GPUs
    kt = assert_every_trial_once(logdir, out, reference)
    assert set().union(*(ran_by(out, t) for t in pinned)) == set(kt)


def signal_mid_trial(args: list, logdir: Path, sig: int, after=None) -> tuple[str, str]:
    """Run the sweep, send ``sig`` to tuner0 after the first epoch of its trial, run ``after(sweep, trial, pid)``,
    wait for the end (status 0). Returns (output, trial id)."""
    sweep = Sweep(args)
    try:
        trial, pid = wait_until(lambda: mid_trial(logdir, "tuner0"), "tuner0 in a trial", sweep)
        os.kill(pid, sig)
        if after is not None:
            after(sweep, trial, pid)
        assert sweep.wait() == 0, sweep.output[-3000:]
    finally:
        sweep.kill()
    return sweep.output, trial


@pytest.mark.slow
def test_worker_killed_mid_trial_is_restarted_and_finishes_its_trial(tmp_path, data_cache, reference):
    # a long silence limit: the restart, not the chief's re-queue, must save the trial
    logdir, args = sweep_args(tmp_path, data_cache, 4, "--worker-timeout", 600)
    out, trial = signal_mid_trial(args, logdir, signal.SIGKILL)
    assert "[launch] tuner0 was killed by signal 9; restarting it (1 of 3)" in out
    assert_every_trial_once(logdir, out, reference)
    assert trial in ran_by(out, "tuner0")  # keras-tuner handed the returning tuner id its own trial
    assert trial not in ran_by(out, "tuner1") and "re-queued" not in out


@pytest.mark.slow
def test_worker_killed_and_not_restarted_loses_no_trial(tmp_path, data_cache, reference):
    # a silence limit longer than the test's patience: the launcher's report, not the limit, re-queues the trial
    logdir, args = sweep_args(tmp_path, data_cache, 4, "--max-restarts", 0, "--worker-timeout", 3600)
    out, trial = signal_mid_trial(args, logdir, signal.SIGKILL)
    assert "[launch] tuner0 was killed by signal 9; not restarted" in out
    assert re.search(rf"^\[chief\] tuner0 was killed by signal 9 and will not be restarted: trial {trial} re-queued$",
                     out, re.M), out[-3000:]
    assert not list((logdir / ".keras_tuner" / "gone").iterdir())   # the chief read the report once
    assert_every_trial_once(logdir, out, reference)
    assert trial in ran_by(out, "tuner1") and trial not in ran_by(out, "tuner0")


@pytest.mark.slow
def test_worker_back_after_its_trial_was_requeued_drops_its_result(tmp_path, data_cache, reference):
    logdir, args = sweep_args(tmp_path, data_cache, 4, "--worker-timeout", 15)

    def resume_after_requeue(sweep: Sweep, trial: str, pid: int) -> None:
        try:  # paused: alive but silent (a hung GPU, a swapped-out process) until the chief gives its trial away
            wait_until(lambda: re.search(rf"^\[chief\] tuner0 silent .*: trial {trial} re-queued$", sweep.output,
                                         re.M), "re-queue", sweep)
        finally:
            os.kill(pid, signal.SIGCONT)

    out, trial = signal_mid_trial(args, logdir, signal.SIGSTOP, resume_after_requeue)
    assert_every_trial_once(logdir, out, reference)
    assert re.search(rf"^\[tuner0\] trial {trial} dropped: the chief re-queued it", out, re.M), out[-3000:]


def test_a_gone_report_is_read_once_and_a_partial_one_waits(tmp_path):
    from training.gone import GONE, report_gone, take_gone_reports

    report_gone(tmp_path, "tuner1", "was killed by signal 9")
    (tmp_path / GONE / "tuner2.json").write_text('{"ho')          # being written: left for the next pass
    assert take_gone_reports(tmp_path) == {"tuner1": "was killed by signal 9 and will not be restarted"}
    assert take_gone_reports(tmp_path) == {}
    assert take_gone_reports(tmp_path / "nowhere") == {}         # no report yet: no directory either


def test_a_process_that_ended_is_gone_even_as_a_zombie():
    from training.gone import local_process_gone

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not local_process_gone(child.pid)           # running
        child.kill()
        deadline = time.monotonic() + 30
        while not local_process_gone(child.pid):           # killed, not yet waited for: a zombie
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        child.wait()
    assert local_process_gone(child.pid)                   # reaped: no such process
    assert not local_process_gone(1)                       # init runs (as another user's process would)


def test_processes_of_one_machine_share_a_pid_space():
    from training.gone import pid_space

    here = pid_space()
    child = subprocess.run([sys.executable, "-c", "from training.gone import pid_space; print(pid_space())"],
                           capture_output=True, text=True, check=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.strip()
    assert here and child == here and "/pid:[" in here


def test_a_worker_waits_for_a_listening_chief_and_gives_up_on_a_silent_one():
    import socket

    from training.errors import ChiefGoneError
    from training.gone import wait_for_chief

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        wait_for_chief(server.getsockname(), patience=0.5, poll=0.1)      # answers: returns at once
        address = server.getsockname()
    with pytest.raises(ChiefGoneError, match=rf"the chief at 127.0.0.1:{address[1]} has not answered for 0 s"):
        wait_for_chief(address, patience=0.5, poll=0.1)                    # nobody listens any more
