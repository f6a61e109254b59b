"""The test mixin every registered operator passes (tests/operators checks that each
registered name has a contract subclass).

A model family supplies ``name`` (registry name), ``kwargs(ndim)`` (small constructor keyword
arguments), ``ndims`` (supported spatial dimensions) and ``golden_dir`` (the folder of its
golden output files; a downstream package keeps its own); it inherits checks of output shapes,
gradient flow to every parameter, save/load in a fresh process, a golden output, resolution
transfer and input validation. Use it from a test module::

    from pathlib import Path
    from sciml.testing.operators import OperatorContract

    class TestMyOperator(OperatorContract):
        name = "my-operator"              # registered in sciml.operators.registry
        golden_dir = Path(__file__).parent / "golden"

        def kwargs(self, ndim):
            return dict(width=8, ndim=ndim)

Golden files are written with ``SCIML_REGEN_GOLDEN=1`` (once, and when an intended change
moves the outputs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

from sciml.grid import Grid
from sciml.operators.registry import build
from sciml.train.checkpoint import save_model

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "OperatorContract",
    "fresh_process_outputs",
    "run_fresh_process_jobs",
    "smooth_field",
]


def _regen() -> bool:
    return os.environ.get("SCIML_REGEN_GOLDEN") == "1"


_LOADER = r"""
import json, sys, torch
torch.set_num_threads(1)
from sciml.operators.model_file import load_operator
jobs = json.loads(sys.argv[1])
for job in jobs:
    op, _ = load_operator(job["model"])
    x = torch.load(job["input"], weights_only=True)
    with torch.no_grad():
        if isinstance(x, dict):  # keyword inputs (mesh operators: points, x, mask)
            y = op(**x)
        else:
            y = op(x) if job.get("direction") is None else op(x, direction=job["direction"])
        torch.save(y, job["output"])
