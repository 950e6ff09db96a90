"""No trial lost: leases on trials, heartbeats from workers, and the chief's serving loop with a watchdog.

keras-tuner's chief hands a trial to a tuner id and waits for its result; a
worker that dies or hangs keeps its trial forever and the sweep never ends.
Here (all state in files below ``<logdir>/.keras_tuner``, so it works for
workers on other machines sharing the logdir):

- **Heartbeats.** A worker writes ``heartbeats/<tuner id>.json`` (trial id,
  a counter, its pid) when a trial starts and after every epoch. The chief
  notes, on its own clock, when each file last changed; a worker's
  ``create_trial`` call counts as a sign of life too.
- **Silence limit.** ``max(S, 5 x the longest gap between two heartbeats of
  one trial seen in this sweep)`` with ``S = --worker-timeout`` (default 60 s);
  a gap covers one epoch, or a model build and compile plus its first epoch.
  Before any gap has been seen it is 10 minutes (first compilation on a cold
  GPU box), or ``S`` when given. A worker that was only slow and beats again
  after losing its trial teaches the limit its gap, so on a slow or
  overloaded machine false alarms stop instead of repeating.
- **Re-queue.** A worker silent past the limit loses its trial: the chief puts
  it back in keras-tuner's retry queue (the next tuner to ask runs it, replacing
  the partial session directory) and forgets the tuner id, so the sweep can end
  without it. A local worker that died is restarted by the launcher long
  before that with the same tuner id, and keras-tuner hands it its own trial.
- **Gone.** A local worker that died and will not be restarted (past
  ``--max-restarts``) is reported by the launcher; one started by hand on the
  chief's machine is found dead through the pid in its heartbeat
  (:mod:`training.gone`). Either way the chief re-queues its trial at its next
  pass instead of waiting for the silence limit.
- **Leases.** ``owners.json`` maps each running trial to its tuner id. A worker
  checks it after every epoch and before reporting: a worker whose trial was
  re-queued (it was only slow, or paused) stops it and drops its result; the
  chief ignores results for trials nobody holds. Every trial completes once.
"""

from __future__ import annotations

import json
import os
import time
from concurrent import futures
from pathlib import Path
from typing import Any, Callable

import keras
import keras_tuner as kt
from keras_tuner.src.engine import trial as trial_module

from hparams_tools._files import atomic_write

from .gone import SUPERVISED_ENV, local_process_gone, pid_space, take_gone_reports

__all__ = ["SilenceLimit", "Lease", "TrialRevoked", "serve", "HEARTBEATS", "OWNERS"]

HEARTBEATS = "heartbeats"
OWNERS = "owners.json"
_DONE = ("COMPLETED", "FAILED", "INVALID")


class TrialRevoked(Exception):
    """This worker's trial was re-queued by the chief (the worker was silent too long): drop it."""


