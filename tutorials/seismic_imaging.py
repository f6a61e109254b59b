# %% [markdown]
# # Seeing below the surface: seismic imaging with a network, refined by the wave equation
#
# A seismic survey fires sources at the surface and records the ground's motion at a line of
# receivers. The recorded *shot gathers* `p[s, t, r]` (source `s`, time `t`, receiver `r`) are
# the solution, at the surface, of the constant-density acoustic wave equation
#
# $$ \frac{1}{v(x)^2}\,\partial_t^2 p - \Delta p = w(t)\,\delta(x - x_s), $$
#
# with a Ricker wavelet `w` (15 Hz) and the unknown velocity `v(x)` of the rock below.
# *Forward modelling* maps `v` to `p` (a PDE solve); *imaging* (the inverse problem) maps
# the gathers back to `v`. Two ways to image:
#
# * **a trained network** (here GFI's *Latent U-Net*, Gupta et al., ICLR 2025): encoders bring
#   the gathers `[S, nt, R]` to a latent grid, a U-Net translates them to the velocity's latent
#   space, a decoder draws the velocity map. One forward pass, but only as good as the data
#   it has seen;
# * **full-waveform inversion (FWI)**: minimise the data misfit
#   $J(v) = \|F(v) - p_{obs}\|^2 / \|p_{obs}\|^2$ through the propagator `F`, with the
#   gradient from autograd through every time step. Physics-exact, but non-convex: from a
#   start whose arrivals are off by more than half a period it "cycle-skips" into a wrong
#   minimum.
#
# The combination is natural: the network's estimate is the *starting model* of a few FWI
# iterations, which correct what the network got wrong by fitting the actual data. We will
#
# 1. simulate a survey over CurveVel-B-like models with our torch propagator (the OpenFWI
#    scheme: 8th order in space, 2nd in time, damping absorbing layer),
# 2. train a Latent U-Net (inverse direction) with the shared Trainer and `SeismicImagingTask`,
# 3. refine its estimate with FWI, against a network-free linear-in-depth start,
# 4. look at the images, and run the same refinement from the command line.

# %%
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from sciml.datasets import GridDataset, generate
from sciml.datasets.seismic import openfwi_splits
from sciml.inverse.seismic_refinement import acquisition_from_meta, refine_with_fwi
from sciml.operators.registry import build
from sciml.operators.seismic.imaging_task import SeismicImagingTask, load_imaging_model
from sciml.operators.seismic.normalization import imaging_metrics
from sciml.train import TrainConfig, Trainer

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
OUT = Path(os.environ.get("SCIML_TUTORIAL_OUT", "."))
torch.set_num_threads(1 if SMOKE else 2)
torch.manual_seed(0)
# smoke: a 24 x 24 model (240 m), 3 shots, 0.3 s of data, a 20-cell absorbing layer;
# full: the OpenFWI acquisition (70 x 70 at 10 m, 5 shots, 1 s at 1 ms, 120-cell layer)
if SMOKE:
    PARAMS = {"resolution": 24, "nt": 300, "nbc": 20, "n_sources": 3}
    FAMILY, N, EPOCHS, BUDGET, FWI_ITERS, STRIDE = "curvevel-a", 64, 60, None, 6, 2
else:
    PARAMS = {}
    FAMILY, N, EPOCHS, BUDGET, FWI_ITERS, STRIDE = "curvevel-b", 400, 10_000, 900.0, 15, 4
COMPILE = False if SMOKE else None  # torch.compile of the time step pays off on long runs

# %% [markdown]
# ## 1. A survey
#
# The `seismic-curvevel-b` recipe draws layered velocity models whose interfaces are bent by
# a common sinusoid (OpenFWI's CurveVel-B statistics: many layers, strong contrasts; the
# smoke run uses the milder CurveVel-A on a small grid so a few epochs give a usable network) and
# simulates the gathers with `sciml.physics.seismic.acoustic_fd.simulate_fd`, a pure-torch batched
# propagator (it runs on a GPU without any other package). The split follows OpenFWI: the last
# 20 % of the samples are the test set; a validation subset is carved from the rest, so the
# model is selected without looking at the test set.

