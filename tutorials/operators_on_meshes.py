# %% [markdown]
# # Neural operators on meshes
#
# FEniCSx solves PDEs on unstructured meshes, and every sample of a data set with varying
# geometry has a mesh of its own: different nodes, a different number of them. The grid
# operators of the previous lessons (FNO, LSM) need a fixed grid. This lesson trains
# operators that take the mesh as it is,
#
# $$ \mathcal G_\theta : \big(\{x_i\}_{i=1}^{N},\ \{a(x_i)\}_{i=1}^{N}\big) \mapsto \{u(x_i)\}_{i=1}^{N},
#    \qquad N \text{ different for every sample}, $$
#
# and compares them with the grid route (resample to a grid, run an FNO, interpolate back).
#
# The problem is Stokes flow through randomly bent and necked channels (the `stokes-pipe`
# recipe, in the spirit of the published Pipe task): the *geometry is the input*, the
# velocity the output. Each sample is one FEniCSx Taylor-Hood (P2-P1) solve of
#
# $$ -\nu \Delta u + \nabla p = 0, \qquad \nabla\cdot u = 0, $$
#
# with a parabolic inflow on the left, no slip on the walls and a free outflow on the right.
#
# We will
# 1. generate the data and read it as *mesh samples* (nodes, cells, nodal fields);
# 2. batch point sets of different sizes with padding and masks;
# 3. train a physics-attention operator (Transolver) with the same `Trainer` as every other
#    model, and an FNO on the resampled grid, both scored on the mesh nodes;
# 4. apply the trained operator to **finer meshes of the same channels**.

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from sciml.datasets import generate
from sciml.datasets.mesh_files import read_mesh_samples
from sciml.datasets.mesh_grid import bounding_grid, grid_to_nodes, nodal_to_grid
from sciml.datasets.point_batch import pad_point_sets
from sciml.operators.mesh import MeshTask, evaluate_mesh, predict_mesh
from sciml.operators.registry import build
from sciml.train import TrainConfig, Trainer, predict, relative_l2

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = Path(os.environ.get("SCIML_TUTORIAL_OUT", "."))
torch.set_num_threads(1 if SMOKE else min(4, torch.get_num_threads()))
N_TRAIN, N_TEST, STEPS = (40, 8, 600) if SMOKE else (200, 40, 3000)
MESH = {"mesh_nx": 24, "mesh_ny": 6} if SMOKE else {"mesh_nx": 48, "mesh_ny": 12}
torch.manual_seed(0)

# %% [markdown]
# ## 1. Fields on meshes
#
# `generate` runs one FEniCSx solve per sample (seeded, resumable, the same under `mpirun`)
# and stores, for every sample `i`, its mesh and nodal velocity under `/meshes/<i>` (plus a
# grid view for grid operators). `read_mesh_samples` gives them back as `MeshSample`s: the
# nodes `[N, 2]`, the cells, nodal inputs `[C_in, N]` (none here: the geometry is the input)
# and nodal outputs `[2, N]`. The test channels are drawn from other seeds than the training
# ones, and a second test file holds **the same test channels on meshes twice as fine**.

# %%
params = {"resolution": 32, **MESH}
fine = {"resolution": 32, "mesh_nx": 2 * MESH["mesh_nx"], "mesh_ny": 2 * MESH["mesh_ny"]}
files = {
    "train": (OUT / "pipe_train.h5", N_TRAIN, params, 0),
    "test": (OUT / "pipe_test.h5", N_TEST, params, 1),
    "fine": (OUT / "pipe_test_fine.h5", N_TEST, fine, 1),
}
for path, n, p, seed in files.values():
    if not path.exists():
        generate("stokes-pipe", n, path, params=p, seed=seed, progress=False)
train_s, meta = read_mesh_samples(files["train"][0])
test_s, _ = read_mesh_samples(files["test"][0])
fine_s, _ = read_mesh_samples(files["fine"][0])
print(meta["mesh_fields"])
print(
    f"{len(train_s)} training channels of {train_s[0].num_points} nodes; the fine test "
    f"meshes have {fine_s[0].num_points}"
)

