"""The flower CNN hyperparameter sweep (``python -m training.sweep``); needs the ``[train]`` extra."""
