"""Data sets (``sciml.datasets``): recipes that turn the PDE engine into HDF5 files,
resumable/parallel generation, loaders, and readers for outside formats.

Recipes are registered lazily (:func:`get_recipe`), so importing this package does not
import dolfinx.
"""

from sciml.datasets.external import FORMATS, import_file, read_neuralop_pt, read_pdebench
from sciml.datasets.generate import generate
from sciml.datasets.loaders import GridDataset, split_indices
from sciml.datasets.recipe import RECIPES, Recipe, SampleBatch, get_recipe, sample_seeds
from sciml.datasets.show import show_sample
from sciml.datasets.storage import partial_path, read_meta

__all__ = [
    "FORMATS",
    "RECIPES",
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
    "sample_seeds",
    "show_sample",
    "split_indices",
]
