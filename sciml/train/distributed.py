"""Data parallel training under ``torchrun`` (DDP): the process group, the wrapped module and
the reductions the loop needs. One process (``WORLD_SIZE`` unset or 1) is world 1, rank 0."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = ["Distributed"]


class Distributed:
    """``world``, ``rank`` and ``local_rank`` of this process; starts the process group under
    torchrun (NCCL on GPU, gloo on CPU)."""

    def __init__(self) -> None:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            self.world, self.rank, self.local_rank = 1, 0, 0
            return
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
        self.world, self.rank = dist.get_world_size(), dist.get_rank()
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    def prepare(self, module: nn.Module, device: torch.device) -> nn.Module:
        """Synchronised BatchNorm on GPUs, then the module on ``device``."""
        if self.world > 1 and device.type == "cuda":
            module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
        return module.to(device)

    def wrap(self, net: nn.Module, device: torch.device) -> nn.Module:
        """``net`` in :class:`DistributedDataParallel` when there is more than one rank."""
        if self.world == 1:
            return net
        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids)

    def all_sum(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` summed over ranks (in place)."""
        if self.world > 1:
            dist.all_reduce(t)
        return t

    def agree_max(self, value: float, device: torch.device) -> float:
        """The maximum of ``value`` over ranks (so all ranks stop together)."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t.item())
