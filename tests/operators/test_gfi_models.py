"""GFI seismic imaging models: invertibility, volume preservation, shapes, and overfitting."""

import numpy as np
import pytest
import scipy.ndimage
import torch

from sciml.operators.registry import build
from sciml.operators.seismic.invertible_layers import (
    AdditiveCoupling,
    InvertibleDownsampling,
    OrthogonalMixing,
    log_abs_det_jacobian,
)
from sciml.operators.seismic.iunet import InvertibleUNet
from sciml.operators.seismic.normalization import SeismicNormalization
from sciml.operators.seismic.seismic_codec import SeismicDecoder, SeismicEncoder
from sciml.operators.seismic.velocity_codec import VelocityDecoder, VelocityEncoder
from sciml.train.ssim import gaussian_window, ssim


def _randomize(
    module: torch.nn.Module, std: float = 0.3, seed: int = 0, conv_scale: float = 1.0
) -> None:
    """Move every layer away from its identity initialisation: convolutions get PyTorch's
    default (fan-in scaled) random weights times ``conv_scale``, the orthogonal parameters
    random generators."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.reset_parameters()
                m.weight.mul_(conv_scale)
            elif isinstance(m, (OrthogonalMixing, InvertibleDownsampling)):
                m.param.add_(std * torch.randn(m.param.shape, generator=g, dtype=m.param.dtype))


def test_iunet_inverse_inverts_forward_to_1e_5():
    # exact up to round-off: float64 with full-size random couplings
    net = InvertibleUNet(16, levels=4, blocks=2).double()
    _randomize(net)
    x = torch.randn(2, 16, 32, 32, dtype=torch.float64)
    y = net(x)
    assert ((net.inverse(y) - x).norm() / x.norm()).item() < 1e-12
    assert ((y - x).norm() / x.norm()).item() > 0.1  # not the identity
    # float32 at a trained-like weight scale (couplings whose F is ~1-Lipschitz): 1e-5; with
    # full fan-in scaled random weights round-off grows through the 16 couplings to ~2e-5
    net = InvertibleUNet(16, levels=4, blocks=2)
    _randomize(net, conv_scale=0.5)
    x = torch.randn(3, 16, 64, 64)
    y = net(x)
    assert (y - x).abs().max() > 0.1  # not the identity
    rel = ((net.inverse(y) - x).norm() / x.norm()).item()
    worst = ((net.inverse(y) - x).abs().max() / x.abs().max()).item()
    print(f"iUNet inverse(forward(x)): relative L2 error {rel:.2e}, max {worst:.2e} (float32)")
    assert rel < 1e-5 and worst < 1e-5, (rel, worst)
    rel_back = ((net(net.inverse(x)) - x).norm() / x.norm()).item()
    assert rel_back < 1e-5, rel_back


def test_xnet_translator_is_exactly_invertible_inside_the_model():
    net = build("xnet", latent_channels=8, latent_size=32, levels=3, blocks=2, nt=200)
    _randomize(net.translator)
    z = net.vel_encoder(torch.randn(2, 1, 70, 70))
    assert z.shape == (2, 8, 32, 32)
    err = (net.translator.inverse(net.translator(z)) - z).abs().max() / z.abs().max()
    assert err < 1e-5


@pytest.mark.parametrize(
    "make",
    [
        lambda: AdditiveCoupling(4),
        lambda: OrthogonalMixing(4, seed=3),
        lambda: InvertibleDownsampling(4),
        lambda: InvertibleUNet(4, levels=2, blocks=1),
    ],
    ids=["coupling", "mixing", "downsampling", "iunet"],
)
def test_blocks_are_volume_preserving_by_autograd(make):
    layer = make().double()
    _randomize(layer, seed=1)
    assert layer.volume_preserving  # the declared contract
    x = torch.randn(4, 6, 6, dtype=torch.float64)
    logdet = log_abs_det_jacobian(layer, x).item()
    assert abs(logdet) < 1e-9, logdet
    y = layer(x[None])
    assert torch.allclose(layer.inverse(y)[0], x, atol=1e-12)


def test_orthogonal_mixing_and_downsampling_are_orthogonal():
    mix = OrthogonalMixing(6, seed=2)
    w = mix.weight()
    assert torch.allclose(w @ w.T, torch.eye(6, dtype=w.dtype), atol=1e-12)
    down = InvertibleDownsampling(3)
    _randomize(down)
    q = down.weight()
    assert torch.allclose(
        q @ q.transpose(1, 2), torch.eye(4, dtype=q.dtype).expand(3, 4, 4), atol=1e-12
    )
    x = torch.randn(2, 3, 8, 10)
    assert torch.allclose(down(x).norm(), x.norm(), rtol=1e-5)  # an isometry


@pytest.mark.parametrize("latent", [70, 64, 32])
def test_codecs_round_trip_shapes(latent):
    lat = (latent, latent)
    venc, vdec = (
        VelocityEncoder(latent_channels=8, latent_size=lat),
        VelocityDecoder(latent_channels=8, latent_size=lat),
    )
    senc, sdec = (
        SeismicEncoder(latent_channels=8, latent_size=lat),
        SeismicDecoder(latent_channels=8, latent_size=lat),
    )
    v, p = torch.randn(2, 1, 70, 70), torch.randn(2, 5, 1000, 70)
    assert senc.time_out == 74  # GFI: 1000 -> 334 -> 165 -> 82 -> 78 -> 74
    assert venc(v).shape == senc(p).shape == (2, 8, latent, latent)
    assert vdec(venc(v)).shape == v.shape
    assert sdec(senc(p)).shape == p.shape
    with pytest.raises(ValueError, match="seismic data must be"):
        senc(torch.randn(2, 5, 999, 70))
    with pytest.raises(ValueError, match="velocity must be"):
        venc(torch.randn(2, 1, 60, 70))


@pytest.mark.parametrize(
    "name, kwargs, direction, shape",
    [
        ("latent-unet", dict(latent_channels=8, width=8, nt=200), "inverse", (2, 1, 70, 70)),
        (
            "xnet",
            dict(latent_channels=8, latent_size=32, levels=3, blocks=1, nt=200),
            "forward",
            (2, 5, 200, 70),
        ),  # fmt: skip
        ("inversionnet", dict(width=4, nt=200), "inverse", (2, 1, 70, 70)),
        (
            "seismic-fno",
            dict(width=8, modes=(8, 8), layers=2, nt=200, time_size=50),
            "forward",
            (2, 5, 200, 70),
        ),  # fmt: skip
    ],
)
def test_registered_models_shapes_gradients_and_file_round_trip(
    name, kwargs, direction, shape, tmp_path
):
    from sciml.operators.model_file import load_operator
    from sciml.train.checkpoint import save_model

    torch.manual_seed(0)
    net = build(name, **kwargs)
    x = torch.randn(2, 1, 70, 70) if direction == "forward" else torch.randn(2, 5, 200, 70)
    out = net(x, direction=direction)
    assert out.shape == shape
    inputs = {"forward": torch.randn(2, 1, 70, 70), "inverse": torch.randn(2, 5, 200, 70)}
    sum(net(inputs[d], direction=d).square().mean() for d in net.directions).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing, missing  # gradients reach every parameter
    save_model(tmp_path / "m.pt", net)
    loaded, _ = load_operator(tmp_path / "m.pt")
    net.eval()
    with torch.no_grad():
        assert torch.allclose(loaded(x, direction=direction), net(x, direction=direction))
    with pytest.raises(ValueError, match="direction"):
        net(x, direction="sideways")


def test_ssim_matches_a_direct_evaluation_of_the_formula():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 1, 24, 20, generator=g, dtype=torch.float64)
    y = (x + 0.2 * torch.rand(1, 1, 24, 20, generator=g, dtype=torch.float64)).clamp(0, 1)
    w1 = gaussian_window(11, 1.5, dtype=torch.float64).numpy()
    w = np.outer(w1, w1)

    def blur(a):
        return scipy.ndimage.convolve(a, w, mode="constant", cval=0.0)

    a, b = x[0, 0].numpy(), y[0, 0].numpy()
    mx, my = blur(a), blur(b)
    sxx, syy, sxy = blur(a * a) - mx**2, blur(b * b) - my**2, blur(a * b) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    ref = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    assert abs(ssim(x, y).item() - ref.mean()) < 1e-12
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-12)
    assert ssim(x, y).item() == pytest.approx(ssim(y, x).item(), abs=1e-14)


def test_normalization_round_trip():
    norm = SeismicNormalization.fit(torch.randn(4, 5, 30, 7) * 3 + 1)
    v = torch.tensor([1500.0, 2000.0, 4500.0])
    assert torch.allclose(norm.velocity_from(norm.velocity(v)), v)
    p = torch.randn(3, 5, 30, 7)
    assert torch.allclose(norm.seismic_from(norm.seismic(p)), p, atol=1e-6)
    assert SeismicNormalization.from_dict(norm.to_dict()) == norm
    with pytest.raises(ValueError, match="seismic_std"):
        SeismicNormalization(seismic_std=0.0)
