"""The operator contract for mesh / point-cloud operators (``sciml.operators.mesh``).

:class:`MeshOperatorContract` is :class:`~sciml.testing.operators.OperatorContract` for models
called as ``model(points [B, N, d], x [B, C_in, N], mask [B, N], weights [B, N]) ->
[B, C_out, N]`` (``weights``: the nodes' quadrature weights). A model
supplies ``name``, ``kwargs(ndim)`` and ``golden_dir`` and inherits:

* output shapes on a padded batch of two meshes of different sizes, 2-D and 3-D (``ndims``);
  the padding never changes the real nodes' outputs;
* gradients reaching every parameter;
* bit-identical outputs after saving and loading in a fresh Python process;
* a golden output (``SCIML_REGEN_GOLDEN=1`` writes it);
* refusal of bad inputs with a ValueError naming the argument: NaN coordinates, points of
  another dimension than the model's, wrong channel counts, an empty mask, negative weights;
* **point-count independence**: the same model (fixed seed, eval mode) on a mesh and on its
  uniform 2x refinement (every coarse node is a node of the fine mesh) gives outputs at the
  shared nodes that differ by less than ``refinement_tolerance`` times the outputs' spread
  (``||y_coarse - y_fine|| / ||y_fine - mean(y_fine)||``: a model whose output hardly varies
  over the nodes cannot pass by being nearly constant).

Use it from a test module::

    class TestTransolver(MeshOperatorContract):
        name = "transolver"
        golden_dir = Path(__file__).parent / "golden"

        def kwargs(self, ndim):
            return dict(coord_dim=ndim, width=16, layers=2, heads=2, slices=8)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree
from torch import nn

from sciml.datasets.mesh_sample import MeshSample
from sciml.datasets.point_batch import pad_point_sets
from sciml.mesh import Mesh
from sciml.operators.registry import build
from sciml.testing.operators import OperatorContract, _regen
from sciml.train.checkpoint import save_model

__all__ = ["MeshOperatorContract", "mesh_inputs", "smooth_nodal"]

IN, OUT = 1, 2  # channels of the contract's models


def smooth_nodal(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """A smooth nodal field ``[N]`` of the coordinates (a few sines), float64 numpy."""
    g = torch.Generator().manual_seed(seed)
    pts = torch.as_tensor(points, dtype=torch.float64)
    out = torch.zeros(pts.shape[0], dtype=torch.float64)
    for k in range(1, 4):
        amp = torch.randn(pts.shape[1], generator=g, dtype=torch.float64) / k
        out = out + (amp * torch.sin(k * torch.pi * pts + 0.3 * k)).sum(1)
    return out.numpy()


def _meshes(ndim: int, refine: int = 1) -> list[Mesh]:
    if ndim == 2:
        return [Mesh.rectangle(6 * refine, 4 * refine), Mesh.rectangle(3 * refine, 5 * refine,
                                                                         ((0.0, 1.5), (0.0, 1.0)))]  # fmt: skip
    return [
        Mesh.box(3 * refine, 3 * refine, 2 * refine),
        Mesh.box(2 * refine, 2 * refine, 2 * refine),
    ]


def mesh_inputs(ndim: int = 2, seed: int = 7, refine: int = 1) -> dict[str, torch.Tensor]:
    """Keyword inputs (``points``, ``x``, ``mask``) of two meshes of different sizes, padded,
    float64."""
    samples = [
        MeshSample.from_mesh(m, smooth_nodal(m.points, seed + i))
        for i, m in enumerate(_meshes(ndim, refine))
    ]
    return pad_point_sets(samples, dtype=torch.float64).model_inputs()


class MeshOperatorContract(OperatorContract):
    """Mixin for mesh operators (see the module docstring)."""

    grid_fields = False
    ndims: tuple[int, ...] = (2, 3)
    #: declared: difference at the shared nodes of a mesh and its 2x refinement, relative to
    #: the outputs' spread over the nodes (see the module docstring)
    refinement_tolerance: float = 0.1

    def make(
        self, ndim: int = 2, in_channels: int = IN, out_channels: int = OUT, seed: int = 0
    ) -> nn.Module:
        """The registered model for ``ndim``-D points, initialised from ``seed``."""
        torch.manual_seed(seed)
        return build(self.name, in_channels=IN, out_channels=OUT, **self.kwargs(ndim))

    def inputs(self, batch: int = 2, seed: int = 7) -> dict:
        return {None: mesh_inputs(2, seed)}

    @staticmethod
    def apply(model, x: dict, direction=None) -> torch.Tensor:
        return model(**x)

    @staticmethod
    def _cast(x: dict, dtype: torch.dtype) -> dict:
        return {k: v if v.dtype == torch.bool else v.to(dtype) for k, v in x.items()}

    def bad_inputs(self) -> list[tuple[dict, None, str]]:
        good = self._cast(mesh_inputs(2), torch.float32)
        nan = dict(good, points=good["points"].clone())
        nan["points"][0, 3, 1] = float("nan")
        three = dict(good, points=torch.cat([good["points"], good["points"][..., :1]], -1))
        wide = dict(good, x=torch.cat([good["x"], good["x"]], 1))
        mask = dict(good, mask=torch.zeros_like(good["mask"]))
        negative = dict(good, weights=-good["weights"])
        return [
            (negative, None, "weights must be finite and >= 0"),
            (nan, None, "points contains NaN"),
            (three, None, "the model was built for 2-D points"),
            (wide, None, "x must have shape"),
            (mask, None, "mask: sample 0 has no nodes"),
        ]

    # ------------------------------------------------------------------ checks
    @pytest.mark.parametrize("ndim", [1, 2, 3])
    def test_output_shape(self, ndim) -> None:
        if ndim not in self.ndims:
            pytest.skip(f"{self.name} does not take {ndim}-D points")
        model = self.make(ndim).eval()
        x = self._cast(mesh_inputs(ndim), torch.float32)
        with torch.no_grad():
            y = model(**x)
            b, n = x["mask"].shape
            assert y.shape == (b, OUT, n) and torch.isfinite(y).all()
            assert (y[~x["mask"].unsqueeze(1).expand_as(y)] == 0).all()  # zero on padding
            k = int(x["mask"][1].sum())  # the second sample alone, without padding
            alone = model(x["points"][1:, :k], x["x"][1:, :, :k], weights=x["weights"][1:, :k])
        assert torch.allclose(alone[0], y[1, :, :k], rtol=1e-4, atol=1e-5)

    def test_gradients_reach_every_parameter(self) -> None:
        model = self.make(2)
        model(**self._cast(mesh_inputs(2), torch.float32)).square().mean().backward()
        missing = [n for n, p in model.named_parameters() if p.grad is None]
        zero = [n for n, p in model.named_parameters() if p.grad is not None and not p.grad.any()]
        assert not missing, f"no gradient reached {missing}"
        assert not zero, f"gradient is identically zero for {zero}"

    def prepare_fresh_process_job(self, folder: Path) -> tuple[dict, torch.Tensor]:
        folder.mkdir(parents=True, exist_ok=True)
        model = self.make(2).eval()
        x = self._cast(mesh_inputs(2), torch.float32)
        with torch.no_grad():
            expected = model(**x)
        save_model(folder / "m.pt", model)
        torch.save(x, folder / "x.pt")
        job = {"model": str(folder / "m.pt"), "input": str(folder / "x.pt")}
        return {**job, "output": str(folder / "y.pt"), "direction": None}, expected

    def test_golden_output(self) -> None:
        """Output on a fixed padded batch with a fixed-seed model matches the stored file."""
        model = self.make_typed(seed=1234).eval()
        x = self._cast(mesh_inputs(2, seed=7), self.dtype)
        with torch.no_grad():
            y = model(**x)
        if self.golden_dir is None:
            pytest.fail(f"{type(self).__name__} must set golden_dir (the golden files' folder)")
        path = Path(self.golden_dir) / f"{self.name}.pt"
        if _regen() or not path.exists():
            if not _regen():
                pytest.fail(f"missing golden file {path}; run with SCIML_REGEN_GOLDEN=1")
            path.parent.mkdir(exist_ok=True)
            torch.save({"x": x, "y": y, "torch": str(torch.__version__)}, path)
        ref = torch.load(path, weights_only=True)
        assert all(torch.equal(ref["x"][k], x[k]) for k in x)
        rel = ((y - ref["y"]).norm() / ref["y"].norm()).item()
        assert rel < self.golden_rtol, rel

    def test_discretisation_transfer(self) -> None:
        """Point-count independence: a mesh and its 2x refinement, outputs at shared nodes."""
        for ndim in self.ndims:
            model = self.make_typed().eval() if ndim == 2 else self.make(ndim).eval()
            dtype = self.dtype if ndim == 2 else torch.float32
            coarse, fine = _meshes(ndim, 2)[0], _meshes(ndim, 4)[0]
            shared = _shared_nodes(coarse, fine)
            f = smooth_nodal(fine.points, 3)
            xc = pad_point_sets([MeshSample.from_mesh(coarse, f[shared])], dtype).model_inputs()
            xf = pad_point_sets([MeshSample.from_mesh(fine, f)], dtype).model_inputs()
            with torch.no_grad():
                yc, yf = model(**xc), model(**xf)[:, :, torch.as_tensor(shared)]
            rel = ((yc - yf).norm() / (yf - yf.mean(-1, keepdim=True)).norm()).item()
            assert rel < self.refinement_tolerance, (ndim, rel)


def _shared_nodes(coarse: Mesh, fine: Mesh):
    """Index into ``fine.points`` of every ``coarse`` node (they must coincide)."""
    dist, idx = cKDTree(fine.points).query(coarse.points)
    assert dist.max() < 1e-12, "the fine mesh must contain the coarse nodes"
    return idx
