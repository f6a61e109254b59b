import math

import numpy as np
import pytest
import torch

from sciml.grid import Grid


def smooth(c):
    return torch.sin(2 * c[0]) * torch.exp(c[1])


@pytest.mark.parametrize("centering", ["vertex", "cell"])
def test_coordinates_and_spacing(centering):
    g = Grid((5, 3), bounds=((0.0, 2.0), (-1.0, 1.0)), centering=centering)
    x, y = g.axes(dtype=torch.float64)
    if centering == "vertex":
        assert g.spacing == (0.5, 1.0)
        assert x.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    else:
        assert g.spacing == pytest.approx((0.4, 2 / 3))
        assert x[0].item() == pytest.approx(0.2) and x[-1].item() == pytest.approx(1.8)
    pts = g.points(dtype=torch.float64)
    assert pts.shape == (15, 2)
    # C order: the last axis runs fastest
    assert torch.equal(pts[1], torch.stack([x[0], y[1]]))


def test_periodic_axis_excludes_right_end():
    g = Grid((4,), periodic=True)
    assert g.axes(dtype=torch.float64)[0].tolist() == [0.0, 0.25, 0.5, 0.75]


def test_linear_resampling_is_second_order():
    errors = []
    for n in (16, 32, 64):
        g = Grid((n, n), bounds=((0, 1), (0, 2)))
        t = Grid((3 * n - 1, 2 * n + 3), bounds=((0, 1), (0, 2)))
        u = smooth(g.coords(dtype=torch.float64))[None, None]
        v = g.resample(u, t)
        errors.append((v - smooth(t.coords(dtype=torch.float64))).abs().max().item())
    ratios = [errors[i] / errors[i + 1] for i in range(2)]
    # halving h must divide the error by ~4 (second order); 3.6-4.4 allows the h^3 term
    assert all(3.6 < r < 4.4 for r in ratios), ratios


def test_linear_resampling_3d_reproduces_linear_fields():
    g, t = Grid((5, 6, 7)), Grid((9, 4, 11), centering="cell")

    def lin(c):
        return 1 + 2 * c[0] - 3 * c[1] + 0.5 * c[2]

    v = g.resample(lin(g.coords(dtype=torch.float64))[None, None], t)
    assert (v - lin(t.coords(dtype=torch.float64))).abs().max() < 1e-13


def test_spectral_resampling_is_exact_for_band_limited_fields():
    def f(c):
        return torch.sin(2 * math.pi * 3 * c[0]) * torch.cos(2 * math.pi * 2 * c[1]) + torch.cos(
            2 * math.pi * 5 * c[0]
        )

    coarse = Grid((32, 16), periodic=True)
    fine = Grid((48, 40), periodic=True, centering="cell")
    up = coarse.resample(f(coarse.coords(dtype=torch.float64))[None, None], fine, "spectral")
    down = fine.resample(f(fine.coords(dtype=torch.float64))[None, None], coarse, "spectral")
    assert (up - f(fine.coords(dtype=torch.float64))).abs().max() < 1e-12
    assert (down - f(coarse.coords(dtype=torch.float64))).abs().max() < 1e-12


def test_interpolate_at_points_is_exact_for_multilinear_fields():
    g = Grid((7, 9), bounds=((-1, 1), (0, 3)))
    pts = torch.rand(200, 2, dtype=torch.float64) * torch.tensor([2.0, 3.0]) + torch.tensor([-1, 0])

    def bilinear(x, y):
        return 1 + 2 * x - 3 * y + 0.25 * x * y

    c = g.coords(dtype=torch.float64)
    vals = g.interpolate(bilinear(c[0], c[1])[None, None], pts)
    assert vals.shape == (1, 1, 200)
    assert (vals[0, 0] - bilinear(pts[:, 0], pts[:, 1])).abs().max() < 1e-13


def test_dict_round_trip():
    g = Grid(
        (8, 4, 3), bounds=((0, 1), (0, 2), (1, 4)), centering="cell", periodic=(True, False, True)
    )
    assert Grid.from_dict(g.to_dict()) == g


def test_refine_halves_the_spacing():
    g = Grid((9, 5), periodic=(True, False))
    r = g.refine(2)
    assert r.shape == (18, 9)
    assert np.allclose(r.spacing, [s / 2 for s in g.spacing])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shape": (4, 4, 4, 4)}, "1, 2 or 3 axes"),
        ({"shape": (4, 4), "bounds": ((0, 1), (1, 0))}, r"bounds\[1\]"),
        ({"shape": (4,), "centering": "face"}, "centering"),
        ({"shape": (4, 4), "periodic": (True,)}, "periodic"),
        ({"shape": (1, 4)}, r"shape\[0\]"),
        ({"shape": (4,), "bounds": ((0, float("nan")),)}, r"bounds\[0\]"),
    ],
)
def test_bad_grid_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Grid(**kwargs)


def test_bad_fields_and_points_are_rejected():
    g = Grid((8, 8))
    with pytest.raises(ValueError, match=r"u must have shape \[B, C, \*\[8, 8\]\]"):
        g.resample(torch.zeros(1, 8, 8), g)
    with pytest.raises(ValueError, match="target must have 2 axes"):
        g.resample(torch.zeros(1, 1, 8, 8), Grid((8,)))
    with pytest.raises(ValueError, match="NaN"):
        g.interpolate(torch.zeros(1, 1, 8, 8), torch.tensor([[float("nan"), 0.5]]))
    with pytest.raises(ValueError, match="outside the grid bounds"):
        g.interpolate(torch.zeros(1, 1, 8, 8), torch.tensor([[1.5, 0.5]]))
    with pytest.raises(ValueError, match="same box"):
        g.resample(torch.zeros(1, 1, 8, 8), Grid((8, 8), bounds=((0, 2), (0, 1))))
    with pytest.raises(ValueError, match="spectral"):
        g.resample(torch.zeros(1, 1, 8, 8), g, method="spectral")