"""


def smooth_field(
    shape: tuple[int, ...], batch: int = 2, channels: int = 1, seed: int = 0
) -> torch.Tensor:
    """A smooth random field ``[batch, channels, *shape]`` (a few low Fourier modes), float64."""
    g = torch.Generator().manual_seed(seed)
    grid = Grid(shape)
    coords = grid.coords(dtype=torch.float64)
    out = torch.zeros(batch, channels, *shape, dtype=torch.float64)
    for k in range(1, 4):
        amp = torch.randn(batch, channels, len(shape), generator=g, dtype=torch.float64) / k
        for ax in range(len(shape)):
            a = amp[:, :, ax].reshape(batch, channels, *([1] * len(shape)))
            out = out + a * torch.sin(k * torch.pi * coords[ax] + 0.3 * k)
    return out


def fresh_process_outputs(jobs: list[dict]) -> None:
    """Run the loader script in a new Python process for all ``jobs`` at once."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", _LOADER, json.dumps(jobs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def run_fresh_process_jobs(families: list, folder: Path) -> dict:
    """One new process for the save/load check of several families: name -> (got, expected)."""
    jobs, expected = [], {}
    for cls in families:
        job, exp = cls().prepare_fresh_process_job(folder / cls.__name__)
        jobs.append(job)
        expected[cls.__name__] = (job, exp)
    fresh_process_outputs(jobs)
    return {
        k: (torch.load(job["output"], weights_only=True), exp) for k, (job, exp) in expected.items()
    }


class OperatorContract:
    """Mixin: subclasses set ``name``, ``ndims``, ``golden_dir`` and implement ``kwargs(ndim)``.

    Grid operators (``grid_fields = True``, the default) map ``[B, C_in, *S]`` to
    ``[B, C_out, *S]`` at any resolution and get the channels from the contract. Other
    families (DGNO's coefficient -> solution, seismic velocity <-> gathers) set
    ``grid_fields = False`` and describe their inputs with :meth:`inputs` (one per direction
    they serve) and their refusals with :meth:`bad_inputs`; the shape, gradient, file,
    golden and bad-input checks then run on those.
    """

    name: str = ""
    #: folder of the golden output files ``<name>.pt`` (None: the golden check fails with a
    #: message asking for one)
    golden_dir: Path | None = None
    ndims: tuple[int, ...] = (2,)
    #: declared: outputs at two resolutions of the same smooth input agree to this relative
    #: L2 (after resampling); ``None`` for models that make no such promise (CNNs)
    transfer_tolerance: float | None = None
    #: dtype of the golden and transfer checks (float64 unless the model cannot run in it)
    dtype: torch.dtype = torch.float64
    #: relative tolerance of the golden check: float64 round-off of different BLAS/FFT builds
    #: is ~1e-14 (float32: ~1e-6); anything larger is a change in arithmetic or initialisation
    golden_rtol: float = 1e-9
    #: a grid operator ``[B, C_in, *S] -> [B, C_out, *S]`` (resolution checks apply)
    grid_fields: bool = True

    def kwargs(self, ndim: int) -> dict:
        raise NotImplementedError

    def make_typed(self, **kw: int) -> nn.Module:
        """The model in ``self.dtype`` (``Module.to(float32)`` would drop imaginary parts of
        complex parameters, so float32 models are left alone)."""
        model = self.make(2, **kw)
        return model if self.dtype == torch.float32 else model.to(self.dtype)

    def make(
        self, ndim: int = 2, in_channels: int = 2, out_channels: int = 3, seed: int = 0
    ) -> nn.Module:
        """The registered model ``name`` for ``ndim``-D fields, initialised from ``seed``."""
        torch.manual_seed(seed)
        if not self.grid_fields:
            return build(self.name, **self.kwargs(ndim))
        return build(
            self.name, in_channels=in_channels, out_channels=out_channels, **self.kwargs(ndim)
        )

    def inputs(self, batch: int = 2, seed: int = 7) -> dict[str | None, torch.Tensor]:
        """``direction -> input`` (``None``: the model's only direction), float64, smooth."""
        return {None: smooth_field((12, 12), batch=batch, channels=2, seed=seed)}

    def output_shapes(self, batch: int = 2) -> dict[str | None, tuple[int, ...]]:
        """``direction -> expected output shape`` for :meth:`inputs`."""
        return {None: (batch, 3, 12, 12)}

    def bad_inputs(self) -> list[tuple[torch.Tensor, str | None, str]]:
        """``(input, direction, message pattern)`` the model must refuse with a ValueError."""
        return [
            (torch.randn(2, 5, 16, 16), None, "x must have shape"),  # 5 channels, expected 2
            (torch.randn(2, 2, 16), None, "x must have shape"),  # 1-D input to a 2-D model
        ]

    def gradient_loss(self, model: nn.Module, inputs: dict) -> torch.Tensor:
        """A scalar that depends on every parameter (default: the outputs' mean squares; a
        model with parts its forward does not use, such as DGNO's coefficient decoder,
        adds their training loss)."""
        return sum(self.apply(model, x, d).square().mean() for d, x in inputs.items())

    @staticmethod
    def apply(model: nn.Module, x: torch.Tensor, direction: str | None) -> torch.Tensor:
        """``model(x)`` in ``direction`` (models with directions take it as a keyword)."""
        return model(x) if direction is None else model(x, direction=direction)

    # ------------------------------------------------------------------ checks
    @pytest.mark.parametrize("ndim", [1, 2, 3])
    def test_output_shape(self, ndim) -> None:
        if not self.grid_fields:
            if ndim != 2:
                pytest.skip(f"{self.name} takes fixed-layout inputs (checked at ndim 2)")
            model = self.make()
            shapes = self.output_shapes()
            for direction, x in self.inputs().items():
                y = self.apply(model, x.float(), direction)
                assert tuple(y.shape) == shapes[direction], (direction, y.shape)
                assert torch.isfinite(y).all()
            return
        if ndim not in self.ndims:
            pytest.skip(f"{self.name} does not support {ndim}-D")
        model = self.make(ndim)
        sizes = {1: (19,), 2: (13, 10), 3: (8, 6, 7)}[ndim]  # odd sizes: padding is automatic
        y = model(torch.randn(2, 2, *sizes))
        assert y.shape == (2, 3, *sizes)
        assert torch.isfinite(y).all()

    def test_gradients_reach_every_parameter(self) -> None:
        model = self.make(2)
        if self.grid_fields:
            model(torch.randn(3, 2, 16, 16)).square().mean().backward()
        else:
            inputs = {d: x.float() for d, x in self.inputs(batch=3).items()}
            self.gradient_loss(model, inputs).backward()
        missing = [n for n, p in model.named_parameters() if p.grad is None]
        zero = [n for n, p in model.named_parameters() if p.grad is not None and not p.grad.any()]
        assert not missing, f"no gradient reached {missing}"
        assert not zero, f"gradient is identically zero for {zero}"

    def test_rejects_bad_input(self) -> None:
        model = self.make(2)
        for x, direction, match in self.bad_inputs():
            with pytest.raises(ValueError, match=match):
                self.apply(model, x, direction)

    def prepare_fresh_process_job(self, folder: Path) -> tuple[dict, torch.Tensor]:
        """Save the model and an input into ``folder``; return the job and expected output."""
        folder.mkdir(parents=True, exist_ok=True)
        model = self.make(2).eval()
        direction, x = next(iter(self.inputs().items()))
        x = torch.randn(2, 2, 12, 12) if self.grid_fields else x.float()
        with torch.no_grad():
            expected = self.apply(model, x, direction)
        save_model(folder / "m.pt", model)
        torch.save(x, folder / "x.pt")
        job = {"model": str(folder / "m.pt"), "input": str(folder / "x.pt")}
        job["output"] = str(folder / "y.pt")
        job["direction"] = direction
        return job, expected

    def test_save_load_in_fresh_process_is_identical(self, tmp_path, request) -> None:
        """Bitwise identical outputs after loading in a new Python process.

        A test module may provide a ``fresh_process_results`` fixture that runs the jobs of
        all its families in one process (saves interpreter start-ups); otherwise this runs
        its own.
        """
        try:
            shared = request.getfixturevalue("fresh_process_results")
        except pytest.FixtureLookupError:
            shared = {}
        if type(self).__name__ in shared:
            got, expected = shared[type(self).__name__]
        else:
            job, expected = self.prepare_fresh_process_job(tmp_path)
            fresh_process_outputs([job])
            got = torch.load(job["output"], weights_only=True)
        assert torch.equal(got, expected), (got - expected).abs().max()

    def test_golden_output(self) -> None:
        """float64 output on a fixed input with a fixed-seed model matches the stored file.

        Tolerance ``golden_rtol`` (see the class attribute).
        """
        model = self.make_typed(seed=1234).eval()
        direction, x = next(iter(self.inputs(seed=7).items()))
        x = x.to(self.dtype)
        with torch.no_grad():
            y = self.apply(model, x, direction)
        if self.golden_dir is None:
            pytest.fail(f"{type(self).__name__} must set golden_dir (the golden files' folder)")
        regen = _regen()
        path = Path(self.golden_dir) / f"{self.name}.pt"
        if regen or not path.exists():
            if not regen:
                pytest.fail(f"missing golden file {path}; run with SCIML_REGEN_GOLDEN=1")
            path.parent.mkdir(exist_ok=True)
            torch.save({"x": x, "y": y, "torch": str(torch.__version__)}, path)
        ref = torch.load(path, weights_only=True)
        assert torch.equal(ref["x"], x)
        rel = ((y - ref["y"]).norm() / ref["y"].norm()).item()
        assert rel < self.golden_rtol, rel

    def test_discretisation_transfer(self) -> None:
        """Evaluate on 16x16 and on the same input resampled to 32x32 with Grid."""
        if not self.grid_fields:
            pytest.skip(f"{self.name} takes fixed-layout inputs (no resolution transfer)")
        model = self.make_typed().eval()
        coarse, fine = Grid((16, 16)), Grid((31, 31))
        x = smooth_field(coarse.shape, batch=2, channels=2).to(self.dtype)
        x_fine = coarse.resample(x, fine)
        with torch.no_grad():
            y, y_fine = model(x), model(x_fine)
        assert y_fine.shape == (2, 3, 31, 31) and torch.isfinite(y_fine).all()
        if self.transfer_tolerance is not None:
            back = fine.resample(y_fine, coarse)
            rel = ((back - y).norm() / y.norm()).item()
            assert rel < self.transfer_tolerance, rel