fig, axs = plt.subplots(3, 1, figsize=(8, 6))
for ax, s in zip(axs, train_s[:3]):
    speed = np.linalg.norm(s.outputs, axis=0)
    im = ax.tripcolor(s.points[:, 0], s.points[:, 1], s.cells, speed, shading="gouraud")
    ax.triplot(s.points[:, 0], s.points[:, 1], s.cells, lw=0.2, color="w", alpha=0.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
fig.colorbar(im, ax=axs, shrink=0.6, label="speed |u|")
fig.savefig(OUT / "operators_on_meshes_data.png", dpi=90)
plt.close(fig)

# %% [markdown]
# ## 2. Batches of point sets
#
# Samples of different sizes are batched by padding to the largest $N$ of the batch with a
# boolean mask $m_i$ (True on real nodes). Every mesh operator takes
# `(points [B, N, 2], x [B, C_in, N], mask [B, N])` and returns `[B, C_out, N]`; padded nodes
# never influence real ones and come out as zero, and the loss is the relative $L^2$ error
# over the real nodes of each sample,
#
# $$ \varepsilon_b = \frac{\big(\sum_i m_{bi}\, |\hat u_{bi} - u_{bi}|^2\big)^{1/2}}
#                         {\big(\sum_i m_{bi}\, |u_{bi}|^2\big)^{1/2}}. $$

# %%
batch = pad_point_sets([train_s[0], fine_s[0]])
print(
    "points",
    tuple(batch.points.shape),
    "outputs",
    tuple(batch.outputs.shape),
    "nodes per sample",
    batch.counts.tolist(),
)

# %% [markdown]
# ## 3. Physics attention, and the grid route
#
# Attention among all $N$ nodes costs $O(N^2)$. *Physics attention* (Transolver) lets every
# node $i$ spread itself over $M \ll N$ learned **slices** with weights
# $w_{i} = \mathrm{softmax}(W f_i / \tau) \in \mathbb R^M$, forms one **token** per slice as
# the weighted mean
#
# $$ z_j = \frac{\sum_i w_{ij} f_i}{\sum_i w_{ij}}, $$
#
# runs ordinary attention among the $M$ tokens, and scatters them back with the same weights,
# $f_i' = \sum_j w_{ij} z_j'$. The cost is $O(NM + M^2)$. The means are weighted by the nodes'
# quadrature weights $v_i$ (their share of the cells' areas, `batch.weights`), so a token is
# a mean over the *domain*, and a finer mesh of the same geometry gives nearly the same
# tokens. Two settings make the short training here work: sharper slices at the start
# (`temperature=0.1`, where the paper starts at 0.5: with soft slices every token is nearly
# the global mean, and training sits on a plateau first) and a sine/cosine embedding of the
# coordinates (`fourier=4`).
#
# The grid route: each channel becomes `[mask, ...]` on a box grid, an FNO maps it to the
# velocity on the grid, and its prediction is interpolated back to the nodes, where it is
# scored like the mesh operator.

# %%
cfg = TrainConfig(epochs=10**6, max_steps=STEPS, batch_size=4, lr=2e-3, val_fraction=0.125,
                  progress=False, seed=0)  # fmt: skip
n_val = 5 if SMOKE else 25
width = 32 if SMOKE else 96
transolver = build("transolver", in_channels=0, out_channels=2, width=width, layers=3 if SMOKE else 6,
                   heads=4, slices=16 if SMOKE else 32, temperature=0.1, fourier=4)  # fmt: skip
trainer = Trainer(transolver, cfg, task=MeshTask())
trainer.fit(train_s[:-n_val], train_s[-n_val:])
ts = trainer.module.eval()
err_ts = evaluate_mesh(ts, pad_point_sets(test_s))

grid = bounding_grid(train_s + test_s + fine_s, (32, 12))  # the box around every channel


def grid_view(samples):
    pairs = [nodal_to_grid(s, grid) for s in samples]
    return (torch.as_tensor(np.stack([p[0] for p in pairs])),
            torch.as_tensor(np.stack([p[1] for p in pairs])))  # fmt: skip


def on_nodes(op, samples):
    pred = predict(op, grid_view(samples)[0]).double()
    return torch.stack([
        relative_l2(grid_to_nodes(p[None], grid, s.points), torch.as_tensor(s.outputs[None], dtype=torch.float64))
        for p, s in zip(pred, samples)
    ])  # fmt: skip


torch.manual_seed(0)
fno = build(
    "fno", in_channels=1, out_channels=2, width=16 if SMOKE else 32, modes=6 if SMOKE else 10
)
trainer_fno = Trainer(fno, cfg)
trainer_fno.fit(grid_view(train_s[:-n_val]), grid_view(train_s[-n_val:]))
err_fno = on_nodes(trainer_fno.module.eval(), test_s)
print(
    f"test relative L2 on the mesh nodes: Transolver {err_ts.mean():.4f}, FNO on a "
    f"{grid.shape[0]}x{grid.shape[1]} grid {err_fno.mean():.4f}"
)

# %% [markdown]
# Where are the errors? The worst test channel, drawn on its own mesh:

# %%
worst = int(err_ts.argmax())
s = test_s[worst]
pred = predict_mesh(ts, pad_point_sets([s]))[0].numpy()
fig, axs = plt.subplots(3, 1, figsize=(8, 6.5))
for ax, (vals, title) in zip(axs, [(np.linalg.norm(pred, axis=0), "Transolver |u|"),
                                   (np.linalg.norm(s.outputs, axis=0), "FEniCSx |u|"),
                                   (np.linalg.norm(pred - s.outputs, axis=0), "|error|")]):  # fmt: skip
    im = ax.tripcolor(s.points[:, 0], s.points[:, 1], s.cells, vals, shading="gouraud")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(f"{title} (worst test channel, relative L2 {err_ts[worst]:.3f})", fontsize=9)
    ax.set_aspect("equal")
    ax.set_axis_off()
fig.tight_layout()
fig.savefig(OUT / "operators_on_meshes_worst.png", dpi=90)
plt.close(fig)

# %% [markdown]
# ## 4. A finer mesh of the same channels
#
# The trained operator runs unchanged on meshes with four times as many nodes (its
# coordinates normaliser and slice means do not care how many points describe the channel);
# the truth there is a new FEniCSx solve on the finer mesh.

# %%
err_fine = evaluate_mesh(ts, pad_point_sets(fine_s))
ratio = float(err_fine.mean() / err_ts.mean())
print(
    f"Transolver: {err_ts.mean():.4f} on the training meshes, {err_fine.mean():.4f} on the "
    f"4x finer ones ({ratio:.2f}x)"
)
assert err_ts.mean() < 0.25, "Transolver should learn the channel flows"
assert ratio < 1.5, "the error on a refined mesh should stay within 1.5x"

# %% [markdown]
# ## What to take away
#
# * A data set of FEniCSx meshes (or your own, written with
#   `sciml.datasets.mesh_files.write_mesh_dataset`) trains mesh operators directly:
#   `sciml train --model transolver --data pipe.h5`, and `sciml eval` draws the errors on the
#   meshes. The same file trains grid operators on its grid view (`--model fno`), scored back
#   on the nodes.
# * `geo-lsm` (LSM through a learned geometry map) and `gino` (neuraloperator's GINO) take the
#   same inputs; `benchmarks/mesh_operators.py` compares all four on `elasticity-holes`,
#   `stokes-pipe` and `darcy-holes`, including refined meshes.
#
# ## Exercises
#
# 1. Train `geo-lsm` and `gino` (`build("geo-lsm", in_channels=0, out_channels=2, ...)`) with
#    the same `MeshTask` and budget. Which is closest to Transolver, and which is fastest?
# 2. Make the FNO's grid finer (`bounding_grid(..., (64, 24))`). How much of its error was the
#    round trip grid -> nodes? (Compare with interpolating the *true* grid field to the nodes.)
# 3. Replace `stokes-pipe` with `darcy-holes`, where a coefficient is a nodal input
#    (`in_channels=1`). Does physics attention still beat the grid route?
