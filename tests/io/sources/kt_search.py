"""A real, tiny keras-tuner RandomSearch on CPU (run as a script by the tests, KERAS_BACKEND=jax).

Usage: python kt_search.py DIRECTORY OUT.json -- writes the project DIRECTORY/proj and dumps
keras-tuner's own view of every trial (status, values, every metric's history) to OUT.json.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def main(directory: str, out: str) -> None:
    import keras
    import keras_tuner as kt

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")

    def build(hp):
        units = hp.Choice("units", [2, 4, 8])
        if units == 8:
            raise kt.errors.FailedTrialError("8 units are refused on purpose")
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu",
                                                                        use_bias=hp.Boolean("bias")),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-1, sampling="log")),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=5, seed=3, directory=directory,
                            project_name="proj", max_consecutive_failed_trials=5)
    tuner.search(x, y, epochs=3, validation_split=0.25, verbose=0)
    trials = {}
    for tid, trial in tuner.oracle.trials.items():
        metrics = {name: [[step, float(np.mean(obs.value))] for obs in trial.metrics.get_history(name)
                          for step in [obs.step]] for name in trial.metrics.metrics}
        trials[tid] = {"status": trial.status, "values": trial.hyperparameters.values, "metrics": metrics}
    with open(out, "w") as fh:
        json.dump(trials, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
