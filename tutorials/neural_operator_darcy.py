# %% [markdown]
# # Learning the Darcy solution operator
#
# A *neural operator* learns a map between functions. Here the input is the permeability
# `a(x)` of a porous medium and the output is the pressure `u(x)` solving
#
# $$ -\nabla\cdot(a\nabla u) = 1 \ \text{in } (0,1)^2, \qquad u = 0 \ \text{on the boundary}, $$
#
# with `a` piecewise constant (12 or 3, thresholded Gaussian random field): the `darcy-pwc`
# benchmark of the FNO and LSM papers. Each training pair is one FEniCSx solve; once trained,
# the operator predicts a new solution in milliseconds.
#
# We will
# 1. generate data with `sciml.datasets.generate` (FEniCSx ground truth on a Grid),
# 2. train a Latent Spectral Model (LSM) and an FNO with `sciml.train.Trainer`,
# 3. look at the per-sample errors: where does the model fail?
# 4. evaluate the same models on data at a **finer resolution** than they were trained on.

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from sciml.datasets import generate, split_indices
from sciml.grid import Grid
from sciml.operators.registry import build
from sciml.train import TrainConfig, Trainer, evaluate, predict, relative_l2
from sciml.train.data import load_dataset_file

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = Path(os.environ.get("SCIML_TUTORIAL_OUT", "."))
if SMOKE:
    torch.set_num_threads(1)  # CI boxes are shared; small models do not gain from threads
N, RES, EPOCHS = (56, 17, 30) if SMOKE else (600, 33, 60)
N_TEST = 16 if SMOKE else 100
torch.manual_seed(0)

# %% [markdown]
# ## 1. Data
#
# `generate` runs one FEniCSx solve per sample on a mesh twice as fine as the output grid
# and stores inputs `[N, 1, R, R]` and outputs `[N, 1, R, R]` with the Grid and provenance.
# Samples are seeded, so the file is reproducible.

# %%
path = OUT / f"darcy_pwc_{RES}.h5"
if not path.exists():
    generate("darcy-pwc", N, path, params={"resolution": RES, "store_mesh_values": False}, seed=0)
x, y, meta = load_dataset_file(path)
grid = Grid.from_dict(meta["grid"])
train_idx, test_idx = split_indices(N, [N - N_TEST, N_TEST], seed=0)
x_train, y_train = x[train_idx], y[train_idx]
x_test, y_test = x[test_idx], y[test_idx]
print(f"{len(train_idx)} training and {len(test_idx)} test samples on a {grid.shape} grid")

# %% [markdown]
# Every error in this tutorial is the relative $L^2$ error per sample, averaged over the test
# set:
#
# $$ \varepsilon(\hat u, u) = \frac{\lVert \hat u - u \rVert_2}{\lVert u \rVert_2}, $$
#
# with the norms taken over the grid points. A trivial baseline: predict the mean training
# solution $\bar u$ for every input. A useful operator has to do much better than this.

# %%
mean_u = y_train.mean(dim=0, keepdim=True).expand_as(y_test)
baseline = relative_l2(mean_u, y_test).item()
print(f"mean-solution baseline: test relative L2 = {baseline:.3f}")

# %% [markdown]
# ## 2. Train an LSM (and an FNO next to it)
#
# An operator network $\mathcal G_\theta$ is trained to minimise the mean of
# $\varepsilon(\mathcal G_\theta(a_j), u_j)$ over the training pairs $(a_j, u_j)$.
#
# LSM is a U-Net whose features pass through *neural spectral blocks*: the feature map is cut
# into patches, a few latent tokens attend to each patch, the tokens $z$ are transformed with a
# learned sine/cosine basis expansion,
#
# $$ z \mapsto z + \sum_{k=0}^{K-1} \big( W_k^{\sin} \sin(w_k z) + W_k^{\cos} \cos(w_k z) \big),
#    \qquad w_k = \frac{\pi k}{K}, $$
#
# and the pixels attend back. The FNO instead multiplies the lowest Fourier modes of each
# layer by learned weights, $v \mapsto \sigma\big(W v + \mathcal F^{-1}(R \cdot \mathcal F v)\big)$. Patch sizes and padding
# follow from the input shape. The Trainer normalises inputs and outputs (the normalisers are
# saved with the model), uses relative L2 per sample as the loss, holds out a validation split
# and keeps the best-validation weights. We train neuraloperator's FNO with the same settings
# for comparison.

