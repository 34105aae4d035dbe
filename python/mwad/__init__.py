"""mwad: a Metrics-Weighted Average of a training run's latest adapter checkpoints,
kept merged while the trainer runs.

- ``mwad`` (the console script) and ``python -m mwad`` run the mwad program shipped in
  this package.
- ``mwad.status(run_dir_or_ledger)`` returns ``mwad status --json`` as a dict.
- ``from mwad import MwadCallback`` gives the Hugging Face Trainer callback; transformers
  is imported only then.
"""
from ._binary import binary_path
from ._status import StatusError, status

__all__ = ["MwadCallback", "StatusError", "binary_path", "status"]


def __getattr__(name):
    # The callback subclasses transformers' TrainerCallback: imported on first use only,
    # so that `import mwad` costs nothing where transformers is absent or slow to load.
    if name == "MwadCallback":
        from ._callback import MwadCallback
        return MwadCallback
    raise AttributeError(f"module 'mwad' has no attribute {name!r}")
