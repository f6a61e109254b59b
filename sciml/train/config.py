"""Training settings: :class:`TrainConfig` (JSON-serialisable; stored in checkpoints and
``config.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

__all__ = ["TrainConfig"]

_OPTIMIZERS = ("adamw", "adam")
_SCHEDULERS = ("onecycle", "cosine", "step", "none")
_AMP = ("auto", "bf16", "none")


@dataclass
class TrainConfig:
    """Training settings (all JSON-serialisable; stored in checkpoints and ``config.json``).

    ``batch_size`` is the *global* batch (split across DDP ranks). ``input_frames`` switches on
    autoregressive rollout: samples are trajectories ``cat([inputs, outputs], dim=1)``, the
    first ``input_frames`` frames are the input and the next ``rollout_steps`` the targets.
    ``time_budget`` (seconds of optimisation, validation excluded) stops training early and
    drives the schedule by elapsed time; ``epochs`` is then an upper bound. ``max_steps`` is an
    iteration budget: the run ends after that many optimiser steps (the last epoch may be
    partial) and the learning-rate schedule spans them; ``epochs`` is again an upper bound.
    """

    epochs: int = 100
    batch_size: int = 20
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    scheduler: str = "onecycle"
    step_size: int = 100
    gamma: float = 0.5
    pct_start: float = 0.3
    grad_clip: float | None = None
    amp: str = "auto"
    channels_last: bool = False
    compile: bool = False
    seed: int = 0
    val_fraction: float = 0.1
    normalize: bool = True
    input_frames: int | None = None
    rollout_steps: int = 1
    time_budget: float | None = None
    max_steps: int | None = None
    eval_batch_size: int = 50
    progress: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        def positive_int(name: str) -> None:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")

        for name in ("epochs", "batch_size", "step_size", "rollout_steps", "eval_batch_size"):
            positive_int(name)
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        if self.scheduler not in _SCHEDULERS:
            raise ValueError(f"scheduler must be one of {_SCHEDULERS}, got {self.scheduler!r}")
        if self.amp not in _AMP:
            raise ValueError(f"amp must be one of {_AMP}, got {self.amp!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.input_frames is not None:
            positive_int("input_frames")
        if self.max_steps is not None:
            positive_int("max_steps")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be positive or None, got {self.grad_clip!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(
                f"time_budget must be positive seconds or None, got {self.time_budget}"
            )

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(
                f"unknown training option(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)
