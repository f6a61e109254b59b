# %% [markdown]
# # Regularizing a neural ODE so the adaptive solver takes fewer steps
#
# A neural ODE classifier maps an input `x` to `z(0) = tanh(W x)`, integrates
# `dz/dt = f_theta(t, z)` to `t = 1` with an adaptive solver (torchdiffeq's `dopri5`), and
# reads the class from `z(1)`. Training only asks `z(1)` to be right; nothing stops it from
# learning a vector field the solver finds hard, so the number of function evaluations (NFE) -
# the cost of every prediction - drifts upwards.
#
# The solver already measures how hard each step is: the embedded error estimate `E_j`
# (the controller accepts the step when `E_j <= 1` and picks the next `dt` from it). Pal et
# al. (ICML 2021) add `sum_j E_j |dt_j|` to the loss (**global error regularization**,
# differentiated through our own solve, `sciml.nde.odesolve`), and Pal et al. (ICML 2023) use
# a single differentiable step at a random time on top of the ordinary torchdiffeq solve
# (**local regularization**, `sciml.nde.regularizers.LocalRegularizer`), which costs only 7
# extra evaluations per batch.
#
# We train the same classifier on scikit-learn's 8x8 digits three ways and look at the
# learned trajectories and at the step sizes the solver takes.

# %%
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from sciml.nde.problems import Digits
from sciml.nde.schedules import ExponentialDecay
from sciml.nde.task import RegularizedTask
from sciml.train import TrainConfig, Trainer

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = os.environ.get("SCIML_TUTORIAL_OUT", ".")
torch.set_num_threads(1)  # tiny matrices: one thread is fastest

N_TRAIN = 600 if SMOKE else None  # None: all 1437 training images
ITERS = 80 if SMOKE else 400
DIM, HIDDEN = (16, 32) if SMOKE else (32, 64)

# the experiment as a problem object: data, model, fit loss (cross-entropy) and test metric
problem = Digits(dim=DIM, hidden=HIDDEN, n_train=N_TRAIN, batch_size=64 if SMOKE else 128)
problem.setup("cpu")
xte, yte = problem.xte, problem.yte
print(f"train {tuple(problem.xtr.shape)}, test {tuple(xte.shape)}")

# %% [markdown]
# ## Training
#
# Each step minimises
#
# $$ \mathcal{L} = \frac{1}{|B|} \sum_{i \in B} \mathrm{CE}(\mathrm{logits}_i, y_i)
#    + w(k)\, R, \qquad w(k) = w_0 \, 10^{-k/K}, $$
#
# where `R` is the regularizer's penalty from the same solve
# (`logits, R = model.forward_regularized(x)`), `k` the step and `K` the number of steps: the
# weight decays exponentially from `w0` to `w0/10` (large early, when the vector field takes
# shape; small late, when accuracy is polished). `RegularizedTask` is exactly this loss; the
# package's one `Trainer` runs it (batches, Adam, checkpoints with exact resume, logs of the fit
# loss, the penalty and the NFE of every training solve).


# %%
def train(name: str, weight: float):
    torch.manual_seed(0)
    model = problem.build(problem.make_regularizer(name))  # "none", "error", "local-error"
    schedule = ExponentialDecay(weight, weight / 10, ITERS) if weight else None
    config = TrainConfig(
        epochs=ITERS, max_steps=ITERS, batch_size=problem.batch_size, lr=1e-2,
        optimizer="adam", weight_decay=0.0, scheduler="none", amp="none", progress=False,
    )  # fmt: skip
    task = RegularizedTask(problem, schedule)
    history = Trainer(model, config, task=task, device="cpu").fit()  # tiny models: CPU
    print(f"{name:>12}: last epoch's training NFE per step {history[-1]['nfe']:.1f}")
    return model.eval()


models = {
    "unregularized": train("none", 0.0),
    "global error": train("error", 0.3),
    "local error": train("local-error", 1.0),
}

