"""Operators on meshes and point clouds, ``(points [B, N, d], x [B, C_in, N], mask [B, N]) ->
[B, C_out, N]`` for any number of points (padded batches, :mod:`sciml.datasets.point_batch`):

* :class:`~sciml.operators.mesh.geo_lsm.GeoLSM` -- LSM on irregular geometry through a learned
  geometry map (deformation + non-uniform Fourier transform to a latent grid);
* :class:`~sciml.operators.mesh.transolver.Transolver` -- physics attention (Wu et al. 2024);
* :class:`~sciml.operators.mesh.gino.GINO` -- neuraloperator's GINO, wrapped;
* :class:`~sciml.operators.mesh.mesh_task.MeshTask` -- their supervised task for the Trainer.
"""

from sciml.operators.mesh.geo_lsm import GeoLSM
from sciml.operators.mesh.gino import GINO
from sciml.operators.mesh.mesh_operator import MeshOperator
from sciml.operators.mesh.mesh_task import MeshTask, evaluate_mesh, predict_mesh
from sciml.operators.mesh.transolver import Transolver

__all__ = [
    "GINO",
    "GeoLSM",
    "MeshOperator",
    "MeshTask",
    "Transolver",
    "evaluate_mesh",
    "predict_mesh",
]
