"""LSM's neural spectral blocks use ``F.scaled_dot_product_attention`` (fused kernels on GPU):
the result equals the textbook ``softmax(q k^T / sqrt(d)) v`` to 1e-5, and forcing the unfused
math backend (the throughput sweep's ``sdpa=math`` row) changes nothing on the CPU."""

import math

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

import sciml.operators.grid.lsm as lsm_module
from sciml.operators.grid.lsm import LSM


def explicit_attention(q, k, v):
    """``softmax(q k^T / sqrt(d)) v`` written out: ``[M, h, Lq, d]``."""
    w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return w @ v


@pytest.mark.parametrize("shape", [(2, 1, 21, 13), (1, 1, 33, 33)])
def test_fused_attention_equals_explicit_attention(shape, monkeypatch):
    torch.manual_seed(0)
    model = LSM(1, 1, width=16, heads=4, levels=2, tokens=3, basis=5, patches=2).eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        fused = model(x)
        with sdpa_kernel([SDPBackend.MATH]):
            math_backend = model(x)
        monkeypatch.setattr(lsm_module.F, "scaled_dot_product_attention", explicit_attention)
        explicit = model(x)
    scale = explicit.abs().max()
    assert (fused - explicit).abs().max() / scale < 1e-5
    assert (math_backend - explicit).abs().max() / scale < 1e-5


def test_gradients_agree_with_explicit_attention(monkeypatch):
    torch.manual_seed(1)
    model = LSM(1, 1, width=8, heads=2, levels=2, tokens=2, basis=4, patches=2)
    x = torch.randn(2, 1, 16, 16)

    def grads():
        model.zero_grad()
        model(x).square().mean().backward()
        return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    g_fused = grads()
    monkeypatch.setattr(lsm_module.F, "scaled_dot_product_attention", explicit_attention)
    g_explicit = grads()
    assert (g_fused - g_explicit).norm() / g_explicit.norm() < 1e-5
