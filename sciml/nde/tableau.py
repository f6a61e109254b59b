"""Butcher tableaus of the explicit embedded Runge-Kutta pairs used by :mod:`sciml.nde`.

Each tableau is a class whose attributes declare its contract (``order``, ``error_order``,
``fsal``, the pair of stages that share an abscissa for Shampine's stiffness estimate);
``tests/nde/test_nde_tableau.py`` measures the order conditions and the convergence order.

Conventions (the same as torchdiffeq's ``_ButcherTableau``)::

    k_1 = f(t0, y0)
    k_i = f(t0 + c_i dt, y0 + dt * sum_j a[i][j] k_j),        i = 2..S
    y1  = y0 + dt * sum_i b_i k_i
    err =      dt * sum_i b_err_i k_i          (b_err = b - b_hat, the embedded difference)

``mid`` holds the dense-output weights at theta = 1/2 (``y(t0 + dt/2) ~ y0 + dt * mid . k``);
together with ``y0, y1, f0, f1`` they fix the quartic interpolant torchdiffeq uses between
steps.
"""

from __future__ import annotations

from typing import ClassVar

import torch

__all__ = ["ButcherTableau", "Dopri5", "Tsit5", "TABLEAUS"]


class ButcherTableau:
    """Base class: an explicit embedded RK pair with first-same-as-last (FSAL) last stage.

    Class attributes (all plain Python floats so they can be cast to any dtype/device):

    * ``order``: classical order of the propagated solution ``y1``.
    * ``error_order``: order of the embedded solution; the local error estimate is
      ``O(dt^(error_order + 1))``.
    * ``c``: ``[S]`` abscissae, ``a``: ``S`` rows (row ``i`` has ``i`` entries), ``b``, ``b_err``,
      ``mid``: ``[S]``.
    * ``fsal``: the last stage is ``f(t1, y1)`` (so ``a[-1] == b``).
    * ``stiffness_stages``: zero-based indices of two stages with the same abscissa (``c = 1``),
      whose difference gives Shampine's estimate of the dominant eigenvalue modulus.
    """

    name: ClassVar[str]
    order: ClassVar[int]
    error_order: ClassVar[int]
    fsal: ClassVar[bool] = True
    c: ClassVar[tuple[float, ...]]
    a: ClassVar[tuple[tuple[float, ...], ...]]
    b: ClassVar[tuple[float, ...]]
    b_err: ClassVar[tuple[float, ...]]
    mid: ClassVar[tuple[float, ...]]
    stiffness_stages: ClassVar[tuple[int, int]]

    @classmethod
    def stages(cls) -> int:
        """Number of stages ``S`` (including the FSAL stage)."""
        return len(cls.c)

    @classmethod
    def tensors(
        cls, dtype: torch.dtype, device: torch.device | str | None = None
    ) -> dict[str, torch.Tensor]:
        """The coefficients as tensors: ``a: [S, S]`` (strictly lower triangular), ``b, b_err,
        c, mid: [S]``."""
        s = cls.stages()
        a = torch.zeros(s, s, dtype=dtype, device=device)
        for i, row in enumerate(cls.a):
            if row:
                a[i, : len(row)] = torch.tensor(row, dtype=dtype, device=device)
        return {
            "a": a,
            "b": torch.tensor(cls.b, dtype=dtype, device=device),
            "b_err": torch.tensor(cls.b_err, dtype=dtype, device=device),
            "c": torch.tensor(cls.c, dtype=dtype, device=device),
            "mid": torch.tensor(cls.mid, dtype=dtype, device=device),
        }


class Dopri5(ButcherTableau):
    """Dormand-Prince 5(4) (Dormand & Prince 1980; Shampine 1986 dense output), as torchdiffeq's
    ``dopri5``."""

    name = "dopri5"
    order = 5
    error_order = 4
    c = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
    a = (
        (),
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
    )
    b = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
    b_err = (
        35 / 384 - 1951 / 21600,
        0.0,
        500 / 1113 - 22642 / 50085,
        125 / 192 - 451 / 720,
        -2187 / 6784 + 12231 / 42400,
        11 / 84 - 649 / 6300,
        -1.0 / 60.0,
    )
    mid = (
        6025192743 / 30085553152 / 2,
        0.0,
        51252292925 / 65400821598 / 2,
        -2691868925 / 45128329728 / 2,
        187940372067 / 1594534317056 / 2,
        -1776094331 / 19743644256 / 2,
        11237099 / 235043384 / 2,
    )
    stiffness_stages = (5, 6)


def _tsit5_mid() -> tuple[float, ...]:
    # Tsitouras' continuous extension b_i(theta) evaluated at theta = 1/2.
    x = 0.5
    return (
        -1.0530884977290216
        * x
        * (x - 1.329989018975412)
        * (x * x - 1.4364028541716351 * x + 0.7139816917074209),
        0.1017 * x * x * (x * x - 2.1966568338249754 * x + 1.2949852507374631),
        2.490627285651252793 * x * x * (x * x - 2.38535645472061657 * x + 1.57803468208092486),
        -16.54810288924490272 * (x - 1.21712927295533244) * (x - 0.61620406037800089) * x * x,
        47.37952196281928122 * (x - 1.203071208372362603) * (x - 0.658047292653547382) * x * x,
        -34.87065786149660974 * (x - 1.2) * (x - 2 / 3) * x * x,
        2.5 * (x - 1) * (x - 0.6) * x * x,
    )


class Tsit5(ButcherTableau):
    """Tsitouras 5(4) (Ch. Tsitouras, Comput. Math. Appl. 62 (2011) 770-775), the default of
    DifferentialEquations.jl and of the regularization papers."""

    name = "tsit5"
    order = 5
    error_order = 4
    c = (0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0)
    a = (
        (),
        (0.161,),
        (-0.008480655492356989, 0.335480655492357),
        (2.8971530571054935, -6.359448489975075, 4.3622954328695815),
        (5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525),
        (
            5.86145544294642,
            -12.92096931784711,
            8.159367898576159,
            -0.071584973281401,
            -0.028269050394068383,
        ),
        (
            0.09646076681806523,
            0.01,
            0.4798896504144996,
            1.379008574103742,
            -3.290069515436081,
            2.324710524099774,
        ),
    )
    b = (
        0.09646076681806523,
        0.01,
        0.4798896504144996,
        1.379008574103742,
        -3.290069515436081,
        2.324710524099774,
        0.0,
    )
    # b - b_hat (Tsitouras' "btilde" with the sign making err = y1 - y1_hat).
    b_err = (
        0.001780011052226,
        0.000816434459657,
        -0.007880878010262,
        0.144711007173263,
        -0.582357165452555,
        0.458082105929187,
        -1.0 / 66.0,
    )
    mid = _tsit5_mid()
    stiffness_stages = (5, 6)


TABLEAUS: dict[str, type[ButcherTableau]] = {"tsit5": Tsit5, "dopri5": Dopri5}
