"""The operator contract over the families that are not plain grid operators: DGNO
(coefficient field -> solution) and the seismic models (velocity <-> shot gathers), and the
check that every registered model has a contract subclass somewhere in tests/operators."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from operator_contract import OperatorContract  # noqa: E402

from sciml.operators.registry import MODELS  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

# a small acquisition: 2 shots, 120 time samples, 24 receivers over a 24 x 24 velocity model
S, NT, R = 2, 200, 24


class TestDGNO(OperatorContract):
    name = "dgno"
    grid_fields = False

    def kwargs(self, ndim):
        return dict(medium="two-phase", latent=8, sensor_shape=(12, 12), width=12, layers=3,
                    coefficient_width=12, encoder_channels=4, u_scale=0.1, flux_scale=2.5)  # fmt: skip

    def inputs(self, batch=2, seed=7):
        g = torch.Generator().manual_seed(seed)
        a = torch.where(torch.rand(batch, 1, 12, 12, generator=g) > 0.5, 10.0, 5.0)
        return {None: a.double()}

    def output_shapes(self, batch=2):
        return {None: (batch, 1, 12, 12)}

    def gradient_loss(self, model, inputs):
        a = inputs[None]
        mu, _ = model.encode(a)  # the coefficient decoder is trained by the ELBO term
        return super().gradient_loss(model, inputs) + model.coefficient_nll(mu, a).mean()

    def bad_inputs(self):
        return [
            (torch.ones(2, 2, 12, 12), None, "x must have shape"),
            (torch.ones(2, 12, 12), None, "x must have shape"),
            (-torch.ones(2, 1, 12, 12), None, "positive"),
        ]


class _Seismic(OperatorContract):
    grid_fields = False
    directions = ("forward", "inverse")

    def common(self):
        return dict(shots=S, nt=NT, receivers=R, size=R)

    def inputs(self, batch=2, seed=7):
        g = torch.Generator().manual_seed(seed)
        x = {
            "forward": torch.randn(batch, 1, R, R, generator=g, dtype=torch.float64),
            "inverse": torch.randn(batch, S, NT, R, generator=g, dtype=torch.float64),
        }
        return {d: x[d] for d in self.directions}

    def output_shapes(self, batch=2):
        out = {"forward": (batch, S, NT, R), "inverse": (batch, 1, R, R)}
        return {d: out[d] for d in self.directions}

    def bad_inputs(self):
        d = self.directions[0]
        wrong = torch.randn(2, S, NT + 1, R) if d == "inverse" else torch.randn(2, 2, R, R)
        return [(self.inputs()[d].float(), "sideways", "direction"), (wrong, d, "must be")]


class TestLatentUNet(_Seismic):
    name = "latent-unet"

    def kwargs(self, ndim):
        return dict(self.common(), latent_channels=4, latent_size=R, width=4, widths=(4, 4, 8, 8))


class TestInvertibleXNet(_Seismic):
    name = "xnet"

    def make(self, ndim=2, in_channels=2, out_channels=3, seed=0):
        """X-Net's couplings start as the identity (zero last convolutions), where the
        gradient of the layers before them is exactly zero: move every weight off it."""
        model = super().make(ndim, seed=seed)
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.05 * torch.randn(p.shape, generator=g, dtype=p.dtype))
        return model

    def kwargs(self, ndim):
        return dict(self.common(), latent_channels=4, latent_size=R, levels=2, blocks=1,
                    widths=(4, 4, 8, 8))  # fmt: skip


class TestInversionNet(_Seismic):
    name = "inversionnet"
    directions = ("inverse",)

    def kwargs(self, ndim):
        return dict(self.common(), width=2)


class TestSeismicFNO(_Seismic):
    name = "seismic-fno"
    directions = ("forward",)
    dtype = torch.float32  # neuraloperator's complex spectral weights stay complex64
    golden_rtol = 1e-5

    def kwargs(self, ndim):
        return dict(shots=S, nt=NT, receivers=R, width=6, modes=(6, 6), layers=2, time_size=30)


def test_every_registered_model_has_a_contract_subclass():
    """A new registry entry without a contract fails here (the contract is the gate)."""
    covered = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        text = path.read_text()
        for name in MODELS:
            if f'name = "{name}"' in text:
                covered.add(name)
    missing = sorted(set(MODELS) - covered)
    assert not missing, f"registered models without an OperatorContract subclass: {missing}"
