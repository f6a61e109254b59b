# %% [markdown]
# # An inverse problem with error bars: the permeability behind a few pressure readings
#
# A porous medium is made of two materials (permeability `a = 5` or `a = 10`) whose layout we
# do not know. We measure the pressure `u` at a few points, with noise, where
#
# $$ -\nabla\cdot(a\nabla u) = 10 \ \text{in } (0,1)^2, \qquad u = 0 \ \text{on the boundary}. $$
#
# Which layouts `a(x)` are consistent with the readings, and how sure can we be at each point?
# Searching over all `29 x 29` binary pictures is hopeless (`2^841` of them) and badly posed;
# we search instead in the low-dimensional latent space of a **DGNO** (deep generative neural
# operator, Zang & Koutsourelakis 2025):
#
# * a latent code $\beta \in \mathbb{R}^m$ explains both the coefficient and the solution:
#   a decoder gives $p(a \mid \beta)$ (Bernoulli per point: which phase) and another gives
#   $u(x;\beta)$ and the flux $s(x;\beta)$;
# * the model is trained **without any solutions**: the loss is the reconstruction of `a`,
#   a KL term that makes $q(\beta\mid a)$ a proper posterior around the prior $N(0, I)$, and
#   *weak-form residuals* of the PDE, evaluated on many small disks $B(c, R)$ with a
#   compactly supported test function $v$ (Wendland):
#   $\int s\cdot\nabla v\,dx = \int f v\,dx$ and $s = a\nabla u$. Only first derivatives of the
#   network appear, and the flux $s$ stays smooth where `a` jumps;
# * for the inverse problem the decoders are frozen and the latent posterior
#   $$ \log p(\beta\mid y) = -\tfrac12\sum_k \Big(\tfrac{u(x_k;\beta)-y_k}{\sigma}\Big)^2
#      - \tfrac{w\,R(\beta)}{2\sigma_R^2} - \tfrac12|\beta|^2 + \text{const} $$
#   (data, the weak residual as a virtual observation, the prior) is sampled with
#   Metropolis-adjusted Langevin dynamics. Each latent sample gives a field of phase
#   probabilities, so we get a posterior mean of `a`, a pointwise standard deviation and a 95%
#   band, and we can check how often the truth lies inside it.
#
# We will
# 1. generate two-phase Darcy data with FEniCSx (only the coefficients are used for training),
# 2. train a DGNO with the shared Trainer and `DGNOTask` (no solutions),
# 3. write an observation file by hand-like means (JSON: points, values, noise level),
# 4. sample the posterior and plot truth / mean / spread / observation points,
# 5. run the same inversion from the command line.

# %%
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from sciml.datasets import generate
from sciml.grid import Grid
from sciml.inverse import Observations, load_observations, save_observations
from sciml.inverse.latent_inversion import invert_dgno
from sciml.operators.model_file import load_operator
from sciml.operators.point.dgno_task import DGNOLoss, DGNOTask, physics_std
from sciml.operators.registry import build
from sciml.train import TrainConfig, Trainer
from sciml.train.data import load_dataset_file

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = Path(os.environ.get("SCIML_TUTORIAL_OUT", "."))
torch.set_num_threads(1)  # small networks on a shared CPU: threads only add contention
RES = 13 if SMOKE else 29
N_TRAIN, N_VAL = (40, 8) if SMOKE else (1000, 100)
# smoke: a fixed number of epochs (deterministic); full: ten minutes of training
EPOCHS, BUDGET = (40, None) if SMOKE else (10_000, 600.0)
torch.manual_seed(0)

# %% [markdown]
# ## 1. Data
#
# The `darcy-two-phase` recipe thresholds a Gaussian random field on the grid (`a = 10` where
# it is positive, `5` elsewhere) and solves the PDE with FEniCSx on a mesh twice as fine; the
# FEM coefficient is the grid field's nearest-point extension, so the grid input determines the
# solution exactly. The `-inverse` variant also stores noisy observations of `u` at 100 and 25
# interior points with a signal-to-noise ratio of 25 dB
# ($\sigma^2 = \overline{u_{obs}^2}/10^{2.5}$). Different base seeds keep the sets disjoint.

