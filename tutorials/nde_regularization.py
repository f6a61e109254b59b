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
# ## Letting the regularizer pick its own weight
#
# The weights above (`w0 = 0.3` and `1.0`) were chosen by hand. Too small a weight saves no
# evaluations; too large a one trades accuracy for speed. `sciml.workflows.nde_sweep.sweep`
# trains the unregularized model and a ladder of weights `W`, scores each on a **validation**
# split (288 training images held out; the test images are not looked at) and takes
#
# $$ w^\star = \arg\min_{w \in W} \mathrm{NFE}_\mathrm{val}(w) \quad \text{subject to}
#    \quad e_\mathrm{val}(w) \le 1.05\, e_\mathrm{val}(0), \qquad
#    \mathrm{NFE}_\mathrm{val}(w) < \mathrm{NFE}_\mathrm{val}(0), $$
#
# where `e` is the validation error (here `1 - accuracy`) and `w = 0` the unregularized
# model. When no weight qualifies, the unregularized model is kept: the regularizer never costs
# accuracy. Only then is the test split scored, for `w*` alone. The rule itself is a small
# pure function, `sciml.nde.selection.select_weight`; the command line runs the same sweep
# (`sciml nde sweep digits --reg local-error --out sweep`).

# %%
from sciml.workflows.nde_sweep import plot_pareto, sweep, sweep_report

SWEEP_ITERS = 120 if SMOKE else 400
SWEEP_WEIGHTS = [0.1, 0.3, 1.0] if SMOKE else [0.1, 0.3, 1.0, 3.0]
result = sweep(
    problem, [problem.make_regularizer("local-error")], steps=SWEEP_ITERS,
    weights=SWEEP_WEIGHTS, seeds=(0,), log=print,
)  # fmt: skip
print(sweep_report(result))
plot_pareto(result, os.path.join(OUT, "nde_sweep.png"))

# %% [markdown]
# The left panel is the Pareto front of validation error against prediction NFE (right: against
# prediction wall time): each dot is one weight, the star the unregularized model, the red
# line the 1.05x tolerance, and the circled dot the weight the rule chose. Larger weights move
# down (fewer evaluations) and right (worse validation error).

# %%
chosen = result.selected["local-error"]
row = result.summary[1]
print(
    f"chosen w0 = {chosen}: test NFE ratio {row['predict_nfe_ratio']:.2f}, test error ratio "
    f"{row['error_ratio']:.2f}, prediction time ratio {row['predict_time_ratio']:.2f}"
)
assert chosen is not None, "no weight kept the validation error within 1.05x and saved NFE"
assert row["predict_nfe_ratio"] < 1.0, row["predict_nfe_ratio"]
# chosen on validation data, the weight keeps the *test* error within 1.1x as well
assert row["error_ratio"] <= 1.1, row["error_ratio"]

# %% [markdown]
# ## Exercises
#
# 1. Biased local regularization: build `LocalRegularizer("error", sampling="steps")` (the
#    regularization time is the start of a uniformly chosen accepted step) and pass it to
#    `problem.build`. Does it find the same 3-step solution?
# 2. Train with `problem.make_regularizer("stiffness")` and `"local-stiffness"`. Which of the
#    two penalties lowers the prediction NFE here? (The 2023 paper reports that local
#    stiffness regularization did not help.)
# 3. Sweep the global-error weight too (`sweep(problem, [problem.make_regularizer("error"),
#    ...], ...)`) with three seeds (`seeds=(0, 1, 2)`): does it choose a weight, and how far
#    do the seeds' test errors scatter around the mean?
# 4. The same experiments from the command line, with times and ratios:
#    `sciml nde digits --reg none error local-error --quick`, and the sweep on a physical
#    system whose true vector field sets a floor on the NFE:
#    `sciml nde sweep van-der-pol --reg local-error --quick --out vdp_sweep`.
