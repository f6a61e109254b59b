"""The engine runs unchanged on a GPU and agrees with the CPU (skipped without CUDA)."""

import math

import pytest
import torch

from sciml.grid import Grid

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def test_fd_spectral_elliptic_on_gpu():
    from sciml.physics import fd, spectral
    from sciml.physics.elliptic import assemble_elliptic

    g = Grid((32, 24), periodic=(True, False))
    u = torch.randn(2, 1, 32, 24, dtype=torch.float64)
    for fn in (lambda v: fd.laplacian(v, g, 4), lambda v: spectral.spectral_derivative(v, g, 0, 2)):
        assert torch.allclose(fn(u.cuda()).cpu(), fn(u), atol=1e-10)
    system = assemble_elliptic(Grid((16, 16, 8), centering="cell"), on_singular="error")
    x = torch.randn(3, system.n, dtype=torch.float64)
    assert torch.allclose(system.matvec(x.cuda()).cpu(), system.matvec(x), atol=1e-10)
    y = (system.to_torch(device="cuda") @ x.cuda().T).T.cpu()
    assert torch.allclose(y, system.matvec(x), atol=1e-10)


def test_navier_stokes_and_burgers_on_gpu():
    from sciml.physics.steppers.burgers import burgers_initial, solve_burgers
    from sciml.physics.steppers.navier_stokes import navier_stokes_initial, solve_navier_stokes

    g = Grid((64, 64), periodic=True)
    w0 = navier_stokes_initial(g, [0, 1], dtype=torch.float64)
    kw = dict(nu=1e-3, t_end=0.1, dt=1e-3)
    assert torch.allclose(
        solve_navier_stokes(w0.cuda(), g, **kw)[0].cpu(),
        solve_navier_stokes(w0, g, **kw)[0],
        atol=1e-9,
    )
    x, y = g.coords(device="cuda", dtype=torch.float64)
    tg = (torch.sin(2 * math.pi * x) * torch.sin(2 * math.pi * y))[None, None]
    w, _ = solve_navier_stokes(tg, g, nu=1e-3, t_end=1.0, dt=1e-3, forcing=None)
    exact = tg * math.exp(-8 * math.pi**2 * 1e-3)
    assert ((w - exact).norm() / exact.norm()).item() < 1e-6
    g1 = Grid((128,), periodic=True)
    u0 = burgers_initial(g1, [0], dtype=torch.float64)
    kb = dict(nu=0.1, t_end=0.05, dt=1e-3)
    assert torch.allclose(
        solve_burgers(u0.cuda(), g1, **kb)[0].cpu(), solve_burgers(u0, g1, **kb)[0], atol=1e-9
    )


def test_openfwi_propagator_on_gpu_matches_cpu():
    """The torch propagator (what the OpenFWI recipes run on a GPU) needs no deepwave."""
    from sciml.physics.seismic import Survey
    from sciml.physics.seismic.acoustic_fd import simulate_fd
    from sciml.physics.seismic.velocity_models import curved_layers, openfwi_grid

    grid = openfwi_grid()
    survey = Survey.openfwi(grid, nt=300)
    v = curved_layers(grid, [0, 1])
    d_gpu = simulate_fd(v.cuda(), grid, survey).cpu()
    d_cpu = simulate_fd(v, grid, survey, compile=False)
    assert ((d_gpu - d_cpu).norm() / d_cpu.norm()).item() < 1e-4


def test_seismic_on_gpu_matches_cpu():
    pytest.importorskip("deepwave", reason="the deepwave-backed path needs deepwave")
    from sciml.physics.seismic import Survey, simulate
    from sciml.physics.seismic.velocity_models import curved_layers, openfwi_grid

    grid = openfwi_grid()
    survey = Survey.openfwi(grid, nt=300)
    v = curved_layers(grid, [0, 1])
    d_gpu = simulate(v.cuda(), grid, survey).cpu()
    d_cpu = simulate(v, grid, survey)
    # float32 kernels on two devices: agreement to single-precision accumulation error
    assert ((d_gpu - d_cpu).norm() / d_cpu.norm()).item() < 1e-4
