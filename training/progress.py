"""Progress lines and the final leaderboard of a sweep (one format, built in one place).

A process that runs trials (single or worker) reports each trial as it ends;
the chief, which runs none, reports its workers' trials from the oracle. Both
print the line :meth:`Progress.line` builds.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

from .space import trial_values

__all__ = ["Progress", "better", "fmt_time", "fmt_values", "chief_reporter", "leaderboard"]

DONE = ("COMPLETED", "FAILED", "INVALID")


def better(a: float, b: float, goal: str) -> bool:
    """Whether score ``a`` beats ``b`` under ``goal`` (``maximize`` or ``minimize``)."""
    return a > b if goal == "maximize" else a < b


def fmt_time(seconds: float) -> str:
    """``m:ss``."""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def fmt_values(values: dict) -> str:
    """Hyperparameter values as ``k=v`` pairs, without keras-tuner's own ``tuner/*`` entries."""
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in values.items() if not k.startswith("tuner/"))


class Progress:
    """Counts trials that ended in this run, tracks the best score, and formats the progress line.

    Args:
        total: Trials the sweep expects in all.
        goal: ``maximize`` or ``minimize``.
        role: ``single``, ``chief`` or ``worker`` (a worker reports its own share, without ETA).
        start: When this run started (``time.time()``).
    """

    def __init__(self, *, total: int, goal: str, role: str, start: float) -> None:
        self.total, self.goal, self.role, self.start = total, goal, role, start
        self.done = 0    # trials ended, including those kept from before a resume
        self.new = 0     # trials ended in this run (the ETA's rate)
        self.best: tuple[float, str] | None = None

    def keep(self, trials: Iterable[Any]) -> int:
        """Count keras-tuner trials that ended before this run (a resume); returns how many."""
        kept = [t for t in trials if t.status in DONE]
        for t in kept:
            self._score(t.score if t.status == "COMPLETED" else None, t.trial_id)
        self.done += len(kept)
        return len(kept)

    def _score(self, score: float | None, trial_id: str) -> None:
        if score is not None and (self.best is None or better(score, self.best[0], self.goal)):
            self.best = (score, trial_id)

    def add(self, trial_id: str, values: dict, score: float | None, failure: str | None = None) -> str:
        """Count one trial that just ended (``score`` None: failed); return its progress line."""
        self.done += 1
        self.new += 1
        self._score(score, trial_id)
        elapsed = time.time() - self.start
        outcome = f"{score:.4f}" if score is not None else (f"FAILED ({failure})" if failure else "FAILED")
        best = f"{self.best[0]:.4f} (trial {self.best[1]})" if self.best else "-"
        if self.role == "worker":  # the chief owns the count; a worker reports its own share
            where = f"trial {trial_id} ({self.done} done here)"
            timing = f"elapsed {fmt_time(elapsed)}"
        else:
            left = max(0, self.total - self.done)
            where = f"trial {self.done}/{self.total} [{trial_id}]"
            timing = f"elapsed {fmt_time(elapsed)}, ETA {fmt_time(elapsed / self.new * left)}"
        return f"{where} {fmt_values(values)} -> {outcome} | {timing}, best {best}"


def chief_reporter(progress: Progress, *, quiet: bool) -> Callable[[Any], None]:
    """The chief's handler of each trial a worker ended (the chief itself runs none): one progress line.

    :func:`training.oracle_ops.serve` calls it from its one serving thread, so
    the chief's lines never interleave with each other.
    """

    def report(trial: Any) -> None:
        score = trial.score if trial.status == "COMPLETED" else None
        line = progress.add(trial.trial_id, trial_values(trial), score)
        if not quiet:
            print(line, flush=True)

    return report


def leaderboard(trials: list[dict], *, objective: str, goal: str, seconds: float, top: int = 5) -> str:
    """The final summary: time, counts and the ``top`` trials by the objective."""
    done = sorted((t for t in trials if t["score"] is not None), key=lambda t: t["score"], reverse=goal == "maximize")
    failed = sum(1 for t in trials if t["score"] is None)
    lines = [f"\nfinished in {fmt_time(seconds)}: {len(done)} trial(s) succeeded, {failed} failed",
             f"best trials by {objective} ({goal}):"]
    lines += [f"  {rank}. trial {t['id']}  {t['score']:.4f}  {fmt_values(t['values'])}"
              for rank, t in enumerate(done[:top], 1)]
    return "\n".join(lines)
