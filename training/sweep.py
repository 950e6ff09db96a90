"""``python -m training.sweep``: a keras-tuner sweep of the flower CNN with complete TensorBoard HParams logs.

Run ``python -m training.sweep --help`` for every option. The pieces:
argument parsing and validation (:func:`build_parser`, :func:`prepare`), the
logdir life cycle (fresh, resume, ``--overwrite``), progress lines, the final
leaderboard and the optional HTML report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple, Sequence

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) would bury the progress lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hparams_tools._files import atomic_write
from hparams_tools.errors import HParamsToolsError, OutputError
from hparams_tools.cli import OneLineArgumentParser, error_line
from hparams_tools.space import MAX_TRIALS, METHODS, SearchSpace, load_space

from ._backend import BACKENDS, DEFAULT_BACKEND
from .errors import ChiefGoneError, ConfigError, DataError, StrategyError
from .progress import Progress, chief_reporter, leaderboard
from .space import trial_values

__all__ = ["build_parser", "main", "run_sweep", "SweepResult"]

STATE_DIR = ".keras_tuner"
PROJECT = "sweep"
SETTINGS = "sweep.json"

EPILOG = """\
space file (YAML, W&B sweep keys):
  method: random            # grid | random | bayesian | hyperband | hybrid
  metric: {name: validation/epoch_accuracy, goal: maximize}
  max_trials: 16
  seed: 0
  folds: 3                  # optional: k-fold cross-validation
  executions_per_trial: 2   # optional: repeats with fresh weights (sessions run0, run1 in the group)
  hyperband: {factor: 3, iterations: 1}
  parameters:
    learning_rate: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-1}
    epochs: {values: [2, 4, 8, 12]}
    batch_size: {values: [16, 32, 64, 128]}
    optimizer: {values: [adam, sgd, rmsprop]}
    dropout: {distribution: uniform, min: 0.0, max: 0.5}
    filters: {distribution: int_uniform, min: 8, max: 32}
    dense_units: {value: 64}
  The model reads learning_rate, optimizer (adam sgd rmsprop adamw nadam), dropout,
  filters, conv_blocks, dense_units, momentum (sgd), batch_size and epochs; any other
  parameter is only logged.

strategies:
  grid       every combination; a distribution contributes --grid-points values
  random     independent draws (log distributions sampled in log space)
  bayesian   Gaussian-process Bayesian optimisation (keras-tuner)
  hyperband  Hyperband owns the epoch budget: max epochs = the largest `epochs`
             value (or --max-epochs); --max-trials does not apply
  hybrid     grid over every `values` parameter, random over every distribution

resume and distribution:
  Rerunning the same command continues an interrupted sweep (finished trials are kept,
  the interrupted one runs again); --overwrite starts afresh. For keras-tuner's
  chief/worker mode set KERASTUNER_TUNER_ID (chief, tuner0, tuner1...),
  KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT and run the same command on every
  machine with a shared logdir. On one machine the sweep does it by itself: one
  worker per trial slot on every visible GPU (as many per GPU as fit), or
  --workers N on the CPU; a dead worker is restarted and continues its trial, and
  the trial of a worker silent past --worker-timeout is re-queued.

backends:
  The sweep runs on Keras 3's TensorFlow, JAX or PyTorch backend: --backend NAME, else
  $KERAS_BACKEND, else {default} (without it installed: jax, then torch; --data tfds:NAME
  needs tensorflow).