# %%
cfg = TrainConfig(
    epochs=EPOCHS, batch_size=8, lr=3e-3, val_fraction=0.1, progress=not SMOKE, seed=0
)
models = {
    "LSM": build(
        "lsm", in_channels=1, out_channels=1, width=16, heads=4, levels=2 if SMOKE else 3, patches=2
    ),
    "FNO": build("fno", in_channels=1, out_channels=1, width=24, modes=8 if SMOKE else 12),
}
ops, test_l2 = {}, {}
for name, model in models.items():
    trainer = Trainer(model, cfg, out_dir=OUT / f"{name.lower()}_run")
    trainer.fit((x_train, y_train))
    ops[name] = trainer.operator
    test_l2[name] = evaluate(ops[name], x_test, y_test).mean().item()
    print(f"{name}: test relative L2 = {test_l2[name]:.4f} (baseline {baseline:.3f})")

# %% [markdown]
# ## 3. Where are the errors?
#
# The mean hides the spread: the histogram shows how errors are distributed over test samples,
# and the worst sample shows where the model struggles (typically along the jumps of `a`).

# %%
op = ops["LSM"]
errors = evaluate(op, x_test, y_test)
pred = predict(op, x_test)
worst = int(errors.argmax())
fig, axs = plt.subplots(2, 3, figsize=(12, 7))
axs = axs.ravel()
axs[5].set_axis_off()
axs[0].hist(errors.numpy(), bins=10)
axs[0].set_xlabel("LSM test relative L2 per sample")
panels = [
    (x_test[worst, 0], "coefficient a"),
    (y_test[worst, 0], "FEniCSx u"),
    (pred[worst, 0], "LSM u"),
    (pred[worst, 0] - y_test[worst, 0], "error"),
]
for ax, (img, title) in zip(axs[1:5], panels):
    im = ax.imshow(img.numpy().T, origin="lower", cmap="RdBu_r")
    ax.set_title(f"worst sample: {title}")
    fig.colorbar(im, ax=ax, shrink=0.8)
fig.tight_layout()
fig.savefig(OUT / "neural_operator_darcy_errors.png", dpi=90)
plt.close(fig)

# %% [markdown]
# ## 4. Another resolution
#
# The models were trained on a `RES x RES` grid. New FEniCSx data on a grid with twice the
# resolution (`2 RES - 1` points per side, the same box) goes straight into the same models.
# Both run (LSM derives its patches and padding per call), but they behave differently: the
# FNO's spectral layers act on Fourier modes, which mean the same thing on any grid, while
# LSM's U-Net convolutions have a fixed size *in pixels*, so on a finer grid they see a
# smaller physical neighbourhood. The second way to use a grid-bound model on finer data is
# to resample the input to the training grid with `Grid.resample`, predict there and resample
# the prediction back.

# %%
fine_res = 2 * RES - 1
fine_path = OUT / f"darcy_pwc_{fine_res}.h5"
if not fine_path.exists():
    generate(
        "darcy-pwc",
        N_TEST,
        fine_path,
        params={"resolution": fine_res, "store_mesh_values": False},
        seed=10_000,  # samples never seen in training
    )
x_fine, y_fine, _ = load_dataset_file(fine_path)
fine_grid = grid.with_shape((fine_res, fine_res))
fine_l2, via_l2 = {}, {}
for name, op in ops.items():
    fine_l2[name] = evaluate(op, x_fine, y_fine).mean().item()
    coarse_in = fine_grid.resample(x_fine.double(), grid).float()
    back = grid.resample(predict(op, coarse_in).double(), fine_grid).float()
    via_l2[name] = relative_l2(back, y_fine).item()
    print(
        f"{name}: {RES}x{RES} {test_l2[name]:.4f} | {fine_res}x{fine_res} directly "
        f"{fine_l2[name]:.4f} | via the training grid {via_l2[name]:.4f}"
    )

# %% [markdown]
# The headline: the trained LSM is far better than the baseline at its training resolution;
# on the finer grid the FNO (applied directly) and LSM (through the training grid) stay
# useful.

# %%
assert test_l2["LSM"] < 0.5 * baseline, (test_l2, baseline)
assert fine_l2["FNO"] < baseline and via_l2["LSM"] < baseline, (fine_l2, via_l2, baseline)

# %% [markdown]
# ## Exercises
#
# 1. Train both models for twice as many epochs. Which one gains more, and does the gap to
#    the mean-solution baseline keep growing?
# 2. The worst test sample above: is its coefficient unusual (count the interfaces, or the
#    fraction of $a = 12$)? Plot the error against that fraction for all test samples.
# 3. Evaluate the trained FNO on data at resolution `4 * RES - 3` directly and through the
#    training grid. Why does the FNO transfer across resolutions, and what limits the
#    accuracy of the resampling route?