# %%
params = {"resolution": RES}
train_file, inv_file = OUT / f"two_phase_{RES}.h5", OUT / f"two_phase_inverse_{RES}.h5"
if not train_file.exists():
    generate("darcy-two-phase", N_TRAIN + N_VAL, train_file, params=params, seed=1, progress=False)
if not inv_file.exists():
    inv_params = {**params, "observations": "25,10" if SMOKE else "100,25"}
    generate("darcy-two-phase-inverse", 2, inv_file, params=inv_params, seed=4, progress=False)
a, u, meta = load_dataset_file(train_file)
grid = Grid.from_dict(meta["grid"])
a_train, a_val, u_val = a[:N_TRAIN], a[N_TRAIN:], u[N_TRAIN:]
print(f"{N_TRAIN} training coefficients on a {grid.shape} grid (their solutions stay unused)")

# %% [markdown]
# ## 2. Train a DGNO without solutions
#
# `DGNOLoss` holds the weak form: test functions of radius `R` on `n_centres` Latin-hypercube
# centres per step, a polar quadrature rule on each disk, and the loss weights. The
# coefficient inside the residual is the *input* field read at the quadrature points. The
# Trainer selects the saved model on the label-free validation loss; the validation solutions
# we pass are only logged (`val_l2`), so we can watch the forward error fall without using it.

# %%
model = build(
    "dgno", medium="two-phase", sensor_shape=grid.shape,
    latent=16 if SMOKE else 64, width=40 if SMOKE else 100, layers=4 if SMOKE else 5,
    coefficient_width=40 if SMOKE else 128, encoder_channels=16 if SMOKE else 32,
    activation="silu_sin" if SMOKE else "tanh_sin", u_scale=0.1, flux_scale=2.5,
)  # fmt: skip
loss = DGNOLoss(forcing=10.0, radius=0.03 if SMOKE else 0.02, n_centres=24 if SMOKE else 64,
                kl_weight=0.01 if SMOKE else 0.1, val_centres=32 if SMOKE else 64)  # fmt: skip
config = TrainConfig(epochs=EPOCHS, batch_size=10, lr=3e-3,
                     scheduler="cosine", time_budget=BUDGET, progress=False, grad_clip=10.0)  # fmt: skip
run = OUT / "dgno_run"
history = Trainer(model, config, task=DGNOTask(loss), out_dir=run, device="cpu").fit(
    a_train, (a_val, u_val)
)
first, best = history[0], min(history, key=lambda h: h["val_loss"])
print(f"{len(history)} epochs; validation physics residual {first['val_pde']:.3g} -> "
      f"{best['val_pde']:.3g}; forward error of u (logged only) {best['val_l2']:.3f}")  # fmt: skip

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy([h["val_pde"] for h in history], label="weak residual (val)")
ax.semilogy([h["val_l2"] for h in history], label="rel. L2 of u (val, logged)")
ax.set_xlabel("epoch")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "inverse_darcy_training.png", dpi=100)

# %% [markdown]
# ## 3. Observations: a file a person can write
#
# An observation file lists points, measured values and the noise (`noise_std`, one number or
# one per point, or `snr_db`). Here we write one from the held-out inverse test field; a
# hand-written JSON with the same three fields works the same way, and a malformed one is
# refused with a one-line error naming the file and the field.

# %%
a_inv, u_inv, _ = load_dataset_file(inv_file)
count = 25 if SMOKE else 100
obs, _ = Observations.synthetic(u_inv[0, 0], grid, count, snr_db=25.0, seed=7)
save_observations(obs, OUT / "observations.json", overwrite=True)
print(json.dumps(json.loads((OUT / "observations.json").read_text()), indent=None)[:160], "...")
obs = load_observations(OUT / "observations.json")

# %% [markdown]
# ## 4. The posterior of the coefficient
#
# The trained model file carries its loss settings and the validation level of the physics
# misfit, which sets $\sigma_R$. `invert_dgno` starts several chains from the prior, anneals
# the noise down to $\sigma$ while it searches for modes, drops modes with negligible mass and
# runs Langevin chains from the rest.

