"""Point operators, queried at any coordinates (a Grid, a Mesh's vertices, points ``[N, d]``):
DeepONet, MultiONet, and DGNO (a generative operator trained without solutions, with its
label-free training task)."""

from sciml.operators.point.deeponet import DeepONet
from sciml.operators.point.dgno import DGNO
from sciml.operators.point.multionet import MultiONet

__all__ = ["DGNO", "DeepONet", "MultiONet"]
