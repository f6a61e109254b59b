import torch

from sciml.operators.registry import build


def test_fno_drops_its_cached_grid_when_moved():
    # neuraloperator caches the positional-embedding grid on the first call's device; a later
    # .to(device) must not reuse it (on a GPU that was a device-mismatch error)
    model = build("fno", in_channels=1, out_channels=1, width=8, modes=4)
    x = torch.rand(2, 1, 16, 16)
    y = model(x)
    cached = [m for m in model.modules() if hasattr(m, "_grid")]
    assert cached and cached[0]._grid is not None
    model.to("cpu")
    assert cached[0]._grid is None
    assert torch.allclose(model(x), y)
