"""mmlt: long-tailed recognition for OpenMMLab MMPretrain.

Importing ``mmlt`` (configs do it with ``custom_imports = dict(imports=['mmlt'])``) registers its
datasets, samplers, transforms, models and metrics in MMPretrain's and MMEngine's registries and
applies the compatibility fixes in :mod:`mmlt.utils.compat`.
"""
from .utils import compat  # noqa: F401,I001  (first: patches before anything loads checkpoints)
from . import datasets, engine, evaluation, models  # noqa: F401
from .version import __version__

__all__ = ['__version__']
