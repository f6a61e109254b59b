"""The eight OpenFWI-family recipes: our statistics next to OpenFWI's published ones."""

import numpy as np
import pytest
import torch

from sciml.datasets import get_recipe
from sciml.datasets.seismic import OPENFWI_STATISTICS, openfwi_splits
from sciml.physics.seismic.velocity_models import OPENFWI_FAMILIES, openfwi_grid, openfwi_velocity

FAMILIES = sorted(OPENFWI_FAMILIES)


def test_velocity_statistics_match_the_published_ones():
    grid = openfwi_grid()
    rows = []
    for fam in FAMILIES:
        v = openfwi_velocity(fam, grid, range(1000))
        pub = OPENFWI_STATISTICS[fam]
        rows.append((fam, v.mean().item(), pub["label_mean"], v.std().item(), pub["label_std"]))
    print("\nfamily          mean ours / OpenFWI     std ours / OpenFWI (m/s)")
    for fam, m, pm, s, ps in rows:
        print(f"{fam:14s}  {m:7.1f} / {pm:7.1f}     {s:6.1f} / {ps:6.1f}")
    for fam, m, pm, s, ps in rows:
        assert abs(m - pm) / pm < 0.025, (fam, m, pm)  # 2.1 % worst (FlatFault-B)
        assert abs(s - ps) / ps < 0.03, (fam, s, ps)  # 2.4 % worst (CurveFault-B)


def test_seismic_statistics_match_the_published_ones():
    # the full OpenFWI acquisition (1000 steps, 120-cell damping layer)
    # for one A and one B family (two maps each); the published values come from the released sets
    stats = {}
    for fam in ("flatvel-a", "curvevel-b"):
        rec = get_recipe(f"seismic-{fam}")
        d = torch.as_tensor(rec.worker(rec.params())(np.array([101, 102])).outputs)
        stats[fam] = (d.std().item(), d.mean().item(), d.min().item(), d.max().item())
    print("\nfamily         seismic std ours / OpenFWI   min, max ours / OpenFWI")
    for fam, (s, m, lo, hi) in stats.items():
        pub = OPENFWI_STATISTICS[fam]
        print(
            f"{fam:14s} {s:.3f} / {pub['data_std']:.3f}    ({lo:.1f}, {hi:.1f}) / "
            f"({pub['data_min']:.1f}, {pub['data_max']:.1f})"
        )
        # amplitude convention and scheme: the standard deviation within 15 % (2 maps; 3 %
        # and 7 % off measured on 6); the published extremes bound ours (the sets hold 30k maps)
        assert abs(s - pub["data_std"]) / pub["data_std"] < 0.15, (fam, s)
        assert abs(m) < 0.01 * s
        assert pub["data_min"] * 1.1 < lo < 0 < hi < pub["data_max"] * 1.1


@pytest.mark.parametrize("fam", FAMILIES)
def test_recipe_shapes_range_and_seeded_reproducibility(fam):
    rec = get_recipe(f"seismic-{fam}")
    p = rec.params({"nt": 60, "resolution": 24, "nbc": 10})
    assert rec.shapes(p) == ((1, 24, 24), (5, 60, 24))
    run = rec.worker(p)
    a = run(np.array([3, 4]))
    b = run(np.array([4]))
    assert a.inputs.shape == (2, 1, 24, 24) and a.outputs.shape == (2, 5, 60, 24)
    assert np.array_equal(a.inputs[1:], b.inputs)
    assert np.allclose(a.outputs[1:], b.outputs, rtol=1e-5, atol=1e-6 * np.abs(b.outputs).max())
    assert a.inputs.min() >= 1500 and a.inputs.max() <= 4500
    if fam == "flatvel-a":  # A: velocity grows with depth
        assert (np.diff(a.inputs[:, 0], axis=1) >= 0).all()
    with pytest.raises(ValueError, match="order"):
        rec.params({"order": 5})


def test_splits_carve_validation_from_training():
    s = openfwi_splits(600)
    assert [len(s[k]) for k in ("train", "val", "test")] == [432, 48, 120]
    assert s["test"].tolist() == list(range(480, 600))  # the last files, as OpenFWI
    assert not set(s["train"]) & set(s["val"]) and max(s["val"]) < 480
    with pytest.raises(ValueError, match="val and test"):
        openfwi_splits(10, val=0.5, test=0.6)
