"""Offline data: the dSprites-style renderer, its factor oracle, digit transformation sequences."""

import math

import pytest
import torch

from sciml.traversal.sequences import TRANSFORMS, digit_sequences, hue_to_rgb
from sciml.traversal.sprite_oracle import SpriteOracle
from sciml.traversal.sprites import _inside, render_sprites, sprite_grid_values, sprites


def _brute_force(shape, scale, angle, x, y, size, ss, radius=0.16):
    # every sub-pixel of the whole frame (what the patch renderer must reproduce)
    sub = (torch.arange(size * ss) + 0.5) / (size * ss)
    out = []
    for i in range(shape.shape[0]):
        px, py = sub[None, :] - x[i], sub[:, None] - y[i]
        c, s = math.cos(angle[i]), math.sin(angle[i])
        r = radius * scale[i]
        u, v = (c * px - s * py) / r, -(s * px + c * py) / r
        hit = _inside(int(shape[i]), u, v).float()
        out.append(hit.reshape(size, ss, size, ss).mean((1, 3)))
    return torch.stack(out)[:, None]


def test_patch_renderer_equals_whole_frame_renderer():
    s = sprites(24, size=20, seed=5, supersample=3)
    v = s.values
    ref = _brute_force(s.factors[:, 0], v[:, 1], v[:, 2], v[:, 3], v[:, 4], 20, 3)
    assert torch.equal(s.images, ref)
    assert s.images.min() >= 0 and s.images.max() <= 1
    # seeded and reproducible; the whole grid has prod(sizes) images
    assert torch.equal(sprites(24, size=20, seed=5, supersample=3).images, s.images)
    full = sprites(None, size=8, sizes=(2, 2, 2, 2, 2), supersample=1)
    assert len(full) == 32 and full.factors.unique(dim=0).shape[0] == 32


def test_sprite_factors_and_errors():
    grid = sprite_grid_values()
    assert [g.numel() for g in grid] == [3, 6, 8, 16, 16]
    assert grid[2].max() < math.pi / 4 and grid[1][0] == 0.5 and grid[3][-1] == pytest.approx(0.8)
    one = sprites(factors=torch.tensor([[0, 5, 0, 0, 0]]), size=32, supersample=8)
    # a square of scale 1: side 1.6 * 0.16 * 32 = 8.19 px, area 67.1 px^2
    assert one.images.sum().item() == pytest.approx((1.6 * 0.16 * 32) ** 2, rel=0.02)
    with pytest.raises(ValueError, match="factor levels"):
        sprites(factors=torch.tensor([[3, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="shape \\[2\\]"):
        render_sprites(torch.zeros(2, dtype=torch.long), torch.ones(3), *torch.zeros(3, 2))


def test_oracle_reads_back_the_factors_of_rendered_sprites():
    s = sprites(400, size=32, seed=7)
    est = SpriteOracle(32)(s.images)
    sz = torch.tensor(s.sizes, dtype=torch.float32) - 1
    truth = s.factors.float() / sz
    assert (est[:, 0] == s.factors[:, 0]).float().mean() > 0.85  # shape
    assert (est[:, 1] - truth[:, 1]).abs().mean() < 0.03  # scale, in units of its range
    assert (est[:, 2] - truth[:, 2]).abs().mean() < 0.1  # orientation
    assert (est[:, 3:] - truth[:, 3:]).abs().max() < 0.05  # position: 0.05 * 19 px < 1 px


def test_hue_colours():
    rgb = hue_to_rgb(torch.tensor([0.0, 120.0, 240.0, 60.0, 180.0, 360.0]))
    expect = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 0]]
    assert torch.allclose(rgb, torch.tensor(expect, dtype=torch.float32))


def test_digit_sequences_apply_their_transformation():
    tr, te = digit_sequences("train", size=24), digit_sequences("test", size=24)
    assert len(tr) + len(te) == 3 * 1797
    assert set(tr.digit.tolist()).isdisjoint(te.digit.tolist())  # disjoint digit images
    assert tr.transform.unique().tolist() == [0, 1, 2] and len(TRANSFORMS) == 3
    idx = torch.tensor([0, 1, 2])  # digit 0 under scale, rotation, hue
    x = tr.render(idx)  # [3, 9, 3, 24, 24]
    assert x.shape == (3, 9, 3, 24, 24) and x.min() >= 0 and x.max() <= 1
    mass = x.sum((2, 3, 4))  # [3, 9]
    # scale 1 -> 1.8: the drawn area grows as scale^2 (bilinear sampling: within 5%)
    assert mass[0, -1] / mass[0, 0] == pytest.approx(1.8**2, rel=0.05)
    # rotation and hue keep the amount of ink
    assert (mass[1] / mass[1, 0] - 1).abs().max() < 0.08
    gray = x[2].max(1).values  # [9, H, W]: the value channel is unchanged by a hue shift
    assert torch.allclose(gray, gray[0].expand_as(gray), atol=1e-5)
    colour = x[2].sum((2, 3)) / x[2].sum((1, 2, 3))[:, None]  # [9, 3] mean colour
    assert (colour[1:] - colour[:-1]).abs().sum(1).min() > 0.01  # the colour moves each step
    # frames are rendered on demand and reproducibly
    assert torch.equal(tr.render(idx, torch.tensor([0, 4]))[:, 1], x[:, 4])
    with pytest.raises(ValueError, match="split"):
        digit_sequences("val")