# %%
trained, extra = load_operator(run / "model.pt")
post = invert_dgno(trained, obs, DGNOLoss.from_dict(extra["dgno_loss"]),
                   physics_std=physics_std(extra), chains=4 if SMOKE else 8,
                   map_steps=150 if SMOKE else 300, sample_steps=40 if SMOKE else 200,
                   centres=24 if SMOKE else 128, seed=0)  # fmt: skip
truth = a_inv[0, 0]
err, coverage = post.relative_error(truth), post.coverage(truth)
# no-data reference: the decoders averaged over prior samples of the latent code
with torch.no_grad():
    prior_beta = torch.randn(256, trained.latent)
    pts = grid.points()
    prior_a = trained.coefficient_mean(prior_beta, pts).mean(0).reshape(grid.shape)
    prior_u = trained.decode_solution(prior_beta, pts)["u"].mean(0).reshape(grid.shape)
prior_err = float((prior_a - truth).norm() / truth.norm())
u_true = u_inv[0, 0]
u_err = float((post.u_mean - u_true).norm() / u_true.norm())
prior_u_err = float((prior_u - u_true).norm() / u_true.norm())
print(f"{obs.count} observations: u rel. L2 {u_err:.3f} (prior: {prior_u_err:.3f}); a rel. L2 "
      f"{err:.3f} (prior: {prior_err:.3f}); truth inside the 95% band at {100 * coverage:.1f}% "
      f"of the points; {post.info['samples']} samples, acceptance "
      f"{post.info.get('accept_rate', 0):.2f}")  # fmt: skip

fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
extent = [0, 1, 0, 1]
for ax, (title, f) in zip(axes, [("truth", truth), ("posterior mean", post.a_mean),
                                 ("pointwise std", post.a_std)]):  # fmt: skip
    im = ax.imshow(
        f.T, origin="lower", extent=extent, **({} if "std" in title else {"vmin": 5, "vmax": 10})
    )
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8)
outside = ((truth < post.a_lower) | (truth > post.a_upper)).float()
axes[3].imshow(outside.T, origin="lower", extent=extent, cmap="Reds")
p = obs.points.numpy()
axes[3].scatter(p[:, 0], p[:, 1], s=10, c="k")
axes[3].set_title("observations; red: truth outside 95% band")
fig.tight_layout()
fig.savefig(OUT / "inverse_darcy_posterior.png", dpi=100)

# %% [markdown]
# The spread concentrates on the interfaces between the phases: far from the observation
# points and along boundaries the data cannot pin down where exactly one material ends. A
# calibrated 95% band contains the truth at about 95% of the points; the benchmark
# (`benchmarks/dgno_darcy.py`, BENCHMARKS.md) reports this coverage over several fields.

# %%
assert post.a_mean.shape == grid.shape and torch.isfinite(post.a_std).all()
# the posterior explains the observations far better than the prior does
assert u_err < 0.6 * prior_u_err, (u_err, prior_u_err)
if not SMOKE:  # a trained model also moves the coefficient towards the truth
    assert err < prior_err, (err, prior_err)
assert 0.5 < coverage <= 1.0, coverage

# %% [markdown]
# ## 5. The same from the command line
#
# ```bash
# sciml invert darcy dgno_run --obs observations.json --out inversion --truth truth.npz
# ```
#
# writes `posterior.npz` (mean, std, band, samples), `summary.json` (error and coverage when a
# truth is given) and `coefficient.png` / `solution.png`.
#
# ## Exercises
#
# 1. Invert from 25 instead of 100 observations: how do the error and the spread change?
# 2. Set `physics_weight=0` (data and prior only): does the physics term help?
# 3. Use `method="ensemble"` (modes only, no Langevin): is the band still calibrated?
# 4. Train on `darcy-lognormal` (`medium="lognormal"`): the primal weak form and a Gaussian
#    decoder of `log a`; compare the coverage of a smooth field with that of a two-phase one.
# 5. Make the latent space smaller (`latent=8`): what happens to the reconstruction of `a`,
#    to the forward error, and to the uncertainty of the inversion?