# %%
data_file = OUT / f"{FAMILY}_{N}.h5"
if not data_file.exists():
    generate(f"seismic-{FAMILY}", N, data_file, params=PARAMS, progress=False)
ds = GridDataset(data_file)
v_all = torch.as_tensor(ds.inputs_array()).float()  # [N, 1, nz, nx] m/s
p_all = torch.as_tensor(ds.outputs_array()).float()  # [N, S, nt, R]
split = openfwi_splits(N)
print(f"{N} samples: velocity {list(v_all.shape[1:])}, gathers {list(p_all.shape[1:])}; "
      f"train/val/test = {[len(split[k]) for k in ('train', 'val', 'test')]}")  # fmt: skip

fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
im = axes[0].imshow(v_all[0, 0], cmap="viridis")
axes[0].set_title("velocity (m/s)")
fig.colorbar(im, ax=axes[0], shrink=0.8)
g = p_all[0, p_all.shape[1] // 2]
axes[1].imshow(g, aspect="auto", cmap="gray", vmin=-0.05 * g.abs().max(), vmax=0.05 * g.abs().max())
axes[1].set_title("middle shot gather (time down)")
axes[1].set_xlabel("receiver")
fig.tight_layout()
fig.savefig(OUT / "seismic_survey.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## 2. Train the inverse network
#
# The Latent U-Net reads gathers `[S, nt/k, R]` (every `k`-th time sample: the 15 Hz wavelet
# holds no energy above ~50 Hz, so coarser sampling loses little) and predicts the velocity
# min-max normalised from [1500, 4500] m/s to [-1, 1]. `SeismicImagingTask` holds the data,
# z-scores the gathers with the training split's statistics and trains on
# `L1 + L2 + w (1 - SSIM)` of the normalised fields; it stores the normalisation in the
# model file so the run is self-contained.

# %%
S, NT, R = p_all.shape[1], p_all.shape[2] // STRIDE, p_all.shape[3]
RES = v_all.shape[-1]
if SMOKE:
    kw = dict(latent_channels=8, latent_size=RES, width=8, widths=(4, 8, 8, 8))
else:
    kw = dict(latent_channels=16, latent_size=64, width=32)
model = build("latent-unet", shots=S, nt=NT, receivers=R, size=RES, directions=("inverse",), **kw)


def part(name):
    idx = torch.as_tensor(split[name])
    return v_all[idx], p_all[idx][:, :, ::STRIDE].contiguous()


cfg = TrainConfig(epochs=EPOCHS, time_budget=BUDGET, batch_size=8, lr=2e-3, weight_decay=1e-4,
                  scheduler="onecycle", seed=0, progress=False)  # fmt: skip
run = OUT / "seismic_run"
Trainer(model, cfg, task=SeismicImagingTask(ssim_weight=0.1), out_dir=run, device="cpu").fit(
    part("train"), part("val")
)
model, norm, _ = load_imaging_model(run / "model.pt")
v_test, p_test = part("test")
with torch.no_grad():
    pred = model(norm.seismic(p_test), direction="inverse")
test = imaging_metrics(pred, norm.velocity(v_test))
print(f"test: MAE {test['mae']:.4f} (normalised; x1500 m/s), SSIM {test['ssim']:.3f}")

# %% [markdown]
# ## 3. Refine with full-waveform inversion
#
# `refine_with_fwi` predicts the velocity from the observed (full-rate) gathers and runs FWI
# from it: Adam on the velocity in m/s (each step moves every cell by about `lr` m/s, which
# sidesteps the gradient's huge range between shallow and deep cells), velocities clipped to
# [1500, 4500] m/s. `acquisition_from_meta` rebuilds the exact grid, survey and scheme the data
# were made with from the data file's metadata. For comparison the same number of FWI steps
# starts from a 1-D model growing linearly with depth between the network's mean top and
# bottom velocities. On the smoke run's small, mildly curved models that ramp is already a
# good start (a few layers, 240 m deep); on CurveVel-B at the OpenFWI scale (many strong
# layers, 700 m) it cycle-skips, which `benchmarks/gfi_seismic.py` measures.

# %%
test_idx = split["test"][:2].tolist()
sub = ds.subset(test_idx)
grid, survey, scheme = acquisition_from_meta(sub.meta)
v_true = torch.as_tensor(sub.inputs_array()).float()
observed = torch.as_tensor(sub.outputs_array()).float()
res = refine_with_fwi(model, norm, observed, grid, survey, true_velocity=v_true,
                      iterations=FWI_ITERS, lr=40.0, compile=COMPILE, **scheme)  # fmt: skip
for label in ("network", "linear"):
    r = res.report[label]
    print(f"FWI from the {label} start: MAE {r['mae_before']:.4f} -> {r['mae_after']:.4f}, "
          f"SSIM {r['ssim_before']:.3f} -> {r['ssim_after']:.3f}, data misfit "
          f"{r['misfit'][0]:.3g} -> {r['misfit'][-1]:.3g} ({r['seconds']:.0f} s)")  # fmt: skip

net = res.report["network"]
# headline: the physics improves the network's image (smoke run measured: misfit 0.014 ->
# 0.003, MAE 0.173 -> 0.155 in 6 steps)
assert net["misfit"][-1] < 0.5 * net["misfit"][0], net["misfit"]
assert net["mae_after"] < 0.95 * net["mae_before"], net

# %% [markdown]
# ## 4. The images

# %%
cols = [("true", v_true), ("network", res.network), ("network + FWI", res.refined),
        ("linear + FWI", res.linear)]  # fmt: skip
fig, axes = plt.subplots(len(test_idx), 4, figsize=(10, 2.5 * len(test_idx)), squeeze=False)
for i in range(len(test_idx)):
    for j, (title, v) in enumerate(cols):
        im = axes[i, j].imshow(v[i, 0], vmin=1500, vmax=4500, cmap="viridis")
        axes[i, j].set_xticks([])
        axes[i, j].set_yticks([])
        if i == 0:
            axes[i, j].set_title(title)
fig.colorbar(im, ax=axes, shrink=0.8, label="velocity (m/s)")
fig.savefig(OUT / "seismic_refinement.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## 5. The same from the command line
#
# `sciml invert seismic RUN_DIR --data FILE --out DIR` does steps 3-4 for a trained run and a
# data file and writes `velocity.npz`, `report.json` and `refinement.png` (it refuses to
# overwrite results without `--overwrite`).

# %%
cli = [sys.executable, "-m", "sciml.cli", "invert", "seismic", str(run), "--data",
       str(data_file), "--out", str(OUT / "seismic_cli"), "--samples",
       ",".join(map(str, test_idx[:1])), "--iterations", "2", "--lr", "40", "--no-linear",
       "--device", "cpu", "--overwrite"] + (["--no-compile"] if SMOKE else [])  # fmt: skip
print(subprocess.run(cli, check=True, capture_output=True, text=True).stdout)
report = json.loads((OUT / "seismic_cli" / "report.json").read_text())
assert report["network"]["misfit"][-1] < report["network"]["misfit"][0]

# %% [markdown]
# ## Exercises
#
# 1. Run FWI for more iterations from both starts and plot the misfit curves. Does the linear
#    start catch up, or does it stall in a cycle-skipped minimum at depth?
# 2. Lower the wavelet frequency in the FWI (simulate the observed data with `freq=8`):
#    longer periods make the misfit less non-convex. What happens to the linear start?
# 3. Train on `seismic-flatvel-b` and image CurveVel-B gathers (zero-shot). How much of the
#    network's loss does FWI recover?
# 4. Replace the Latent U-Net with `build("xnet", ...)` (one invertible network for both
#    directions) and train it with `SeismicImagingTask(cycle_weight=1.0)`.
