"""The grid stencil operator and the fused CG loop: the stencil equals the assembled matrix, and
fused CG gives the iterates of eager CG (float64, eager fallback and torch.compile on the CPU;
compiled + CUDA graph on CUDA, skipped without it)."""

import pytest
import torch

from sciml.grid import Grid
from sciml.physics.elliptic import assemble_elliptic
from sciml.solvers.krylov.cg import cg
from sciml.solvers.krylov.fused import fused_cg, iteration_bytes
from sciml.solvers.krylov.preconditioners import Jacobi
from sciml.solvers.krylov.stencil import StencilOperator
from sciml.solvers.poisson_problems import make_problem

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def dense_apply(system, x: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(system.matrix @ x.numpy().T).T


@pytest.mark.parametrize(
    "case",
    ["2d-coefficient", "2d-periodic", "3d-obstacles-jump", "3d-pinned"],
)
def test_stencil_equals_assembled_matrix(case):
    gen = torch.Generator().manual_seed(0)
    if case == "2d-coefficient":
        g = Grid((9, 7), centering="cell")
        system = assemble_elliptic(g, coefficient=torch.rand(g.shape, generator=gen) + 0.1)
    elif case == "2d-periodic":
        g = Grid((8, 6), centering="cell", periodic=(True, False))
        system = assemble_elliptic(g, coefficient=torch.rand(g.shape, generator=gen) + 0.1)
    elif case == "3d-obstacles-jump":
        system = make_problem(10, ndim=3, family="blobs", density_ratio=1000.0, seed=1).system
    else:
        g = Grid((6, 5, 4), centering="cell")
        system = assemble_elliptic(g, walls={k: "neumann" for k in ("x-", "x+", "y-", "y+", "z-", "z+")}, on_singular="pin")  # fmt: skip
        assert len(system.pinned) == 1
    op = StencilOperator.from_system(system)
    x = torch.randn(3, system.n, generator=gen, dtype=torch.float64)
    scale = abs(system.matrix).max()
    # same coefficients, different summation order: agreement to a few ulps of the entries
    assert (op(x) - dense_apply(system, x)).abs().max() / scale < 1e-14
    diag = torch.from_numpy(system.matrix.diagonal())
    assert (op.diagonal() - diag).abs().max() / scale < 1e-14
    # a field that vanishes on solid cells stays zero there
    y = op.apply_field(op.to_field(x))
    assert float(y[:, ~op.active].abs().sum()) == 0.0
    # eager CG accepts the stencil (as_operator sees matrix + matvec)
    assert op.n == system.n and repr(op).startswith("StencilOperator")


def problem(n=(14, 12), family="blobs", seed=0, ratio=None):
    p = make_problem(n, ndim=len(n), family=family, seed=seed, density_ratio=ratio)
    gen = torch.Generator().manual_seed(seed)
    b = torch.stack([p.b, torch.randn(p.system.n, generator=gen, dtype=torch.float64), p.b * 0])
    return p.system, b


@pytest.mark.parametrize("precond", [False, True])
@pytest.mark.parametrize("shape", [(14, 12), (9, 8, 7)])
def test_fused_matches_eager_cg_iterates(shape, precond):
    """Batched columns (one zero), 5- and 7-point stencils, plain and Jacobi."""
    # seed 2: with the resolution-consistent obstacles of physics/fields/obstacles.py, seeds 0, 1 and
    # 4 put one plain-CG column on the stopping boundary (seed 0, 2-D: eager 1.05e-10 vs fused
    # 0.93e-10 at iteration 75; round-off), so the exact per-column count differs by one
    system, b = problem(shape, seed=2)
    M = Jacobi(system.matrix) if precond else None
    ref = cg(system.matrix, b, M=M, rtol=1e-10)
    res = fused_cg(system, b, M=M, rtol=1e-10, check_every=5)
    assert bool(res.converged.all()) and ref.iterations == res.iterations
    # per-column iteration counts equal those of eager CG run on that column alone
    per_col = [cg(system.matrix, b[j], M=M, rtol=1e-10).iterations for j in range(3)]
    assert res.extra["iterations_per_column"].tolist() == per_col
    assert per_col[2] == 0  # the zero right-hand side is converged from the start
    # same iterates to round-off: the first iterations agree to ~1e-13 (CG amplifies
    # round-off later on, so the whole history is compared loosely)
    k = min(12, ref.iterations)
    h_ref, h = ref.residuals[: k + 1, :2], res.residuals[: k + 1, :2]
    assert ((h - h_ref).abs() / h_ref).max() < 1e-12
    err = (res.x - ref.x).abs().max() / ref.x.abs().max()
    assert err < 1e-9  # residual 1e-10, cond ~1e2-1e3: both within ~1e-8 of the solution
    assert float(res.residual.max()) <= 1e-10
    assert len(res.times) == res.iterations + 1 and bool((res.times.diff() >= 0).all())


def test_check_interval_does_not_change_the_iterates():
    system, b = problem((12, 12), ratio=1000.0)
    a = fused_cg(system, b, rtol=1e-8, check_every=1)
    c = fused_cg(system, b, rtol=1e-8, check_every=13)
    assert torch.equal(a.x, c.x) and a.iterations == c.iterations
    assert c.extra["iterations_run"] % 13 == 0 and c.extra["iterations_run"] >= c.iterations


def test_x0_maxiter_and_single_rhs():
    system, b = problem((12, 10))
    ref = cg(system.matrix, b[0], rtol=1e-9)
    x0 = 0.9 * ref.x
    res = fused_cg(system, b[0], x0=x0, rtol=1e-9, check_every=4)
    ref0 = cg(system.matrix, b[0], x0=x0, rtol=1e-9)
    assert res.x.shape == b[0].shape and isinstance(res.converged, bool)
    assert res.converged and res.iterations == ref0.iterations
    capped = fused_cg(system, b[0], rtol=1e-12, maxiter=7, check_every=4)
    assert capped.iterations == 7 and not capped.converged
    assert capped.residual == pytest.approx(cg(system.matrix, b[0], rtol=1e-12, maxiter=7).residual, rel=1e-10)  # fmt: skip


def test_clear_errors():
    system, b = problem((8, 8))
    with pytest.raises(TypeError, match="grid stencil"):
        fused_cg(system.matrix, b)
    with pytest.raises(ValueError, match="check_every"):
        fused_cg(system, b, check_every=0)
    with pytest.raises(ValueError, match=r"b must have shape"):
        fused_cg(system, b[:, :-1])
    with pytest.raises(TypeError, match="Jacobi"):
        fused_cg(system, b, M=lambda r: r)
    op = StencilOperator.from_system(system)
    neg = StencilOperator(-op.center, [-t for t in op.faces], op.periodic, op.active)
    with pytest.raises(ValueError, match="not positive definite"):
        fused_cg(neg, b[:1], check_every=3)


def test_iteration_bytes_model():
    system, _ = problem((8, 6, 4))
    op = StencilOperator.from_system(system)
    # 3-D: 4 coefficient arrays + 11 vector passes of 8 bytes per cell
    assert iteration_bytes(op) == 8 * 8 * 6 * 4 * 15
    assert iteration_bytes(op, 2, jacobi=True) == 8 * 8 * 6 * 4 * (5 + 22)


@pytest.mark.slow
def test_compiled_step_on_cpu_matches_eager():
    """torch.compile of the step (inductor's C++ backend here, Triton on CUDA): same iterates.

    About 40 s on a loaded 2-core machine (the compilation)."""
    system, b = problem((10, 9))
    ref = cg(system.matrix, b, rtol=1e-10)
    res = fused_cg(system, b, rtol=1e-10, check_every=6, compile=True)
    if not res.extra["compiled"]:
        pytest.skip("torch.compile is unavailable here (no C++ compiler)")
    assert res.iterations == ref.iterations
    assert (res.x - ref.x).abs().max() / ref.x.abs().max() < 1e-9


@cuda
@pytest.mark.gpu
@pytest.mark.parametrize("precond", [False, True])
def test_cuda_graph_compiled_matches_eager(precond):
    system, b = problem((16, 14, 12))
    M = Jacobi(system.matrix) if precond else None
    ref = cg(system.matrix, b, M=M, rtol=1e-10)
    res = fused_cg(system, b.cuda(), M=M, rtol=1e-10, check_every=8)
    assert res.extra["compiled"] and res.extra["cuda_graph"]
    assert res.iterations == ref.iterations
    assert (res.x.cpu() - ref.x).abs().max() / ref.x.abs().max() < 1e-9
    # float32: converges to a float32 tolerance on the GPU
    r32 = fused_cg(system, b.float().cuda(), M=M, rtol=1e-5, check_every=8)
    assert bool(r32.converged.all()) and float(r32.residual.max()) <= 1e-5
