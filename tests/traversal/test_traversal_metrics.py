"""MIG, DCI, the importance-weighted bound and traversal quality give their known values."""

import math

import pytest
import torch

from sciml.traversal import LinearDirections
from sciml.traversal.dci import dci, dci_from_importance
from sciml.traversal.likelihood import iw_log_likelihood
from sciml.traversal.mig import mig, mutual_information
from sciml.traversal.quality import factor_changes, traversal_quality
from sciml.traversal.sprite_oracle import SpriteOracle
from sciml.traversal.sprites import render_sprites, sprite_grid_values
from sciml.traversal.vae import ConvVAE


def _factors(n=3000, levels=(5, 6, 4), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randint(0, k, (n,), generator=g) for k in levels], 1)


def _codes(f, mix, seed=1):
    g = torch.Generator().manual_seed(seed)
    c = f.double() / (torch.tensor([5, 6, 4]) - 1) + 0.02 * torch.randn(
        f.shape, generator=g, dtype=torch.float64
    )
    if mix:  # an orthonormal basis that mixes all three (Helmert)
        q = torch.tensor(
            [
                [1 / 3**0.5, 1 / 2**0.5, 1 / 6**0.5],
                [1 / 3**0.5, -1 / 2**0.5, 1 / 6**0.5],
                [1 / 3**0.5, 0.0, -2 / 6**0.5],
            ],
            dtype=torch.float64,
        )
        c = c @ q
    return torch.cat([c, 0.3 * torch.randn(f.shape[0], 1, generator=g, dtype=torch.float64)], 1)


def test_mutual_information_of_known_pairs():
    a = torch.arange(4000) % 4
    assert mutual_information(a, a) == pytest.approx(math.log(4), rel=1e-9)
    assert mutual_information(a, torch.arange(4000) // 1000) < 1e-9  # independent
    with pytest.raises(ValueError, match="L >= 2"):
        mig(torch.randn(10, 1), a[:10, None])


def test_mig_perfect_is_one_and_mixed_is_lower():
    f = _factors()
    perfect, gaps = mig(_codes(f, False), f)
    mixed, _ = mig(_codes(f, True), f)
    assert perfect > 0.95 and gaps.shape == (3,)
    assert mixed < 0.5 * perfect, (perfect, mixed)
    # a nuisance code duplicating factor 0 closes that factor's gap
    dup = torch.cat([_codes(f, False), f[:, :1].double()], 1)
    assert mig(dup, f)[1][0] < 0.05


def test_dci_perfect_is_one_and_mixed_is_lower():
    assert dci_from_importance(torch.eye(4)) == pytest.approx((1.0, 1.0))
    d, c = dci_from_importance(torch.ones(4, 4))
    assert d == pytest.approx(0.0, abs=1e-12) and c == pytest.approx(0.0, abs=1e-12)
    f = _factors(1000)
    good, bad = dci(_codes(f, False), f), dci(_codes(f, True), f)
    assert good["disentanglement"] > 0.85 and good["completeness"] > 0.85
    assert good["informativeness"] > 0.95
    assert bad["disentanglement"] < good["disentanglement"] - 0.3
    assert bad["completeness"] < good["completeness"] - 0.3


def test_iw_bound_tightens_to_the_exact_likelihood():
    # 1-D latent: log p(x) = log int p(x|z) N(z; 0, 1) dz by quadrature is the exact value
    torch.manual_seed(0)
    vae = ConvVAE(1, 8, 1, width=4, likelihood="gaussian").double()
    vae.log_scale.data.fill_(math.log(0.6))
    x = torch.rand(3, 1, 8, 8, dtype=torch.float64)
    z = torch.linspace(-9, 9, 6001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        out = vae.decode(z)
        ll = torch.stack([vae.log_likelihood(xi.expand(len(z), -1, -1, -1), out) for xi in x])
    log_prior = -0.5 * z[:, 0] ** 2 - 0.5 * math.log(2 * math.pi)
    exact = torch.logsumexp(ll + log_prior, 1) + math.log(z[1, 0] - z[0, 0])
    g = torch.Generator().manual_seed(0)
    reps = 20
    bound = {
        k: torch.stack(
            [iw_log_likelihood(vae, x, samples=k, generator=g) for _ in range(reps)]
        ).mean(0)
        for k in (1, 10, 1000)
    }
    assert (bound[1] <= bound[10] + 0.05).all() and (bound[10] <= bound[1000] + 0.05).all()
    assert (bound[1000] <= exact + 0.05).all()  # a lower bound (up to Monte Carlo noise)
    assert (exact - bound[1000]).abs().max() < 0.05 * (exact - bound[1]).abs().max() + 0.05


def test_traversal_quality_of_an_ideal_traversal_of_the_true_renderer():
    # the "generator" is the renderer itself with latent = (scale, angle, x, y) of a square:
    # axis-aligned directions change exactly one factor each
    grid = sprite_grid_values()

    def render(z):
        n = z.shape[0]
        return render_sprites(torch.zeros(n, dtype=torch.long), z[:, 0], z[:, 1], z[:, 2], z[:, 3])

    trav = LinearDirections(4, 4, step_size=0.02, directions=torch.eye(4), learnable=False)
    g = torch.Generator().manual_seed(0)
    lo = torch.tensor([0.62, 0.2, 0.35, 0.35])
    z0 = lo + 0.15 * torch.rand(32, 4, generator=g) * torch.tensor([1.0, 1.0, 1.0, 1.0])
    assert grid[1][0] <= z0[:, 0].min()
    ch = factor_changes(trav, render, SpriteOracle(32), z0, 3, categorical=(0,))
    q = traversal_quality(ch)
    assert ch.shape == (4, 5)
    assert q["quality"] > 0.8, ch
    assert q["factor"].tolist() == [1, 2, 3, 4]  # each direction found its own factor
    # a rotated set of directions mixes the factors
    rot = torch.linalg.qr(torch.randn(4, 4, generator=g))[0]
    mixed = LinearDirections(4, 4, step_size=0.02, directions=rot, learnable=False)
    qm = traversal_quality(factor_changes(mixed, render, SpriteOracle(32), z0, 3, categorical=(0,)))
    assert qm["quality"] < q["quality"] - 0.2
    # the matching on a constructed matrix
    perfect = traversal_quality(torch.eye(3) * 0.1)
    assert perfect["quality"] == pytest.approx(1.0) and perfect["rate"] == pytest.approx(0.1)


def test_sefa_directions_are_the_leading_eigenvectors_of_the_pullback_metric():
    from sciml.traversal.sefa import pullback_metric, sefa_directions

    g = torch.Generator().manual_seed(0)
    a = torch.randn(12, 4, generator=g, dtype=torch.float64)
    gen = lambda z: (z @ a.T).reshape(-1, 3, 4)  # noqa: E731  linear: J = a everywhere
    z = torch.randn(10, 4, generator=g, dtype=torch.float64)
    assert torch.allclose(pullback_metric(gen, z, batch_size=3), a.T @ a)
    dirs = sefa_directions(gen, z, 2).directions.double()
    u, s, vh = torch.linalg.svd(a)
    assert torch.allclose((dirs @ vh[:2].T).abs(), torch.eye(2, dtype=torch.float64), atol=1e-5)
    # nonlinear decoder: the JVPs agree with autograd's full Jacobian
    vae = ConvVAE(1, 8, 3, width=4).double()
    zz = torch.randn(4, 3, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda q: vae.mean_image(q[None])[0].flatten(), zz[0])
    assert torch.allclose(pullback_metric(vae.mean_image, zz[:1]), jac.T @ jac, atol=1e-10)
