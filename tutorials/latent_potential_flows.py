# %% [markdown]
# # Latent traversals as potential flows
#
# A generative model `G` (here the decoder of a VAE) maps a latent code `z` to an image. A
# *traversal* is a path `z_0, z_1, ...` in latent space whose images change one thing at a
# time: the shape moves right, turns, grows. Linear directions (`z_{t+1} = z_t + eps d_k`)
# are the classic answer; they cannot bend around the curved structure of a learned latent
# space.
#
# Song, Keller, Sebe and Welling (ICML 2023) let `K` scalar **potentials** `u_k(z, t)` move
# codes along their gradients,
#
# $$z_{t+1} = z_t + \nabla_z u_k(z_t, t),$$
#
# and ask each potential to obey a PDE, the way a physical potential does. With the wave
# equation $\partial_t^2 u_k = c_k^2 \Delta_z u_k$ the flows are "latent waves"; the follow-up work uses
# other PDEs. A **reconstructor** network sees two consecutive frames of a traversal and must
# tell which `k` produced them: if it can, the `K` traversals change different things.
#
# The objective of each path (potential `k`, start `z_0`, a step `tau`):
#
# $$\mathrm{CE}\big(R(G(z_\tau), G(z_{\tau+1})), k\big) + \frac{1}{S}\sum_s r_k(z_s, s)^2
# + \lVert \nabla_z u_k(z_0, 0) \rVert^2 - \log V$$
#
# with `r_k` the PDE residual at the points the flow visits, the initial condition "start at
# rest" (wave equation only) and `V` the mean square of the generator's Jacobian-vector
# product along the step (it keeps the flow from stalling; the paper subtracts `V` itself,
# which is unbounded below -- see `TraversalObjective`).
#
# In `sciml` the PDE is **not re-typed**: the residual is the autograd face of the physics
# engine's PDE objects (`AcousticWave`, `Heat`, `FokkerPlanck`, `HamiltonJacobi`), which work
# in latent spaces of any dimension. The Laplacian is the true trace of the Hessian (exact,
# or Hutchinson's estimator for large latents), not the Hessian times a ones-vector of the
# published code.

# %%
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from sciml.physics import Hutchinson, laplacian_estimator
from sciml.physics.pdes.pde import autograd_derivatives
from sciml.traversal import (
    PDEConstraint,
    PotentialFlow,
    Reconstructor,
    TraversalObjective,
    traversal_pde,
)
from sciml.traversal.strips import strip_grid, traversal_frames
from sciml.workflows.traversal_experiments import (
    SpriteBudget,
    build_traversal,
    evaluate_traversal,
    train_sprite_vae,
    train_traversal,
)

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = os.environ.get("SCIML_TUTORIAL_OUT", ".")
torch.set_num_threads(1)  # small models: one thread is fastest
torch.manual_seed(0)

# %% [markdown]
# ## The Laplacian: exact trace vs Hutchinson vs "Hessian times ones"
#
# For a potential on an 8-dimensional latent space, the exact Laplacian takes one backward
# pass per axis. Hutchinson's estimator `mean_p v_p^T H v_p` (random +-1 vectors `v`) takes
# one pass per probe and is unbiased. The row sums `H 1` that the published code calls a
# Laplacian are a vector, and their sum `1^T H 1` counts every off-diagonal entry twice.

# %%
g = torch.Generator().manual_seed(0)
a = torch.randn(8, 8, generator=g, dtype=torch.float64)
z = torch.randn(4, 8, generator=g, dtype=torch.float64, requires_grad=True)
u = (torch.sin(z @ a) ** 2).sum(1)  # a potential with a dense Hessian
exact = autograd_derivatives(u, z, ["lap"], "s" * 8)["lap"]
with laplacian_estimator(Hutchinson(probes=2000, generator=g)):
    hutch = autograd_derivatives(u, z, ["lap"], "s" * 8)["lap"]
grad = torch.autograd.grad(u.sum(), z, create_graph=True)[0]
h_ones = torch.autograd.grad(grad.sum(), z)[0]  # the published "u_zz": H 1, a vector
print("exact trace      ", exact.detach().numpy().round(3))
print("Hutchinson (2000)", hutch.detach().numpy().round(3))
print("sum of H 1       ", h_ones.sum(1).numpy().round(3))
assert (hutch - exact).abs().max() < 0.1 * exact.abs().max()

# %% [markdown]
# ## Two potentials on a toy generator
#
# A "generator" that only sees two directions of a 4-D latent space. Two potentials under
# the Hamilton-Jacobi equation `u_t + |grad u|^2 / 2 = 0` (whose flows move on straight lines
# at constant speed) and a reconstructor train together; its loss starts at chance (`log 2`).

# %%
dirs = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]) / 2**0.5


def toy_generator(z):
    return torch.cat([z @ dirs.T, torch.tanh(z @ dirs.T)], 1)


