"""Workers that died for good: the launcher reports them, the chief re-queues their trials at once.

A local worker that dies is restarted by the launcher (it continues its
trial); past ``--max-restarts`` it is not, and without this report the chief
would learn of it only when the worker's silence passes the limit
(:mod:`training.oracle_ops`). The report is a file, ``<logdir>/.keras_tuner/gone/<tuner id>.json``,
like the rest of the chief's state, and this module is its one reader and
writer. It imports no backend: the launcher must stay free of one.
"""

from __future__ import annotations

import json
from pathlib import Path

from hparams_tools._files import atomic_write

__all__ = ["GONE", "report_gone", "take_gone_reports"]

GONE = "gone"


def report_gone(state_dir: Path, tuner_id: str, how: str) -> None:
    """Tell the chief that worker ``tuner_id`` ended (``how``, e.g. "was killed by signal 9") and will not return.

    Args:
        state_dir: ``<logdir>/.keras_tuner``.
        tuner_id: The worker's ``KERASTUNER_TUNER_ID``.
        how: How its process ended, for the chief's line.
    """
    path = Path(state_dir) / GONE / f"{tuner_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        json.dump({"how": how}, fh)


def take_gone_reports(state_dir: Path) -> dict[str, str]:
    """The workers reported gone since the last call (tuner id -> how it ended); each report is read once.

    A report being written right now (unreadable) is left for the next call.
    """
    gone = {}
    for path in sorted((Path(state_dir) / GONE).glob("*.json")):
        try:
            how = str(json.loads(path.read_text(encoding="utf-8"))["how"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        gone[path.stem] = how[:200]  # a line for the log, not a place for a novel
        path.unlink(missing_ok=True)
    return gone
