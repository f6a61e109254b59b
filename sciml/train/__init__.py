"""Training: one :class:`Trainer` loop for every model; what differs is a :class:`Task`.

* :mod:`~sciml.train.trainer` -- :class:`TrainConfig`, :class:`Trainer`, :func:`evaluate`,
  :func:`predict`, autoregressive :class:`Rollout`;
* :mod:`~sciml.train.task` -- the :class:`Task` contract and :class:`SupervisedTask`;
* :mod:`~sciml.train.losses` -- relative L2 (per sample, then averaged);
* :mod:`~sciml.train.normalizers` -- per-channel Gaussian normalisers, saved with the model;
* :mod:`~sciml.train.checkpoint` -- training checkpoints (exact resume) and saving models
  (read back with :func:`sciml.operators.load_operator`);
* :mod:`~sciml.train.data` -- datasets to in-memory tensors, HDF5 dataset files.
"""

from sciml.train.checkpoint import save_model
from sciml.train.losses import RelativeL2Loss, relative_l2
from sciml.train.normalizers import GaussianNormalizer, NormalizedOperator
from sciml.train.task import SupervisedTask, Task
from sciml.train.trainer import Rollout, TrainConfig, Trainer, evaluate, make_windows, predict

__all__ = [
    "GaussianNormalizer",
    "NormalizedOperator",
    "RelativeL2Loss",
    "Rollout",
    "SupervisedTask",
    "Task",
    "TrainConfig",
    "Trainer",
    "evaluate",
    "make_windows",
    "predict",
    "relative_l2",
    "save_model",
]
