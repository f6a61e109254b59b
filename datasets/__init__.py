"""Data sets (``sciml.datasets``): recipes that turn the PDE engine into HDF5 files,
resumable/parallel generation, loaders, and readers for outside formats.

Recipes are listed in :mod:`sciml.datasets.recipes` and imported on first use
(:func:`get_recipe`), so importing this package does not import dolfinx.
"""

from sciml.datasets.external import FORMATS, import_file, read_neuralop_pt, read_pdebench
from sciml.datasets.generate import generate
from sciml.datasets.loaders import GridDataset, split_indices
from sciml.datasets.recipe import Recipe, SampleBatch, sample_seeds
from sciml.datasets.recipes import RECIPE_CLASSES, get_recipe, recipe_names
from sciml.datasets.storage import partial_path, read_meta

__all__ = [
    "FORMATS",
    "RECIPE_CLASSES",
    "GridDataset",
    "Recipe",
    "SampleBatch",
    "generate",
    "get_recipe",
    "import_file",
    "partial_path",
    "read_meta",
    "read_neuralop_pt",
    "read_pdebench",
    "recipe_names",
    "sample_seeds",
    "split_indices",
]
