"""The CNN, built from a trial's hyperparameters (in the spirit of the Keras flowers tutorial)."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["MODEL_HPARAMS", "build_model"]

# Hyperparameters the model and the fit read, with the value used when the space omits them.
MODEL_HPARAMS: dict[str, Any] = {
    "learning_rate": 1e-3,
    "optimizer": "adam",
    "dropout": 0.2,
    "filters": 16,
    "conv_blocks": 3,
    "dense_units": 64,
    "momentum": 0.9,
    "batch_size": 32,
    "epochs": 5,
}
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam")


def build_model(values: Mapping[str, Any], *, image_size: int, num_classes: int, mixed_precision: bool = False,
                jit_compile: bool | str = "auto"):
    """Build and compile the CNN: rescaling, conv blocks, dropout, dense head, logits.

    Args:
        values: The trial's hyperparameter values; missing ones take :data:`MODEL_HPARAMS` defaults.
        image_size: Input side in pixels.
        num_classes: Number of output logits.
        mixed_precision: Keep the logits in float32 under a mixed_float16 policy.
        jit_compile: XLA compilation of the train step (Keras' ``"auto"``, ``True`` or ``False``).

    Returns:
        A compiled ``keras.Model`` reporting ``accuracy``.
    """
    import keras

    hp = {**MODEL_HPARAMS, **values}
    layers = [keras.Input((image_size, image_size, 3)), keras.layers.Rescaling(1.0 / 255)]
    filters = int(hp["filters"])
    for block in range(int(hp["conv_blocks"])):
        layers += [
            keras.layers.Conv2D(filters * 2**block, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
        ]
    layers += [
        keras.layers.Dropout(float(hp["dropout"])),
        keras.layers.Flatten(),
        keras.layers.Dense(int(hp["dense_units"]), activation="relu"),
        keras.layers.Dense(num_classes, dtype="float32" if mixed_precision else None, name="logits"),
    ]
    model = keras.Sequential(layers)
    model.compile(
        optimizer=_optimizer(str(hp["optimizer"]), float(hp["learning_rate"]), float(hp["momentum"])),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    return model


def _optimizer(name: str, learning_rate: float, momentum: float):
    import keras

    name = name.lower()
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=momentum)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate)
    if name == "nadam":
        return keras.optimizers.Nadam(learning_rate)
    raise ValueError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")
