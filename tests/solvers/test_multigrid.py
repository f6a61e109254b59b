"""Geometric multigrid (issue 23): the Galerkin coarse stencils equal P^T A P, R = P^T, the
V-cycle is symmetric positive definite (plain, learned, and at extreme learned values),
MG-PCG iterations are flat in n and match CG's solution, batched and float32 cycles work,
the divergence guard falls back to Jacobi-PCG, and bad inputs get one clear error."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sciml.grid import Grid
from sciml.io import FileFormatError
from sciml.physics.elliptic import assemble_elliptic
from sciml.solvers import solve, solve_system
from sciml.solvers.krylov.cg import cg
from sciml.solvers.krylov.stencil import StencilOperator
from sciml.solvers.multigrid import (
    MGPCG,
    CycleParameters,
    Hierarchy,
    LearnedCycle,
    LearnedMGPCG,
    VCycle,
    build_cycle,
    load_lmg,
    mg_pcg,
    save_model,
)
from sciml.solvers.multigrid.hierarchy import coarsen, plan_depth, prolong, restrict
from sciml.solvers.multigrid.loss import pcg_log_factor
from sciml.solvers.poisson_problems import make_problem

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _piecewise_constant_P(fine: tuple[int, ...], active: np.ndarray) -> np.ndarray:
    """Dense P [fine cells, coarse cells]: 1 where a fine (active) cell lies in a coarse block."""
    coarse = tuple((n + 1) // 2 for n in fine)
    idx = np.indices(fine).reshape(len(fine), -1)
    cidx = np.ravel_multi_index(tuple(i // 2 for i in idx), coarse)
    P = np.zeros((int(np.prod(fine)), int(np.prod(coarse))))
    P[np.arange(P.shape[0]), cidx] = 1.0
    return P * active.reshape(-1, 1)


def _dense_stencil(level) -> np.ndarray:
    from sciml.solvers.multigrid.hierarchy import dense_matrix

    A = dense_matrix(level).numpy()
    act = level.active.reshape(-1).numpy()
    return A * np.outer(act, act)  # solid cells: zero rows (not the identity of the solve)


@pytest.mark.parametrize("case", ["2d-odd-solid-jump", "2d-periodic", "3d-obstacles-jump"])
def test_coarse_stencil_is_galerkin(case):
    gen = torch.Generator().manual_seed(0)
    if case == "2d-odd-solid-jump":
        g = Grid((9, 7), centering="cell")
        solid = torch.zeros(g.shape, dtype=torch.bool)
        solid[3:5, 2:4] = True
        coef = torch.where(torch.rand(g.shape, generator=gen) > 0.5, 1.0, 1e-3).double()
        system = assemble_elliptic(g, coefficient=coef, solid=solid,
                                   walls={"x-": "neumann", "y+": "neumann"})  # fmt: skip
    elif case == "2d-periodic":
        g = Grid((8, 6), centering="cell", periodic=(True, False))
        system = assemble_elliptic(g, coefficient=torch.rand(g.shape, generator=gen) + 0.1)
    else:
        system = make_problem(11, ndim=3, family="blobs", density_ratio=1000.0, seed=1).system
    op = StencilOperator.from_system(system)
    fine = Hierarchy.from_operator(op, max_coarse=1).levels[0]
    coarse = coarsen(fine)
    P = _piecewise_constant_P(fine.shape, fine.active.numpy())
    A = _dense_stencil(fine)
    # the stencil of level 0 is the system's matrix (on the active cells)
    act = fine.active.reshape(-1).numpy()
    assert np.allclose(A[np.ix_(act, act)], system.matrix.toarray(), rtol=0, atol=1e-12)
    galerkin = P.T @ A @ P
    assert np.allclose(_dense_stencil(coarse), galerkin, rtol=0, atol=1e-11 * np.abs(A).max())
    # coarse cells are active exactly when a fine cell of their block is
    assert np.array_equal(coarse.active.reshape(-1).numpy(), P.sum(0) > 0)


@pytest.mark.parametrize("shape", [(7, 6), (5, 6, 3), (8, 8)])
def test_restriction_is_the_transpose_of_prolongation(shape):
    gen = torch.Generator().manual_seed(1)
    coarse = tuple((n + 1) // 2 for n in shape)
    zc = torch.randn(2, *coarse, generator=gen, dtype=torch.float64)
    r = torch.randn(2, *shape, generator=gen, dtype=torch.float64)
    lhs = (prolong(zc, shape) * r).sum()
    rhs = (zc * restrict(r, len(shape))).sum()
    assert float(abs(lhs - rhs)) <= 1e-12 * float(r.abs().sum())


def test_plan_depth_matches_the_hierarchy():
    p = make_problem((40, 24, 10), family="spheres", seed=0)
    op = StencilOperator.from_system(p.system)
    h = Hierarchy.from_operator(op)
    assert h.depth == plan_depth(op.shape, op.periodic) == 3  # 9600 -> 1200 -> 180 cells
    assert h.levels[-1].cells <= 512 and [lv.shape for lv in h.levels][1] == (20, 12, 5)


def _random_learned(ndim: int, seed: int) -> LearnedCycle:
    torch.manual_seed(seed)
    net = LearnedCycle(ndim=ndim, levels=3)
    with torch.no_grad():  # far from the initial values: extreme intervals and scales
        net.lower_logit.copy_(torch.randn(3) * 3)
        net.alpha_logit.copy_(torch.randn(3) * 3)
    return net


@pytest.mark.parametrize("which", ["plain", "galerkin-alpha-1", "learned-extreme", "float32"])
def test_cycle_is_symmetric_positive_definite(which):
    p = make_problem(14, ndim=2, family="boxes", density_ratio=1000.0, seed=4)
    dtype = torch.float32 if which == "float32" else torch.float64
    cycle = {
        "plain": None,
        "float32": None,
        "galerkin-alpha-1": CycleParameters.plain(2, alpha=1.0),
        "learned-extreme": _random_learned(2, 0),
    }[which]
    M = build_cycle(p.system, cycle, dtype=dtype, max_coarse=16)
    assert M.hierarchy.depth >= 3
    dense = M.to_dense().numpy()
    sym_err = np.abs(dense - dense.T).max() / np.abs(dense).max()
    # float64: round-off; float32 cycle: single-precision round-off (PCG still converges)
    assert sym_err <= (1e-12 if dtype == torch.float64 else 1e-5)
    eig = np.linalg.eigvalsh(0.5 * (dense + dense.T))
    assert eig.min() > 0
    # (x, M y) == (M x, y) and (x, M x) > 0 on random vectors
    x, y = torch.randn(2, p.system.n, dtype=torch.float64)
    mx, my = M.apply(x), M.apply(y)
    assert abs(float(x @ my - mx @ y)) <= 1e-5 * float(mx.norm() * y.norm())
    assert float(x @ mx) > 0


def test_mg_pcg_solution_equals_cg_and_batches():
    p = make_problem(20, ndim=3, family="cylinders", density_ratio=1000.0, seed=2)
    b = torch.stack([p.b, torch.randn(p.system.n, dtype=torch.float64)])
    ref = cg(p.system.matrix, b, rtol=1e-10, maxiter=20_000)
    for dtype in (torch.float64, torch.float32):
        M = build_cycle(p.system, dtype=dtype)
        res = mg_pcg(M.op, b, M, rtol=1e-10)
        assert bool(res.converged.all()) and res.iterations <= 25
        err = (res.x - ref.x).norm(dim=-1) / ref.x.norm(dim=-1)
        assert float(err.max()) < 1e-7  # both solves reach 1e-10 (cond ~1e4 for this jump)
    one = mg_pcg(M.op, p.b, M, rtol=1e-10)
    assert one.converged and one.x.shape == p.b.shape
    assert torch.allclose(one.x, res.x[0], rtol=0, atol=1e-9 * float(one.x.abs().max()))


def _iterations(ndim: int, n: int, ratio, method) -> int:
    p = make_problem(n, ndim=ndim, family="blobs", density_ratio=ratio, seed=0)
    res = solve(p.system, p.b, method, rtol=1e-6, device="cpu")
    assert res.converged and res.residual <= 1e-6
    return res.iterations


@pytest.mark.parametrize("ratio", [None, 1000.0])
def test_iterations_are_flat_in_n_2d(ratio):
    its = [_iterations(2, n, ratio, MGPCG()) for n in (32, 64, 128, 256)]
    # measured: [8, 8, 8, 9] and [8, 8, 10, 11] (blobs, seed 0; Galerkin alpha = 1: 10 -> 33)
    assert max(its) <= (12 if ratio is None else 14)
    assert max(its) - min(its) <= 3, its


@pytest.mark.parametrize("ratio", [None, 1000.0])
def test_iterations_are_flat_in_n_3d(ratio):
    its = [_iterations(3, n, ratio, MGPCG()) for n in (16, 24, 32)]
    # measured: [7, 8, 8] and [8, 9, 9] (Galerkin alpha = 1: 9/10 -> 14/15)
    assert max(its) <= (10 if ratio is None else 12)
    assert max(its) - min(its) <= 2, its


def test_contraction_factor_bound():
    """The measured PCG convergence factor (A-norm error per iteration) of the plain cycle."""
    p = make_problem(32, ndim=3, family="spheres", density_ratio=1000.0, seed=3)
    op = StencilOperator.from_system(p.system)
    h = Hierarchy.from_operator(op)
    params = CycleParameters.plain(3)
    e0 = torch.randn(4, *op.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    e0 = e0 * op.active
    with torch.no_grad():
        rho = pcg_log_factor(h, [params.level(l)[0] for l in range(h.depth - 1)],
                             [params.level(l)[1] for l in range(h.depth - 1)], e0, 6).exp()  # fmt: skip
    # measured ~0.1: 1e-6 in ~6-8 iterations; Galerkin alpha = 1 gives ~0.25
    assert float(rho.max()) < 0.2


def test_pcg_log_factor_is_differentiable():
    net = LearnedCycle(ndim=2, levels=2)
    p = make_problem(12, ndim=2, family="boxes", seed=0)
    op = StencilOperator.from_system(p.system)
    h = Hierarchy.from_operator(op, max_coarse=16)
    e0 = torch.randn(2, *op.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    e0 = e0 * op.active

    def factor(lower_logit, alpha_logit):
        params = {"lower_logit": lower_logit, "alpha_logit": alpha_logit}
        w, a = torch.func.functional_call(net, params, (h.depth,))
        return pcg_log_factor(h, w, a, e0, 3)

    args = tuple(t.detach().clone().requires_grad_() for t in (net.lower_logit, net.alpha_logit))
    assert torch.autograd.gradcheck(factor, args, eps=1e-6, atol=1e-5)


def test_divergence_guard_falls_back_to_jacobi_pcg():
    p = make_problem(12, ndim=3, family="spheres", seed=0)
    M = build_cycle(p.system, dtype=torch.float64)

    class Broken:  # an indefinite "cycle": z = -B r
        dtype = torch.float64

        def apply_field(self, r):
            return -M.apply_field(r)

    with pytest.warns(RuntimeWarning, match="falling back to Jacobi-PCG"):
        res = mg_pcg(M.op, p.b, Broken(), rtol=1e-8)
    assert res.converged and res.residual <= 1e-8
    assert res.method.endswith("->jacobi-pcg") and "not positive definite" in res.extra["fallback"]

    class Stalls:  # SPD but useless: a tiny multiple of the identity with NaN in one column
        dtype = torch.float64

        def apply_field(self, r):
            return torch.full_like(r, float("nan"))

    with pytest.warns(RuntimeWarning):
        res = mg_pcg(M.op, p.b, Stalls(), rtol=1e-8)
    assert res.converged
    with pytest.raises(ValueError, match="multigrid preconditioner rejected"):
        mg_pcg(M.op, p.b, Broken(), rtol=1e-8, fallback=False)


def test_bad_inputs_get_one_clear_error(tmp_path):
    p = make_problem(8, ndim=3, family="boxes", seed=1)
    A, b, mask = p.system.matrix.tocsr(), p.b.numpy(), p.active.numpy()
    # not positive definite (positive diagonal, symmetric): the Galerkin coarse matrix or PCG
    bad = (A - 1.2 * sp.diags(A.diagonal())).tocsr() + sp.diags(0.5 * A.diagonal())
    with pytest.raises(ValueError, match="not positive definite"):
        solve_system(bad, b, mask=mask, method=MGPCG(), device="cpu")
    # a mask with the right count whose cells are not A's neighbours
    shuffled = np.zeros_like(mask)
    shuffled.reshape(-1)[np.random.default_rng(0).permutation(mask.size)[: mask.sum()]] = True
    with pytest.raises(ValueError, match="A does not match mask.*do not couple face neighbours"):
        solve_system(A, b, mask=shuffled, method=MGPCG(), device="cpu")
    with pytest.raises(ValueError, match="b contains NaN"):
        solve_system(A, np.full_like(b, np.nan), mask=mask, method=MGPCG(), device="cpu")
    # no grid structure: the algebraic alternatives are named
    with pytest.raises(TypeError, match="PyAMG.*PETSc GAMG"):
        build_cycle(A)
    # a learned model for the other dimension
    save_model(LearnedCycle(ndim=2), tmp_path / "lmg2.pt", {"command": "test"})
    with pytest.raises(FileFormatError, match="2-D learned cycle"):
        solve(p.system, p.b, LearnedMGPCG(tmp_path / "lmg2.pt"), device="cpu")


def test_model_file_round_trip_and_refuses_code(tmp_path, malicious_file):
    from sciml.io import atomic_save, model_file_payload

    net = _random_learned(3, 1)
    save_model(net, tmp_path / "m.pt", {"command": "test", "steps": 3})
    back = load_lmg(tmp_path / "m.pt", ndim=3)
    assert back.card["steps"] == 3
    assert torch.equal(back.lower(), net.lower()) and torch.equal(back.alpha(), net.alpha())
    path, marker = malicious_file("model")
    with pytest.raises(FileFormatError):
        load_lmg(path)
    assert not marker.exists()
    atomic_save(model_file_payload({"name": "fno", "kwargs": {}}, {}), tmp_path / "fno.pt")
    with pytest.raises(FileFormatError, match="holds a 'fno' model"):
        load_lmg(tmp_path / "fno.pt")


@pytest.mark.parametrize("ndim", [2, 3])
def test_shipped_learned_cycle(ndim):
    net = load_lmg(ndim=ndim)
    card = net.card
    assert "sciml train-lmg" in card["command"] and card["steps"] > 0
    assert card["recipe"]["ndim"] == ndim and "blobs" not in card["recipe"]["families"]
    n = 24 if ndim == 3 else 128
    p = make_problem(n, ndim=ndim, family="blobs", density_ratio=1000.0, seed=1)
    plain = solve(p.system, p.b, MGPCG(), device="cpu")
    learned = solve(p.system, p.b, LearnedMGPCG(), device="cpu")
    assert learned.converged and plain.converged
    assert learned.iterations <= plain.iterations


def test_training_one_epoch_through_the_trainer(tmp_path):
    from sciml.solvers.multigrid.task import MGRecipe, train_learned_cycle
    from sciml.train import TrainConfig

    recipe = MGRecipe(ndim=2, sizes=(24,), problems=2, rhs=2, chunk=1, steps=3, leftover=1,
                      val_size=24, val_problems=1, card={"command": "test"})  # fmt: skip
    cfg = TrainConfig(epochs=2, batch_size=2, lr=0.05, scheduler="none", amp="none",
                      progress=False, weight_decay=0.0)  # fmt: skip
    net, hist = train_learned_cycle(recipe, cfg, out_dir=tmp_path / "run")
    assert len(hist) == 2 and all(np.isfinite(h["val"]) for h in hist)
    back = load_lmg(tmp_path / "run" / "model.pt", ndim=2)
    assert back.card["recipe"]["sizes"] == [24] and back.card["steps"] == 4


def test_cli_solve_system_with_multigrid(tmp_path, capsys):
    from sciml.cli import main

    p = make_problem(10, ndim=3, family="boxes", density_ratio=1000.0, seed=5)
    sp.save_npz(tmp_path / "A.npz", p.system.matrix.tocsr())
    np.save(tmp_path / "b.npy", p.b.numpy())
    np.save(tmp_path / "mask.npy", p.active.numpy())
    rc = main(["solve", "system", "--matrix", str(tmp_path / "A.npz"), "--rhs",
               str(tmp_path / "b.npy"), "--mask", str(tmp_path / "mask.npy"), "--method",
               "mg-pcg", "lmg-pcg", "--device", "cpu", "--out", str(tmp_path / "x.npy")])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "mg-pcg" in out and "lmg-pcg" in out
    x = np.load(tmp_path / "x.npy")
    assert np.linalg.norm(p.b.numpy() - p.system.matrix @ x) <= 1.01e-6 * np.linalg.norm(p.b)


def test_vcycle_on_a_scipy_free_stencil_and_warnings_free():
    """The cycle applies to fields directly and raises no warnings on a plain solve."""
    system = assemble_elliptic(Grid((32, 32), centering="cell"))
    M = VCycle.from_system(system)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mg_pcg(M.op, torch.ones(2, system.n, dtype=torch.float64), M, rtol=1e-8)
    assert bool(res.converged.all()) and res.extra["fallback"] is None


@pytest.mark.slow
def test_compiled_step_on_cpu_gives_the_eager_iterates():
    """The pure step under torch.compile (what CUDA runs; ~25 s of compiling on the CPU)."""
    p = make_problem(16, ndim=3, family="spheres", density_ratio=1000.0, seed=0)
    M = build_cycle(p.system)
    eager = mg_pcg(M.op, p.b, M, rtol=1e-8)
    compiled = mg_pcg(M.op, p.b, M, rtol=1e-8, compile=True, check_every=4)
    assert compiled.extra["compiled"] and compiled.iterations == eager.iterations  # 10 and 10
    assert float((compiled.x - eager.x).norm() / eager.x.norm()) < 1e-12


@cuda
def test_mg_pcg_on_cuda_compiled_and_graphed():
    p = make_problem(32, ndim=3, family="spheres", density_ratio=1000.0, seed=0)
    cpu = solve(p.system, p.b, MGPCG(), device="cpu")
    M = build_cycle(p.system, device="cuda")
    res = mg_pcg(M.op, p.b.cuda(), M, rtol=1e-6)
    assert res.converged and res.extra["cuda_graph"] and res.extra["compiled"]
    assert abs(res.iterations - cpu.iterations) <= 1