# ----------------------------------------------------------------------------- worker side
class Lease:
    """A worker's side: heartbeats for its trials, and whether it still holds a trial.

    Args:
        state_dir: ``<logdir>/.keras_tuner``.
        tuner_id: This worker's ``KERASTUNER_TUNER_ID``.
    """

    def __init__(self, state_dir: Path, tuner_id: str) -> None:
        self.state_dir = Path(state_dir)
        self.tuner_id = tuner_id
        self._count = 0
        # who this process is, for the chief's pid check (training.gone): the same for every beat
        self._identity = {"pid": os.getpid(), "pid_space": pid_space(),
                          "supervised": bool(os.environ.get(SUPERVISED_ENV))}

    def beat(self, trial_id: str) -> None:
        """Tell the chief this worker is alive and working on ``trial_id``."""
        self._count += 1
        path = self.state_dir / HEARTBEATS / f"{self.tuner_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as fh:
            json.dump({"trial": trial_id, "beat": self._count, **self._identity}, fh)

    def holds(self, trial_id: str) -> bool:
        """True while the chief's ``owners.json`` gives ``trial_id`` to this worker (or cannot be read)."""
        try:
            owners = json.loads((self.state_dir / OWNERS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return True  # no lease file (an older chief, a moment of rename): assume the trial is ours
        return owners.get(trial_id) == self.tuner_id

    def check(self, trial_id: str) -> None:
        """Raise :class:`TrialRevoked` when the trial was given away."""
        if not self.holds(trial_id):
            raise TrialRevoked(f"trial {trial_id} was re-queued while {self.tuner_id} was silent")

    def callback(self, trial_id: str) -> keras.callbacks.Callback:
        """A Keras callback that checks the lease and beats after every epoch (put it first in the list)."""
        lease = self

        class _Beat(keras.callbacks.Callback):
            def on_test_begin(self, logs: dict | None = None) -> None:
                lease.check(trial_id)  # Keras' TensorBoard callback opens its validation writer here

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                lease.check(trial_id)  # before the later callbacks write this epoch into a session not ours
                lease.beat(trial_id)

        return _Beat()


# ----------------------------------------------------------------------------- chief side
class SilenceLimit:
    """How long a worker may stay silent before its trial is re-queued (see the module docstring).

    Args:
        least: ``--worker-timeout`` seconds (the limit's minimum, and its value before any gap is seen),
            or None for the defaults (60 s; 600 s before any gap).
        factor: Times the longest gap seen.
    """

    def __init__(self, least: float | None = None, *, factor: float = 5.0) -> None:
        self.floor = 60.0 if least is None else float(least)
        self.cold = 600.0 if least is None else float(least)
        self.factor = factor
        self.longest = 0.0

    def observe(self, gap: float) -> None:
        """Record the gap between two signs of life of one worker within one trial."""
        self.longest = max(self.longest, gap)

    def seconds(self) -> float:
        """The current limit."""
        if self.longest <= 0:
            return self.cold
        return max(self.floor, self.factor * self.longest)


class _Guard:
    """The chief's bookkeeping: who holds which trial, when each tuner was last heard from."""

    def __init__(self, oracle: Any, state_dir: Path, limit: SilenceLimit) -> None:
        self.oracle = oracle
        self.state_dir = Path(state_dir)
        self.limit = limit
        self.seen: dict[str, float] = {}                   # tuner id -> last sign of life (chief clock)
        self.beats: dict[str, tuple] = {}                  # tuner id -> (last heartbeat content, when seen)
        self.notes: list[str] = []                         # lines for the serving loop to print
        self.requeued: set[str] = set()
        self.pid_space = pid_space()
        self.local_pids: dict[str, tuple[str, int]] = {}  # unsupervised workers here -> (trial, pid) of last beat

    def dead_local_workers(self) -> dict[str, str]:
        """Workers started by hand on this machine whose process ended while running the trial they hold.

        Only a heartbeat about the trial the tuner holds now counts: an older one (another trial, or a
        process since replaced) says nothing about the process running it.
        """
        holding = {tuner: t.trial_id for tuner, t in self.oracle.ongoing_trials.items()}
        return {tuner: f"is no longer running (process {pid} on this machine)"
                for tuner, (trial, pid) in self.local_pids.items()
                if holding.get(tuner) == trial and local_process_gone(pid)}

    def write_owners(self) -> None:
        owners = {t.trial_id: tuner for tuner, t in self.oracle.ongoing_trials.items()}
        with atomic_write(self.state_dir / OWNERS) as fh:
            json.dump(owners, fh)

    def held(self, trial_id: str) -> bool:
        return any(t.trial_id == trial_id for t in self.oracle.ongoing_trials.values())

    def read_heartbeats(self, now: float) -> None:
        for path in sorted((self.state_dir / HEARTBEATS).glob("*.json")):
            try:
                beat = json.loads(path.read_text(encoding="utf-8"))
                key = (str(beat["trial"]), int(beat["beat"]), int(beat["pid"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # being replaced right now; read it next tick
            tuner = path.stem
            if not beat.get("supervised") and self.pid_space and beat.get("pid_space") == self.pid_space:
                self.local_pids[tuner] = (key[0], key[2])  # started by hand here: its process tells if it is gone
            else:
                self.local_pids.pop(tuner, None)
            old, when = self.beats.get(tuner, (None, now))
            if old == key:
                continue
            if old is not None and (old[0], old[2]) == (key[0], key[2]):
                # one epoch (or build + compile + epoch) of one trial in one process; observed even when the
                # trial was re-queued meanwhile: then the worker was slow, and the limit must learn it
                self.limit.observe(now - when)
            self.beats[tuner] = (key, now)
            self.seen[tuner] = now


def _install(oracle: Any, guard: _Guard) -> None:
    """Give the chief's oracle leases: wrap create/update/end_trial (keeps the oracle's own class behaviour).

    The oracle's class is swapped for a subclass (rather than built with one)
    because every strategy's oracle is a different keras-tuner class.
    """
    base = type(oracle)

    class Leased(base):  # type: ignore[misc, valid-type]
        @kt.synchronized
        def create_trial(self, tuner_id: str) -> Any:
            guard.seen[tuner_id] = time.monotonic()
            trial = base.create_trial(self, tuner_id)
            if trial.status == "STOPPED" and self.ongoing_trials:
                # Another worker's trial may still come back for a re-queue: keep this worker waiting
                # instead of letting it exit (an exited worker could not run it).
                self.tuner_ids.add(tuner_id)
                return trial_module.Trial(self.hyperparameters.copy(), status=trial_module.TrialStatus.IDLE)
            if trial.status == "RUNNING":
                guard.write_owners()
            return trial

        @kt.synchronized
        def update_trial(self, trial_id: str, metrics: dict, step: int = 0) -> Any:
            if not guard.held(trial_id):  # a late result of a re-queued trial
                return self.trials[trial_id]
            return base.update_trial(self, trial_id, metrics, step=step)

        @kt.synchronized
        def end_trial(self, trial: Any) -> None:
            if not guard.held(trial.trial_id):
                guard.notes.append(f"ignored a late result for trial {trial.trial_id} (it was re-queued)")
                return
            base.end_trial(self, trial)
            # keras-tuner saves the oracle before it lets go of the trial: saved that way, a resumed chief
            # would run the finished trial again (its tuner saves once more; the chief has no tuner loop)
            self.save()
            guard.write_owners()

    Leased.__name__ = Leased.__qualname__ = f"Leased{base.__name__}"
    oracle.__class__ = Leased


def _requeue_lost(oracle: Any, guard: _Guard, now: float, gone: dict[str, str]) -> None:
    """Re-queue the trial of every tuner gone for good or silent past the limit; forget idle tuners like them."""
    limit = guard.limit.seconds()
    with_trial = dict(oracle.ongoing_trials)
    changed = False
    for tuner in list(oracle.tuner_ids):
        last = guard.seen.setdefault(tuner, now)
        silent = now - last
        if silent <= limit and tuner not in gone:
            continue
        why = f"{tuner} {gone[tuner]}" if tuner in gone else f"{tuner} silent for {silent:.0f} s (limit {limit:.0f} s)"
        trial = with_trial.get(tuner)
        if trial is not None:
            oracle.ongoing_trials.pop(tuner)
            oracle._retry_queue.append(trial.trial_id)  # keras-tuner's own queue: the next tuner to ask runs it
            guard.requeued.add(trial.trial_id)
            guard.notes.append(f"{why}: trial {trial.trial_id} re-queued")
        oracle.tuner_ids.discard(tuner)
        guard.seen.pop(tuner, None)
        changed = True
    if changed:
        guard.write_owners()
        oracle.save()


@kt.synchronized
def _tick(oracle: Any, guard: _Guard) -> bool:
    """One watchdog pass under the oracle's lock; True when the chief may exit (all trials done)."""
    now = time.monotonic()
    guard.read_heartbeats(now)
    _requeue_lost(oracle, guard, now, {**guard.dead_local_workers(), **take_gone_reports(guard.state_dir)})
    return not oracle.ongoing_trials and not oracle.tuner_ids and not oracle._retry_queue


def serve(tuner: Any, *, state_dir: Path, limit: SilenceLimit, on_trial_end: Callable[[Any], None],
          say: Callable[[str], None], poll: float = 0.5) -> None:
    """Run the chief: keras-tuner's oracle service with leases and the watchdog, until every trial is done.

    Replaces ``tuner.search()`` on the chief (keras-tuner's own loop there
    waits in 20 s steps and never re-queues). Everything printed comes from
    this one thread (``say``), so the chief's lines never interleave.

    Args:
        tuner: The chief's tuner (its oracle is served).
        state_dir: ``<logdir>/.keras_tuner``.
        limit: The silence limit.
        on_trial_end: Called once per finished trial (COMPLETED, FAILED), in the order seen.
        say: Prints one whole line.
        poll: Seconds between watchdog passes.
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    oracle = tuner.oracle
    oracle.verbose = 0  # keras-tuner's per-trial tables would print from the gRPC threads
    guard = _Guard(oracle, state_dir, limit)
    # Left by an earlier run of this sweep, about processes that no longer matter: a resumed chief hands a
    # returning tuner id its old trial, and that worker's old heartbeat would name a dead process.
    take_gone_reports(state_dir)
    for old in (Path(state_dir) / HEARTBEATS).glob("*.json"):
        old.unlink(missing_ok=True)
    _install(oracle, guard)
    guard.write_owners()
    tuner.save()
    reported = {t.trial_id for t in list(oracle.trials.values()) if t.status in _DONE}
    servicer = OracleServicer(oracle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}")
    server.start()
    try:
        while True:
            time.sleep(poll)
            done = _tick(oracle, guard) and servicer.stop_triggered
            notes, guard.notes[:] = list(guard.notes), []
            for line in notes:
                say(line)
            for trial in [t for t in list(oracle.trials.values()) if t.status in _DONE]:
                if trial.trial_id not in reported:
                    reported.add(trial.trial_id)
                    on_trial_end(trial)
            if done:
                break
    finally:
        server.stop(grace=2)