exit status: 0 done, 2 bad input (one line on stderr), 1 unexpected error.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m training.sweep``."""
    p = OneLineArgumentParser(
        prog="python -m training.sweep",
        description="Run a keras-tuner hyperparameter sweep of a small flower CNN and log every trial as a "
                    "TensorBoard HParams session (open it with TensorBoard or analyse it with hparams-tools). "
                    "Without arguments: the shipped default space (learning rate, epochs, batch size), random "
                    "search, on the built-in generated flower dataset, into logs/flowers/default.",
        epilog=EPILOG.replace("{default}", DEFAULT_BACKEND), formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("search")
    g.add_argument("--space", metavar="FILE", help="search-space YAML replacing the shipped default "
                   "(training/default_space.yaml)")
    g.add_argument("--strategy", metavar="NAME", help=f"override the space's method: {', '.join(METHODS)}")
    g.add_argument("--max-trials", type=int, metavar="N", help="override the space's max_trials (grid: default all "
                   "combinations)")
    g.add_argument("--seed", type=int, metavar="N", help="random seed for data, oracle and weights (default: the "
                   "space's seed, else 0); equal seeds give equal sweeps")
    g.add_argument("--grid-points", type=int, default=3, metavar="N", help="values per distribution for the grid "
                   "strategy (default 3)")
    g.add_argument("--max-epochs", type=int, metavar="N", help="hyperband: most epochs per trial (default: largest "
                   "`epochs` value in the space)")
    g.add_argument("--epoch-budget", type=int, metavar="N", help="stop starting new trials once this run has "
                   "trained N epochs in all (single process; used by benchmarks/bench_strategies.py)")
    g.add_argument("--hyperband-factor", type=int, metavar="N", help="hyperband reduction factor (default 3)")
    g = p.add_argument_group("data and validation")
    g.add_argument("--data", default="builtin", metavar="SOURCE", help="'builtin' (generated flowers, default), a "
                   "folder with one sub-folder of JPEG/PNG images per class, or tfds:<name> (e.g. tfds:tf_flowers; "
                   "needs tensorflow-datasets and --backend tensorflow)")
    g.add_argument("--image-size", type=int, metavar="PX", help="image side in pixels (default 32 for builtin, "
                   "64 otherwise); small values make tests fast")
    g.add_argument("--samples-per-class", type=int, default=250, metavar="N", help="builtin data: images per class "
                   "(default 250)")
    g.add_argument("--cache-dir", default="logs/.cache", metavar="DIR", help="where the builtin data is cached "
                   "(default logs/.cache)")
    g.add_argument("--folds", type=int, metavar="K", help="k-fold cross-validation: one session per fold, grouped "
                   "by trial; the oracle gets the mean (default: the space's folds, else a hold-out split)")
    g.add_argument("--validation-split", type=float, default=0.2, metavar="F", help="hold-out fraction "
                   "(default 0.2)")
    g.add_argument("--augment", default="flip", metavar="MODE", help="training augmentation in the input "
                   "pipeline: flip (random horizontal flip; default: the built-in data already varies rotation "
                   "and scale), full (flip, rotation, zoom; for real photos), none")
    g = p.add_argument_group("output")
    g.add_argument("--name", metavar="NAME", help="experiment name (default: the space's name, else 'default')")
    g.add_argument("--logdir", metavar="DIR", help="experiment directory (default logs/flowers/<name>)")
    g.add_argument("--overwrite", action="store_true", help="delete a previous sweep in the logdir and start afresh "
                   "(default: resume it)")
    g.add_argument("--no-report", action="store_true", help="do not write <logdir>/report.html at the end")
    g.add_argument("--quiet", action="store_true", help="no progress lines")
    g.add_argument("--verbose", action="store_true", help="also show Keras' per-epoch progress and the "
                   "backend's native start-up log")
    g = p.add_argument_group("hardware")
    g.add_argument("--backend", metavar="NAME", help="Keras backend: "
                   f"{', '.join(BACKENDS)} (default: $KERAS_BACKEND, else {DEFAULT_BACKEND}, or without it jax, then torch); the logs are the same "
                   "on every backend")
    g.add_argument("--mixed-precision", action="store_true", help="train with the mixed_float16 policy (GPUs)")
    g.add_argument("--xla", default="auto", metavar="MODE", help="XLA compilation of the train step: auto "
                   "(Keras decides; default), on, off")
    g.add_argument("--cpu", action="store_true", help="hide GPUs and train on the CPU")
    from .launch import add_arguments

    add_arguments(p)
    return p


@dataclass
class SweepResult:
    """What a finished sweep (or this worker's share of it) produced."""

    logdir: Path
    objective: str
    goal: str
    trials: list[dict]            # id, status, score, values, epochs (this process)
    epochs_spent: int             # epochs trained by this process
    seconds: float
    report: Path | None = None


def _fail(msg: str) -> None:
    raise StrategyError(msg)


def _bad_option(msg: str) -> None:
    raise ConfigError(msg)


def resolve(args: argparse.Namespace) -> tuple[SearchSpace, dict]:
    """Apply the flags to the space file; validate everything that needs no Keras backend.

    Returns:
        The effective space and the settings dict stored with the sweep (for resume checks).
    """
    from .space import default_space_path

    space = load_space(args.space) if args.space else load_space(default_space_path())
    method = args.strategy or space.method
    if method not in METHODS:
        _fail(f"unknown strategy {method!r}; use one of {', '.join(METHODS)}")
    seed = args.seed if args.seed is not None else (space.seed if space.seed is not None else 0)
    max_trials = args.max_trials if args.max_trials is not None else space.max_trials
    if max_trials is not None and not 1 <= max_trials <= MAX_TRIALS:
        _fail(f"--max-trials must be from 1 to {MAX_TRIALS}, got {max_trials}")
    folds = args.folds if args.folds is not None else int(space.options.get("folds", 0) or 0)
    if folds == 1 or folds < 0:
        _bad_option(f"--folds must be 0 (hold-out) or at least 2, got {folds}")
    executions = space.options.get("executions_per_trial", 1)
    if not isinstance(executions, int) or isinstance(executions, bool) or executions < 1:
        _fail(f"executions_per_trial must be a positive integer, got {executions!r}")
    if args.augment not in ("full", "flip", "none"):
        _bad_option(f"unknown --augment {args.augment!r}; use full, flip or none")
    if args.xla not in ("auto", "on", "off"):
        _bad_option(f"unknown --xla {args.xla!r}; use auto, on or off")
    if not 0 < args.validation_split < 1:
        _bad_option(f"--validation-split must be between 0 and 1, got {args.validation_split}")
    if args.grid_points < 1:
        _fail(f"--grid-points must be at least 1, got {args.grid_points}")
    hb = dict(space.options.get("hyperband") or {})
    factor = args.hyperband_factor or int(hb.get("factor", 3))
    if factor < 2:
        _fail(f"hyperband factor must be at least 2, got {factor}")
    max_epochs = args.max_epochs or hb.get("max_epochs")
    if max_epochs is None:
        ep = space.parameters.get("epochs")
        if ep is None:
            max_epochs = 12
        else:
            max_epochs = max(v for v in ep.values) if ep.kind in ("values", "value") else ep.max
    image_size = args.image_size or (32 if args.data == "builtin" else 64)
    if image_size < 8:
        _bad_option(f"--image-size must be at least 8, got {image_size}")
    space = replace(space, method=method, seed=seed, max_trials=max_trials,
                    metric=space.metric or "validation/epoch_accuracy")
    name = args.name or space.name or "default"
    settings = {
        "space": space.to_dict(), "data": args.data, "image_size": image_size,
        "samples_per_class": args.samples_per_class if args.data == "builtin" else None,
        "folds": folds, "executions": executions, "validation_split": args.validation_split,
        "augment": args.augment,
        "grid_points": args.grid_points, "hyperband": {"factor": factor, "max_epochs": int(max_epochs),
                                                       "iterations": int(hb.get("iterations", 1))},
        "name": name, "mixed_precision": bool(args.mixed_precision),
    }
    return space, settings


def _role() -> str:
    """'single', 'chief' or 'worker' from keras-tuner's environment variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    if "KERASTUNER_ORACLE_PORT" not in os.environ or "KERASTUNER_TUNER_ID" not in os.environ:
        raise ConfigError("distributed mode needs KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
                            "KERASTUNER_ORACLE_PORT all set")
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def check_logdir(logdir: Path) -> None:
    """Fail early (before loading data) when the logdir cannot be created: no writes here."""
    existing = logdir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write to logdir {logdir}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to logdir {logdir}: {existing} is not writable")


def prepare_logdir(logdir: Path, settings: dict, *, overwrite: bool, role: str, dry_run: bool = False) -> bool:
    """Check the logdir; delete it for ``--overwrite``. Returns True when resuming a sweep.

    With ``dry_run`` nothing is deleted or created (the checks run before the data loads).
    """
    state = logdir / STATE_DIR / SETTINGS
    if role == "worker":
        return True
    if logdir.exists() and not logdir.is_dir():
        raise OutputError(f"logdir {logdir} is a file; choose another --logdir")
    if state.is_file():
        if overwrite:
            if not dry_run:
                shutil.rmtree(logdir)
        else:
            try:
                old = json.loads(state.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
            if old != json.loads(json.dumps(settings)):
                diff = sorted(k for k in set(settings) | set(old or {}) if (old or {}).get(k) != settings.get(k))
                raise OutputError(f"logdir {logdir} holds a sweep with other settings ({', '.join(diff)}); rerun the "
                                  "same command to resume it, or pass --overwrite or another --name")
            return True
    elif (logdir / STATE_DIR).is_dir():
        # a sweep killed before it saved its settings has no trials yet: start it afresh
        if not dry_run:
            shutil.rmtree(logdir)
    elif logdir.is_dir() and any(logdir.iterdir()):
        raise OutputError(f"logdir {logdir} exists and is not a sweep of this tool; choose another --name/--logdir")
    if dry_run:
        check_logdir(logdir)
        return False
    try:
        (logdir / STATE_DIR).mkdir(parents=True, exist_ok=True)
        probe = logdir / STATE_DIR / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to logdir {logdir}: {exc.strerror or exc}") from None
    return False


def _start_backend(args: argparse.Namespace) -> tuple[str, Any]:
    """Choose and import the Keras backend, pick devices, set mixed precision; print the devices used.

    Returns:
        The backend name and a ``tf.distribute`` strategy (TensorFlow with several GPUs) or None.
    """
    from ._backend import choose_backend, hide_gpus, import_keras
    from .devices import describe_pinning

    backend = choose_backend(args.backend)
    if args.cpu:
        hide_gpus()
    gpus = import_keras(verbose=args.verbose)
    if args.cpu:  # the environment hides GPUs from a backend not imported yet; never use one here
        gpus = []
    import keras

    if args.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    strategy = None
    if backend == "tensorflow" and len(gpus) > 1 and args.data_parallel:
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        devices = f"{len(gpus)} GPUs with MirroredStrategy: {', '.join(gpus)}"
    elif gpus:
        devices = f"GPU {gpus[0]}"
    else:
        devices = f"CPU ({os.cpu_count()} cores)"
    pinned, warning = describe_pinning(backend, gpus)
    if pinned:
        devices += f" ({pinned})"
    if warning:  # even with --quiet: the sweep would run many times slower than the user expects
        print(warning, file=sys.stderr, flush=True)
    if not args.quiet:
        mp = ", mixed precision (mixed_float16)" if args.mixed_precision else ""
        print(f"backend {backend}; devices: {devices}{mp}, XLA {args.xla}", flush=True)
    return backend, strategy


class _Plan(NamedTuple):
    """What the oracle gets and what the experiment declares."""

    hps: Any             # keras-tuner HyperParameters
    max_trials: int      # the oracle's max_trials
    total: int           # trials the sweep expects (Hyperband: its bracket sizes)
    hparams: list        # HParamInfo per logged hyperparameter


def _plan(space: SearchSpace, settings: dict) -> _Plan:
    """keras-tuner space, the oracle's max_trials, the expected trial count and the HParams domains."""
    from hparams_tools.io.experiment import Discrete, HParamInfo

    from .space import grid_combinations, hyperband_epochs, to_hparams, to_keras_tuner
    from .tuner import hyperband_trial_count

    method, hb = space.method, settings["hyperband"]
    hyperband = method == "hyperband"
    hps = to_keras_tuner(space, method=method, grid_points=settings["grid_points"],
                         exclude=("epochs",) if hyperband else ())
    max_trials = space.max_trials
    if method in ("grid", "hybrid"):
        n_grid = grid_combinations(hps)
        # grid: never more than every combination; hybrid: one pass over the grid by default
        max_trials = min(max_trials or n_grid, n_grid) if method == "grid" else (max_trials or n_grid)
    max_trials = max_trials or 10
    if not hyperband:
        return _Plan(hps, max_trials, max_trials, to_hparams(space))
    epochs = hyperband_epochs(hb["max_epochs"], hb["factor"])
    hparams = to_hparams(space, overrides={"epochs": epochs})
    if "epochs" not in space.parameters:
        hparams.append(HParamInfo("epochs", "float", "", "", Discrete(tuple(epochs))))
    return _Plan(hps, max_trials, hyperband_trial_count(hb["max_epochs"], hb["factor"], hb["iterations"]), hparams)


def _load_data(args: argparse.Namespace, space: SearchSpace, settings: dict) -> Any:
    """The sweep's images in memory; checks that the folds fit them."""
    from .data import load_data

    data = load_data(args.data, image_size=settings["image_size"], samples_per_class=args.samples_per_class,
                     seed=space.seed, cache_dir=args.cache_dir)
    if settings["folds"] > len(data.y):
        raise DataError(f"--folds {settings['folds']} exceeds the {len(data.y)} examples")
    return data


def _announce(space: SearchSpace, settings: dict, args: argparse.Namespace, *, role: str, resuming: bool,
              total: int, data: Any, logdir: Path) -> None:
    """The first line of a run: what starts (or resumes, or joins), on which data, into which logdir."""
    mode = f"{settings['folds']}-fold CV" if settings["folds"] else f"hold-out {args.validation_split:g}"
    if role == "worker":
        what = "joining as " + os.environ.get("KERASTUNER_TUNER_ID", "")
    else:
        what = "resuming" if resuming else "starting"
    print(f"{what} sweep {settings['name']!r}: {space.method}, {total} trials, objective {space.metric} "
          f"({space.goal}), {mode}; data: {data.source}, {len(data.y)} images, {len(data.class_names)} classes; "
          f"logdir {logdir}", flush=True)


def _write_experiment(logdir: Path, space: SearchSpace, settings: dict, hparams: list, data: Any,
                      backend: str) -> None:
    """The experiment summary at the logdir root and the settings a resume is checked against."""
    from . import hparams_logging

    validation = f"{settings['folds']}-fold CV" if settings["folds"] else "hold-out validation"
    desc = (f"Flower CNN sweep '{settings['name']}': {space.method} search on {data.source}, {validation}, "
            f"seed {space.seed}, Keras backend {backend}.")
    hparams_logging.write_experiment_config(str(logdir), hparams, objective=space.metric, goal=space.goal,
                                            description=desc)
    with atomic_write(logdir / STATE_DIR / SETTINGS) as fh:
        json.dump(settings, fh, indent=1)


class _TrialLog:
    """keras-tuner's end-of-trial hook in this process: records each trial and prints its progress line."""

    def __init__(self, progress: Progress, *, quiet: bool) -> None:
        self.progress, self.quiet = progress, quiet
        self.trials: list[dict] = []  # id, status, score, values, epochs

    def __call__(self, trial: Any, info: dict) -> None:
        if info.get("dropped"):  # the chief re-queued it while this worker was silent: another holder finishes it
            if not self.quiet:
                print(f"trial {trial.trial_id} dropped: the chief re-queued it while this worker was silent",
                      flush=True)
            return
        status = str(trial.status)
        score = info["score"] if status == "COMPLETED" else None
        values = trial_values(trial)
        self.trials.append({"id": trial.trial_id, "status": status, "score": score, "values": values,
                            "epochs": info["epochs"]})
        line = self.progress.add(trial.trial_id, values, score, info["failure"] or status)
        if not self.quiet:
            print(line, flush=True)


def _make_tuner(args: argparse.Namespace, space: SearchSpace, settings: dict, plan: _Plan, *, data: Any,
                logdir: Path, strategy: Any, on_trial_done: _TrialLog, role: str) -> Any:
    """The oracle for the strategy and the tuner that runs, validates and logs each trial."""
    import warnings

    from .oracle_ops import Lease
    from .tuner import FlowerTuner, TrialSetup, make_oracle

    # Keras warns that fit's shuffle flag is ignored for tf.data input; the pipeline shuffles itself.
    warnings.filterwarnings("ignore", message=".*shuffle=True.*was passed.*")
    # Hyperband continues a promoted trial from its parent's weights; the fresh optimizer starts anew
    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
    hb = settings["hyperband"]
    setup = TrialSetup(
        data=data, logdir=logdir, image_size=settings["image_size"], objective=space.metric, goal=space.goal,
        logged=tuple(h.name for h in plan.hparams), seed=space.seed, folds=settings["folds"],
        executions=settings["executions"], validation_fraction=args.validation_split, augment=args.augment,
        hyperband=space.method == "hyperband", mixed_precision=args.mixed_precision, distribution=strategy,
        jit_compile={"auto": "auto", "on": True, "off": False}[args.xla],
        fit_verbose=2 if args.verbose else 0, on_trial_done=on_trial_done, epoch_budget=args.epoch_budget,
        # a worker holds its trial under a lease the chief can revoke (training.oracle_ops)
        lease=Lease(logdir / STATE_DIR, os.environ["KERASTUNER_TUNER_ID"]) if role == "worker" else None)
    oracle = make_oracle(space.method, plan.hps, objective=space.metric, goal=space.goal,
                         max_trials=plan.max_trials, seed=space.seed, max_epochs=hb["max_epochs"],
                         factor=hb["factor"], iterations=hb["iterations"])
    return FlowerTuner(oracle, setup, directory=str(logdir / STATE_DIR), project_name=PROJECT, overwrite=False)


def _all_trials(tuner: Any) -> list[dict]:
    """Every trial the oracle knows (the chief's or a single process's view, resumed ones included)."""
    return [{"id": t.trial_id, "status": str(t.status), "score": t.score if t.status == "COMPLETED" else None,
             "values": trial_values(t), "epochs": tuner.epochs_spent.get(t.trial_id, 0)}
            for t in tuner.oracle.trials.values()]


def _finish(result: SweepResult, args: argparse.Namespace) -> None:
    """Leaderboard, report and where to look next (chief or single process)."""
    if not args.quiet:
        print(leaderboard(result.trials, objective=result.objective, goal=result.goal, seconds=result.seconds))
    if not args.no_report:
        result.report = _write_report(result.logdir, result.objective, args.quiet)
    if not args.quiet:
        print(f"\nopen it in TensorBoard:  tensorboard --logdir {result.logdir}   (then the HPARAMS tab)")
        print(f"analyse it:              hparams-tools analyze {result.logdir}")
        if result.report:
            print(f"report:                  {result.report}")


def run_sweep(args: argparse.Namespace) -> SweepResult:
    """Run (or resume, or join as a worker) the sweep the arguments describe."""
    space, settings = resolve(args)
    role = _role()
    logdir = _logdir(args, settings)
    prepare_logdir(logdir, settings, overwrite=args.overwrite, role=role, dry_run=True)
    backend, strategy = _start_backend(args)
    data = _load_data(args, space, settings)
    resuming = prepare_logdir(logdir, settings, overwrite=args.overwrite, role=role)
    plan = _plan(space, settings)
    if not args.quiet:
        _announce(space, settings, args, role=role, resuming=resuming, total=plan.total, data=data, logdir=logdir)
    if role == "worker":  # the launcher's share of the GPU's memory
        from .devices import apply_memory_limit

        apply_memory_limit(backend)
    if role != "worker" and not resuming:
        _write_experiment(logdir, space, settings, plan.hparams, data, backend)

    progress = Progress(total=plan.total, goal=space.goal, role=role, start=time.time())
    trial_log = _TrialLog(progress, quiet=args.quiet)
    tuner = _make_tuner(args, space, settings, plan, data=data, logdir=logdir, strategy=strategy,
                        on_trial_done=trial_log, role=role)
    if role != "worker":
        kept = progress.keep(tuner.oracle.trials.values())
        if kept and not args.quiet:
            print(f"{kept} finished trial(s) kept; continuing", flush=True)
    if role == "chief":
        from .oracle_ops import SilenceLimit, serve

        serve(tuner, state_dir=logdir / STATE_DIR, limit=SilenceLimit(args.worker_timeout),
              on_trial_end=chief_reporter(progress, quiet=args.quiet),
              say=lambda line: args.quiet or print(line, flush=True))
    else:
        tuner.search(verbose=0)

    result = SweepResult(logdir=logdir, objective=space.metric, goal=space.goal,
                         trials=trial_log.trials if role == "worker" else _all_trials(tuner),
                         epochs_spent=sum(tuner.epochs_spent.values()), seconds=time.time() - progress.start)
    if role != "worker":
        _finish(result, args)
    return result


def _write_report(logdir: Path, objective: str, quiet: bool) -> Path | None:
    """Write <logdir>/report.html when the report package is available; never fail the sweep for it."""
    try:
        from hparams_tools.report import write_report
    except ImportError:
        return None
    try:
        return Path(write_report([logdir], logdir / "report.html", target=objective))
    except Exception as exc:  # the sweep's logs are complete; a report problem must not hide that
        if not quiet:
            print(f"note: report not written: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                  file=sys.stderr)
        return None


def _logdir(args: argparse.Namespace, settings: dict) -> Path:
    return Path(args.logdir or Path("logs") / "flowers" / settings["name"])


def _launch(args: argparse.Namespace, argv: list[str]) -> int | None:
    """Hand a sweep with several slots (GPUs, --workers N) to :mod:`training.launch`; None: run it here."""
    from . import launch

    launch.check_arguments(args)
    if _role() != "single":
        return None
    space, settings = resolve(args)
    # no more workers than trials (_plan would import keras-tuner, hence a backend, into the launcher)
    total = (space.max_trials or 10) if space.method in ("random", "bayesian") else None
    work = launch.plan(args, space, settings, trials=total)
    if work is None:
        return None
    # bad input fails here, once, before any process starts
    prepare_logdir(_logdir(args, settings), settings, overwrite=args.overwrite, role="chief", dry_run=True)
    return launch.run(work, argv, state_dir=_logdir(args, settings) / STATE_DIR, max_restarts=args.max_restarts,
                      quiet=args.quiet)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the sweep; a bad input prints one line on stderr and returns 2."""
    argv = list(sys.argv[1:] if argv is None else [str(a) for a in argv])
    args = build_parser().parse_args(argv)
    try:
        code = _launch(args, argv)
        if code is not None:
            return code
        run_sweep(args)
    except ChiefGoneError as exc:  # not bad input: the sweep went on (or ended) without this worker
        print(error_line("training.sweep", exc), file=sys.stderr)
        return 1
    except HParamsToolsError as exc:
        print(error_line("training.sweep", exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("training.sweep: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