flow = PotentialFlow(4, 2, hidden=16)
objective = TraversalObjective(
    steps=3, constraint=PDEConstraint(traversal_pde("hamilton-jacobi", 4)), variation=0.1
)
rec = Reconstructor((4,), 2, width=32)
opt = torch.optim.Adam([*flow.parameters(), *rec.parameters()], lr=3e-2)
ce = []
for _ in range(100):
    loss, terms = objective(
        flow, toy_generator, rec, torch.randn(64, 4, generator=g), generator_rng=g
    )
    opt.zero_grad()
    loss.mean().backward()
    opt.step()
    ce.append(terms["cls"].mean().item())
toy_ce = sum(ce[-5:]) / 5
print(f"reconstructor loss: {ce[0]:.3f} -> {toy_ce:.4f}")

# %% [markdown]
# The flows in the plane of the two visible directions, on top of each potential at `t = 1`:
# paths bend with the potential, unlike a linear direction.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
s = torch.linspace(-2.5, 2.5, 60)
ga, gb = torch.meshgrid(s, s, indexing="xy")
plane = ga.reshape(-1, 1) * dirs[0] + gb.reshape(-1, 1) * dirs[1]
starts = torch.randn(12, 4, generator=g) * 0.8
for k, ax in enumerate(axes):
    with torch.no_grad():
        pot = flow.potentials[k](plane, 1.0).reshape(60, 60)
    ax.contourf(ga, gb, pot, levels=20, cmap="viridis")
    path = flow.trajectory(starts, k, 6) @ dirs.T  # [7, 12, 2]
    for i in range(12):
        ax.plot(path[:, i, 0], path[:, i, 1], "w.-", lw=1)
    ax.set_title(f"potential {k}: flow paths")
fig.tight_layout()
fig.savefig(os.path.join(OUT, "latent_potential_flows_toy.png"), dpi=90)

# %% [markdown]
# ## Traversals of a VAE trained on dSprites-style images
#
# The data are rendered procedurally (`sciml.traversal.sprites`: shape, scale, orientation,
# x, y, all known), a VAE is trained on them through the one `Trainer`, then `K` wave-equation
# potentials and, for comparison, `K` learned linear directions are trained on its latent
# space (the VAE frozen). Each is scored by MIG and DCI of the code it induces and by its
# traversal quality (the share of the factor change per step that falls on its own factor),
# measured on decoded images.

# %%
budget = SpriteBudget.smoke() if SMOKE else SpriteBudget.quick()
vae, data = train_sprite_vae(0, budget)
scores, models = {}, {}
for method in ("wave", "linear"):
    torch.manual_seed(0)
    model, obj = build_traversal(method, vae, data["train"].images, budget)
    train_traversal(model, obj, data, budget, seed=0)
    scores[method] = evaluate_traversal(model, data, budget, seed=0)
    models[method] = model
    s = scores[method]
    print(
        f"{method:>7}: MIG {s['mig']:.3f}  DCI-D {s['dci_d']:.3f}  quality {s['quality']:.3f}"
        f"  matched factors {s['factors']}"
    )

# %% [markdown]
# ## Image strips: one row per traversal
#
# Each row runs one traversal backwards and forwards from the same start (the middle column).
# `sciml traverse RUN_DIR --out DIR` writes the same strips as PNG files and an animated GIF
# per flow for a saved run.

# %%
z0 = torch.randn(1, budget.latent, generator=g)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, (method, model) in zip(axes, models.items()):
    frames = traversal_frames(model, z0, budget.steps)[:, 0]  # [K, F, C, H, W]
    ax.imshow(strip_grid(frames)[0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{method}: rows = traversals")
    ax.axis("off")
fig.tight_layout()
fig.savefig(os.path.join(OUT, "latent_potential_flows_strips.png"), dpi=90)

# %% [markdown]
# ## Headline
#
# The reconstructor tells the two toy potentials apart (chance is `log 2 = 0.69`). The full
# comparison of every PDE against learned and closed-form linear directions over three seeds,
# and the flows as a VAE prior for likelihood, is `benchmarks/traversal.py` (BENCHMARKS.md).

# %%
print(f"toy reconstructor loss {toy_ce:.4f} (chance 0.693)")
assert toy_ce < 0.15, toy_ce

# %% [markdown]
# ## Exercises
#
# 1. Replace the wave equation by `"heat"`, `"fokker-planck"` or `"hamilton-jacobi"` in
#    `build_traversal`; which factor does each potential pick up?
# 2. Train with `TraversalObjective(variation_form="linear")` (the paper's generator-variation
#    term) and watch the size of the steps `|grad u|` during training.
# 3. Wrap the training in `laplacian_estimator(Hutchinson(probes=2))`: how much faster is an
#    epoch, and do the scores change?
# 4. Compare the potentials' codes `u_k(z, t)` at several `t` (`PotentialFlow.code_time`):
#    where along the flow is the induced representation most disentangled?