# %% [markdown]
# ## Prediction cost and accuracy
#
# We solve the whole test set as one batch and record every accepted step (torchdiffeq calls
# `callback_accept_step(t0, y0, dt)` on the wrapped vector field).

# %%
results = {}
for name, model in models.items():
    f = model.ode.func  # an NFECounter around the vector field
    f.reset()
    f.record_steps = True
    with torch.no_grad():
        z0 = model._encode(xte)
        t = torch.linspace(0, 1, 41)
        zs = model.ode(z0, t)  # [41, N, dim]
        acc = (model.decoder(zs[-1]).argmax(-1) == yte).float().mean().item()
    steps = [(float(t0), float(dt)) for t0, _, dt in f.steps]
    f.record_steps = False
    results[name] = {"acc": acc, "nfe": f.nfe, "steps": steps, "zs": zs}
    print(f"{name:>14}: accuracy {acc:.3f}, NFE {f.nfe}, accepted steps {len(steps)}")

# %% [markdown]
# ## Learned trajectories and step sizes
#
# Left: the latent trajectories of 40 test digits (colour = class), projected on the two
# leading principal components of each model's states. Right: the step sizes the solver
# accepted (the last step overshoots t = 1; torchdiffeq interpolates back to it).

# %%
fig, axes = plt.subplots(1, 4, figsize=(18, 4))
for ax, (name, r) in zip(axes[:3], results.items()):
    flat = r["zs"].reshape(-1, r["zs"].shape[-1])  # each model has its own latent space
    mean = flat.mean(0)
    _, _, v = torch.pca_lowrank(flat - mean, q=2, center=False)
    p = (r["zs"][:, :40] - mean) @ v  # [41, 40, 2]
    for i in range(40):
        ax.plot(p[:, i, 0], p[:, i, 1], color=plt.cm.tab10(int(yte[i])), lw=0.8)
    ax.set_title(f"{name}: acc {r['acc']:.3f}, NFE {r['nfe']}")
    ax.set_xlabel("PC 1")
axes[0].set_ylabel("PC 2")
for name, r in results.items():
    ts, dts = zip(*r["steps"])
    axes[3].step(ts, dts, where="post", marker="o", label=f"{name} ({len(ts)} steps)")
axes[3].set_xlabel("t")
axes[3].set_ylabel("accepted dt")
axes[3].set_yscale("log")
axes[3].legend()
fig.tight_layout()
fig.savefig(os.path.join(OUT, "nde_regularization.png"), dpi=100)

# %% [markdown]
# ## Headline
#
# The regularized models predict with far fewer function evaluations at about the same
# accuracy. (The full benchmark, `benchmarks/nde_regularization.py`, adds STEER, RNODE,
# stiffness regularization, the spiral ODE/SDE and a latent ODE.)

# %%
base = results["unregularized"]
for name in ("global error", "local error"):
    r = results[name]
    ratio = r["nfe"] / base["nfe"]
    print(
        f"{name}: NFE ratio {ratio:.2f}, accuracy change {100 * (r['acc'] - base['acc']):+.1f} pp"
    )
    assert ratio <= 0.8, f"{name}: NFE ratio {ratio:.2f} > 0.8"
    assert r["acc"] >= base["acc"] - 0.03, f"{name}: accuracy dropped by more than 3 pp"

# %% [markdown]
# ## Exercises
#
# 1. Biased local regularization: build `LocalRegularizer("error", sampling="steps")` (the
#    regularization time is the start of a uniformly chosen accepted step) and pass it to
#    `problem.build`. Does it find the same 3-step solution?
# 2. Train with `problem.make_regularizer("stiffness")` and `"local-stiffness"`. Which of the
#    two penalties lowers the prediction NFE here? (The 2023 paper reports that local
#    stiffness regularization did not help.)
# 3. Sweep the global-error weight `w0` over 0.03, 0.3, 3 and plot accuracy against NFE: where
#    does accuracy start to pay for fewer steps?
# 4. The same experiments from the command line, with times and ratios:
#    `sciml nde digits --reg none error local-error --quick`.
